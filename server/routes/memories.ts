// Memories, their presence and the library:
//   PUT    /api/memories/:id           create or update (idempotent by id)
//   GET    /api/memories/:id           metadata + presence
//   GET    /api/memories?limit&cursor&type&status&folder_id&order   the library: memories with presence
//   DELETE /api/memories/:id           the memory's Web2 side (idempotent) -> {deleted}
//   GET    /api/memories/:id/presence  presence of one memory
//   GET    /api/memories/presence?ids= and POST /api/memories/presence {ids}  batch
//   PUT    /api/memories/:id/thumbnail raw image/webp|jpeg|png, at most MAX_THUMBNAIL_BYTES
//   GET    /api/memories/:id/thumbnail (ETag, private cache)
// (GET /api/memories/:id/content, the blob copy's bytes, is in server/blob-copy/route.ts.)
import { Hono } from 'hono';
import type { ServerDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { releaseBlobCopy } from '../blob-copy/release.js';
import type { AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { idBatch, idListQuery, idParam, libraryQuery, MAX_PRESENCE_IDS, memoryInput } from '../schemas.js';
import { listLibrary } from '../services/library.js';
import { deleteMemory, getMemory, upsertMemory } from '../services/memories.js';
import { memoriesPresence } from '../services/presence.js';
import { getThumbnail, putThumbnail } from '../services/thumbnails.js';

/** Thumbnails change rarely and are revalidated by ETag after this. */
const THUMBNAIL_MAX_AGE_S = 3600;

export function memoryRoutes(deps: ServerDeps) {
  return new Hono<AppEnv>()
    .get('/presence', validate('query', idListQuery(MAX_PRESENCE_IDS)), async (c) => {
      return c.json({ memories: await memoriesPresence(deps, c.get('user').id, c.req.valid('query').ids) });
    })
    .post('/presence', validate('json', idBatch(MAX_PRESENCE_IDS)), async (c) => {
      return c.json({ memories: await memoriesPresence(deps, c.get('user').id, c.req.valid('json').ids) });
    })
    .get('/', validate('query', libraryQuery), async (c) => {
      const { limit, cursor, type, status, folder_id, order } = c.req.valid('query');
      return c.json(await listLibrary(deps, c.get('user').id, { limit, cursor, type, status, folderId: folder_id, order }));
    })
    .put('/:id', validate('param', idParam), validate('json', memoryInput), async (c) => {
      const { id } = c.req.valid('param');
      const { memory, created } = await upsertMemory(deps, c.get('user').id, id, c.req.valid('json'));
      return c.json({ memory, created }, created ? 201 : 200);
    })
    .get('/:id', validate('param', idParam), async (c) => {
      const userId = c.get('user').id;
      const { id } = c.req.valid('param');
      const memory = await getMemory(deps, userId, id);
      if (!memory) throw notFound('memory');
      const [presence] = await memoriesPresence(deps, userId, [id]);
      return c.json({ memory, presence });
    })
    .delete('/:id', validate('param', idParam), async (c) => {
      const { id } = c.req.valid('param');
      const r = await deleteMemory(deps, c.get('user').id, id);
      if (r.deleted) await releaseBlobCopy(deps, deps.blobStore, r.blobHash, r.queueFiles);
      return c.json({ deleted: r.deleted });
    })
    .get('/:id/presence', validate('param', idParam), async (c) => {
      const { id } = c.req.valid('param');
      const [presence] = await memoriesPresence(deps, c.get('user').id, [id]);
      if (!presence) throw notFound('memory');
      return c.json(presence);
    })
    .put('/:id/thumbnail', validate('param', idParam), async (c) => {
      // The body limit (server/http/body-limits.ts) has bounded the body to MAX_THUMBNAIL_BYTES.
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      const r = await putThumbnail(deps, c.get('user').id, c.req.valid('param').id, c.req.header('content-type'), bytes);
      return c.json(r, r.created ? 201 : 200);
    })
    .get('/:id/thumbnail', validate('param', idParam), async (c) => {
      const t = await getThumbnail(deps, c.get('user').id, c.req.valid('param').id);
      if (!t) throw notFound('thumbnail');
      const headers = {
        'content-type': t.mime_type,
        etag: `"${t.sha256}"`,
        'cache-control': `private, max-age=${THUMBNAIL_MAX_AGE_S}`,
        'x-content-type-options': 'nosniff',
      };
      if (c.req.header('if-none-match') === headers.etag) return c.body(null, 304, headers);
      return c.body(t.bytes as Uint8Array<ArrayBuffer>, 200, { ...headers, 'content-length': String(t.bytes.byteLength) });
    });
}
