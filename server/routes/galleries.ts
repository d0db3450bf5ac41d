// Galleries and gallery presence:
//   PUT  /api/galleries/:id          create or replace (idempotent by id)
//   GET  /api/galleries/:id          gallery + presence
//   GET  /api/galleries              list
//   GET  /api/galleries/:id/presence
//   GET  /api/galleries/presence?ids=a,b and POST /api/galleries/presence {ids}   batch
import { Hono } from 'hono';
import { z } from 'zod';
import type { ServerDeps } from '../deps.js';
import { notFound } from '../errors.js';
import type { AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { galleryInput, idBatch, idListQuery, idParam, listQuery, MAX_GALLERY_PRESENCE_IDS } from '../schemas.js';
import { getGallery, galleryMemoryIds, listGalleries, upsertGallery } from '../services/galleries.js';
import { galleriesPresence } from '../services/presence.js';

const memberQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export function galleryRoutes(deps: ServerDeps) {
  return new Hono<AppEnv>()
    .get('/presence', validate('query', idListQuery(MAX_GALLERY_PRESENCE_IDS)), async (c) => {
      return c.json({ galleries: await galleriesPresence(deps, c.get('user').id, c.req.valid('query').ids) });
    })
    .post('/presence', validate('json', idBatch(MAX_GALLERY_PRESENCE_IDS)), async (c) => {
      return c.json({ galleries: await galleriesPresence(deps, c.get('user').id, c.req.valid('json').ids) });
    })
    .get('/', validate('query', listQuery), async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const userId = c.get('user').id;
      const page = await listGalleries(deps, userId, limit, cursor);
      const presence = new Map((await galleriesPresence(deps, userId, page.galleries.map((g) => g.id))).map((p) => [p.gallery_id, p]));
      return c.json({ ...page, galleries: page.galleries.map((g) => ({ ...g, presence: presence.get(g.id) ?? null })) });
    })
    .put('/:id', validate('param', idParam), validate('json', galleryInput), async (c) => {
      const { id } = c.req.valid('param');
      const { gallery, created } = await upsertGallery(deps, c.get('user').id, id, c.req.valid('json'));
      return c.json({ gallery, created }, created ? 201 : 200);
    })
    .get('/:id', validate('param', idParam), async (c) => {
      const userId = c.get('user').id;
      const { id } = c.req.valid('param');
      const gallery = await getGallery(deps, userId, id);
      if (!gallery) throw notFound('gallery');
      const [presence] = await galleriesPresence(deps, userId, [id]);
      return c.json({ gallery, presence });
    })
    .get('/:id/memories', validate('param', idParam), validate('query', memberQuery), async (c) => {
      const userId = c.get('user').id;
      const { id } = c.req.valid('param');
      if (!(await getGallery(deps, userId, id))) throw notFound('gallery');
      const { limit, offset } = c.req.valid('query');
      return c.json({ memory_ids: await galleryMemoryIds(deps, userId, id, limit, offset) });
    })
    .get('/:id/presence', validate('param', idParam), async (c) => {
      const { id } = c.req.valid('param');
      const [presence] = await galleriesPresence(deps, c.get('user').id, [id]);
      if (!presence) throw notFound('gallery');
      return c.json(presence);
    });
}
