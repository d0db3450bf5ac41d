// The blob copy (seed FU-112):
//   POST /api/upload_file?memory_id=<uuid>[&content_hash=<hex>][&bucket=]
//        raw bytes in the body -> 201 stored | 200 already stored |
//        202 {status:"pending_retry", queue_id, storage_status:"pending_retry"}
//   GET  /api/upload_queue/:id  status of a deferred upload
import { Hono } from 'hono';
import type { ServerDeps } from '../deps.js';
import { notFound } from '../errors.js';
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
    .get('/upload_queue/:id', validate('param', idParam), async (c) => {
      const item = await getQueueItem(deps, c.get('user').id, c.req.valid('param').id);
      if (!item) throw notFound('upload queue item');
      return c.json(item);
    });
}
