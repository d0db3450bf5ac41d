// Memories and their presence:
//   PUT  /api/memories/:id           create or update (idempotent by id)
//   GET  /api/memories/:id           metadata + presence
//   GET  /api/memories               list (cursor, limit)
//   GET  /api/memories/:id/presence  presence of one memory
//   GET  /api/memories/presence?ids= and POST /api/memories/presence {ids}  batch
import { Hono } from 'hono';
import type { ServerDeps } from '../deps.js';
import { notFound } from '../errors.js';
import type { AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { idBatch, idListQuery, idParam, listQuery, MAX_PRESENCE_IDS, memoryInput } from '../schemas.js';
import { getMemory, listMemories, upsertMemory } from '../services/memories.js';
import { memoriesPresence } from '../services/presence.js';

export function memoryRoutes(deps: ServerDeps) {
  return new Hono<AppEnv>()
    .get('/presence', validate('query', idListQuery(MAX_PRESENCE_IDS)), async (c) => {
      return c.json({ memories: await memoriesPresence(deps, c.get('user').id, c.req.valid('query').ids) });
    })
    .post('/presence', validate('json', idBatch(MAX_PRESENCE_IDS)), async (c) => {
      return c.json({ memories: await memoriesPresence(deps, c.get('user').id, c.req.valid('json').ids) });
    })
    .get('/', validate('query', listQuery), async (c) => {
      const { limit, cursor } = c.req.valid('query');
      return c.json(await listMemories(deps, c.get('user').id, limit, cursor));
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
    .get('/:id/presence', validate('param', idParam), async (c) => {
      const { id } = c.req.valid('param');
      const [presence] = await memoriesPresence(deps, c.get('user').id, [id]);
      if (!presence) throw notFound('memory');
      return c.json(presence);
    });
}

