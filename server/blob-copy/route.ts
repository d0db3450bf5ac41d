// The blob copy (seed FU-112):
//   POST /api/upload_file?memory_id=<uuid>[&content_hash=<hex>][&bucket=]
//        raw bytes in the body -> 201 stored | 200 already stored |
//        202 {status:"pending_retry", queue_id, storage_status:"pending_retry"}
//   GET  /api/upload_queue/:id  status of a deferred upload
import { Hono } from 'hono';
import type { ServerDeps } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { parseRange } from '../http/range.js';
import { memoryContent } from './content.js';
import type { AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { idParam, uploadQuery } from '../schemas.js';
import { acceptUpload, getQueueItem } from './service.js';

export function uploadRoutes(deps: ServerDeps) {
  return new Hono<AppEnv>()
    .post('/upload_file', validate('query', uploadQuery), async (c) => {
      const query = c.req.valid('query');
      // The body limit (server/http/body-limits.ts) has already bounded the body.
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      const r = await acceptUpload(deps, deps, c.get('user').id, query, bytes);
      if (r.status === 'pending_retry') {
        return c.json(
          { status: 'pending_retry' as const, queue_id: r.queue_id, storage_status: 'pending_retry' as const, content_hash: r.content_hash, byte_size: r.byte_size },
          202,
        );
      }
      return c.json(
        { status: 'stored' as const, storage_status: 'stored' as const, content_hash: r.content_hash, byte_size: r.byte_size, location: r.location, created: r.created },
        r.created ? 201 : 200,
      );
    })
    .get('/memories/:id/content', validate('param', idParam), async (c) => {
      const content = await memoryContent(deps, deps.blobStore, c.get('user').id, c.req.valid('param').id);
      if (content === 'no_memory') throw notFound('memory');
      if (!content) throw new ApiError('NOT_FOUND', 'this memory has no stored blob copy (yet)');
      const etag = `"${content.sha256}"`;
      const headers: Record<string, string> = {
        'content-type': content.contentType,
        etag,
        'accept-ranges': 'bytes',
        'cache-control': 'private, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
        // Whatever the bytes are, they never run as this origin's page.
        'content-security-policy': "sandbox; default-src 'none'",
      };
      if (content.fileName) headers['content-disposition'] = `inline; filename*=UTF-8''${encodeURIComponent(content.fileName)}`;
      if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);
      const range = parseRange(c.req.header('range'), content.size);
      if (range.kind === 'unsatisfiable') {
        c.header('content-range', `bytes */${content.size}`);
        throw new ApiError('RANGE_NOT_SATISFIABLE', `range outside the ${content.size} bytes of this memory`);
      }
      if (content.size === 0) return c.body(null, 200, { ...headers, 'content-length': '0' });
      const [start, end] = range.kind === 'range' ? [range.start, range.end] : [0, content.size - 1];
      const body = deps.blobStore.stream(content.sha256, start, end);
      if (range.kind === 'range') {
        return c.body(body, 206, { ...headers, 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${content.size}` });
      }
      return c.body(body, 200, { ...headers, 'content-length': String(content.size) });
    })
    .get('/upload_queue/:id', validate('param', idParam), async (c) => {
      const item = await getQueueItem(deps, c.get('user').id, c.req.valid('param').id);
      if (!item) throw notFound('upload queue item');
      return c.json(item);
    });
}
