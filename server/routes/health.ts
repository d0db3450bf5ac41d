// GET /healthz (liveness + database reachability) and GET /metrics.
import { Hono } from 'hono';
import { sql } from 'kysely';
import type { ServerDeps } from '../deps.js';

export function healthRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  app.get('/healthz', async (c) => {
    try {
      await sql`select 1`.execute(deps.db);
      return c.json({ status: 'ok', engine: deps.engine });
    } catch {
      return c.json({ status: 'unavailable', engine: deps.engine }, 503);
    }
  });
  app.get('/metrics', async (c) => {
    c.header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    return c.body(await deps.metrics.registry.render());
  });
  return app;
}
