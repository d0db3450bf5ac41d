// Storage edges:
//   PUT /api/storage/edges {edges:[...]}  batch upsert (idempotent; ICP
//       presence confirmed by the canister before an icp edge is marked present)
//   GET /api/storage/edges?memory_id&memory_type&backend&artifact&sync_state&present&limit&cursor
import { Hono } from 'hono';
import type { ServerDeps } from '../deps.js';
import type { AppEnv } from '../http/env.js';
import { validate } from '../http/validate.js';
import { edgesBatch, edgesQuery } from '../schemas.js';
import { listEdges, upsertEdges } from '../services/edges.js';

export function edgeRoutes(deps: ServerDeps) {
  return new Hono<AppEnv>()
    .put('/', validate('json', edgesBatch), async (c) => {
      return c.json(await upsertEdges(deps, deps.presenceVerifier, c.get('user'), c.req.valid('json').edges));
    })
    .get('/', validate('query', edgesQuery), async (c) => {
      return c.json(await listEdges(deps, c.get('user').id, c.req.valid('query')));
    });
}
