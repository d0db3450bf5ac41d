// A gallery of 10,000 memories: presence comes from one SQL aggregate (counted
// with Kysely's query log), through the API and the service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../server/db/schema.js';
import { galleriesPresence, memoriesPresence } from '../../server/services/presence.js';
import { ENGINES } from './support/database.js';
import { seedMemories } from './support/seed.js';
import { startTestServer, type TestServer } from './support/server.js';

type Json = Record<string, any>;
const N = 10_000;

describe.each(ENGINES)('gallery presence at 10,000 memories on %s', (engine) => {
  let s: TestServer;
  let cookie: string;
  let userId: string;
  const ids = Array.from({ length: N }, () => uuidv7());
  const galleryId = uuidv7();
  // 60 % complete, 15 % metadata only, 25 % Web2 only.
  const state = (i: number) => (i % 20 < 12 ? 'complete' : i % 20 < 15 ? 'metadata_only' : 'none');

  beforeAll(async () => {
    s = await startTestServer(engine);
    cookie = await s.signIn('scale-user');
    userId = ((await (await s.request('/api/auth/me', { cookie })).json()) as Json).user_id;
    await seedMemories(s.deps.db, userId, ids, state);
    const r = await s.request(`/api/galleries/${galleryId}`, { method: 'PUT', cookie, json: { title: 'Big', memory_ids: ids } });
    expect(r.status).toBe(201);
  });
  afterAll(async () => s?.close());

  it('reports counts, percentage and status through the API', async () => {
    const r = await s.request(`/api/galleries/${galleryId}/presence`, { cookie });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      gallery_id: galleryId,
      total_memories: N,
      icp_complete_memories: 6000,
      icp_any_memories: 7500,
      icp_complete: false,
      icp_any: true,
      icp_complete_percentage: 60,
      storage_status: 'partially_stored',
    });
  });

  it('answers with a single SQL query, whatever the gallery size', async () => {
    const queries: string[] = [];
    // A second Kysely on the same database that logs every statement it runs.
    const logged = new Kysely<Database>({
      dialect:
        engine === 'postgres'
          ? new PostgresDialect({ pool: new pg.Pool({ connectionString: s.db.databaseUrl, max: 1 }) })
          : new SqliteDialect({ database: new SQLite(path.join(s.db.dataDir, 'forever.sqlite')) }),
      log: (e) => {
        if (e.level === 'query') queries.push(e.query.sql);
      },
    });
    try {
      const [p] = await galleriesPresence({ ...s.deps, db: logged }, userId, [galleryId]);
      expect(p.icp_complete_memories).toBe(6000);
      expect(queries).toHaveLength(1);
      queries.length = 0;
      const batch = await memoriesPresence({ ...s.deps, db: logged }, userId, ids.slice(0, 900));
      expect(batch).toHaveLength(900);
      expect(queries).toHaveLength(1);
    } finally {
      await logged.destroy();
    }
  });

  it('answers batch memory presence for 1,000 ids in one request', async () => {
    const r = await s.request('/api/memories/presence', { method: 'POST', cookie, json: { ids: ids.slice(0, 1000) } });
    expect(r.status).toBe(200);
    const { memories } = (await r.json()) as Json;
    expect(memories).toHaveLength(1000);
    expect(memories[0]).toMatchObject({ memory_id: ids[0], meta_icp: true, asset_icp: true, overall_status: 'stored_forever' });
    expect(memories[13]).toMatchObject({ memory_id: ids[13], meta_icp: true, asset_icp: false, overall_status: 'partially_stored' });
    expect(memories[19]).toMatchObject({ memory_id: ids[19], overall_status: 'web2_only' });
    expect(memories.filter((m: Json) => m.overall_status === 'stored_forever')).toHaveLength(600);
  });
});
