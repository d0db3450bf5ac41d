// Usage and quotas:
//   GET  /api/usage                        bytes, sources, monthly Store Forever ops, limits
//   POST /api/usage/store_forever {id, memory_id?|gallery_id?}
//        counts one Store Forever operation (idempotent by id);
//        STORAGE_QUOTA_EXCEEDED when the monthly limit is reached
import { Hono } from 'hono';
import type { ServerDeps } from '../deps.js';
import type { AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { storeForeverOp } from '../schemas.js';
import { getUsage, recordStoreForeverOp } from '../services/usage.js';

export function usageRoutes(deps: ServerDeps) {
  return new Hono<AppEnv>()
    .get('/', async (c) => c.json(await getUsage(deps, c.get('user').id)))
    .post('/store_forever', validate('json', storeForeverOp), async (c) => {
      const r = await recordStoreForeverOp(deps, c.get('user').id, c.req.valid('json'));
      return c.json(r, r.created ? 201 : 200);
    });
}
