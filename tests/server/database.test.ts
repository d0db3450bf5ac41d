// The data layer itself: migrations through `npm run migrate`'s CLI on both
// engines, and PostgreSQL's row-level security and counter functions.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../server/db/database.js';
import { v7 as uuidv7 } from 'uuid';
import { createTestDatabase, ENGINES, type TestDatabase } from './support/database.js';
import { startTestServer, type TestServer } from './support/server.js';

const run = promisify(execFile);

describe.each(ENGINES)('migrate CLI on %s', (engine) => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(engine);
  });
  afterAll(async () => tdb?.drop());

  it('applies the migrations once, then reports up to date', async () => {
    const env = { ...process.env, DATA_DIR: tdb.dataDir, DATABASE_URL: tdb.databaseUrl ?? '' };
    const first = await run(process.execPath, ['--import', 'tsx', 'server/db/migrate-cli.ts'], { env });
    expect(first.stdout).toContain('0001_initial Success');
    const second = await run(process.execPath, ['--import', 'tsx', 'server/db/migrate-cli.ts'], { env });
    expect(second.stdout).toContain(`${engine} database already up to date`);
  });
});

describe('PostgreSQL specifics', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('postgres');
  });
  afterAll(async () => s?.close());

  it('forces row-level security on upload_queue and storage_usage with a service-role policy', async () => {
    const r = await sql<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>`
      select relname, relrowsecurity, relforcerowsecurity from pg_class
      where relname in ('upload_queue', 'storage_usage') order by relname`.execute(s.deps.db);
    expect(r.rows).toEqual([
      { relname: 'storage_usage', relrowsecurity: true, relforcerowsecurity: true },
      { relname: 'upload_queue', relrowsecurity: true, relforcerowsecurity: true },
    ]);
    const policies = await sql<{ tablename: string; policyname: string }>`
      select tablename, policyname from pg_policies where tablename in ('upload_queue', 'storage_usage') order by tablename`.execute(s.deps.db);
    expect(policies.rows).toEqual([
      { tablename: 'storage_usage', policyname: 'storage_usage_service_role' },
      { tablename: 'upload_queue', policyname: 'upload_queue_service_role' },
    ]);
  });

  it('shows another role nothing, even when granted SELECT', async () => {
    const cookie = await s.signIn('rls-user');
    const id = uuidv7();
    await s.request(`/api/memories/${id}`, { method: 'PUT', cookie, json: { memory_type: 'image' } });
    const up = await s.request(`/api/upload_file?memory_id=${id}`, { method: 'POST', cookie, body: new Uint8Array(randomBytes(10)), headers: { 'content-type': 'application/octet-stream' } });
    expect(up.status).toBe(201);
    const role = `forever_t_reader_${randomBytes(4).toString('hex')}`;
    const client = new pg.Client({ connectionString: s.db.databaseUrl });
    await client.connect();
    try {
      await client.query(`create role ${role} nologin`);
      await client.query('begin');
      await client.query(`set local role ${role}`);
      await expect(client.query('select count(*) from storage_usage')).rejects.toThrow(/permission denied/);
      await client.query('rollback');
      await client.query(`grant select on storage_usage, upload_queue to ${role}`);
      await client.query('begin');
      await client.query(`set local role ${role}`);
      expect((await client.query('select count(*)::int as n from storage_usage')).rows[0].n).toBe(0);
      await client.query('rollback');
      expect((await client.query('select count(*)::int as n from storage_usage')).rows[0].n).toBeGreaterThan(0);
    } finally {
      await client.query('rollback').catch(() => {});
      await client.query(`drop owned by ${role}`).catch(() => {});
      await client.query(`drop role if exists ${role}`);
      await client.end();
    }
  });

  it('implements increment_storage_usage and increment_interpretation_count as SQL functions', async () => {
    const cookie = await s.signIn('fn-user');
    const userId = ((await (await s.request('/api/auth/me', { cookie })).json()) as { user_id: string }).user_id;
    const call = async <T>(q: ReturnType<typeof sql<T>>) => (await q.execute(s.deps.db)).rows[0];
    expect(await call(sql<{ t: number }>`select increment_storage_usage(${userId}::uuid, 70) as t`)).toEqual({ t: 70 });
    expect(await call(sql<{ t: number | null }>`select increment_storage_usage(${userId}::uuid, 40, 1, 100) as t`)).toEqual({ t: null });
    expect(await call(sql<{ t: number }>`select increment_storage_usage(${userId}::uuid, 30, 1, 100) as t`)).toEqual({ t: 100 });
    expect(await call(sql<{ t: number }>`select increment_storage_usage(${userId}::uuid, -500, -1) as t`)).toEqual({ t: 0 });
    expect(await call(sql<{ c: number }>`select increment_interpretation_count(${userId}::uuid, 2, '2026-01') as c`)).toEqual({ c: 1 });
    expect(await call(sql<{ c: number }>`select increment_interpretation_count(${userId}::uuid, 2, '2026-01') as c`)).toEqual({ c: 2 });
    expect(await call(sql<{ c: number | null }>`select increment_interpretation_count(${userId}::uuid, 2, '2026-01') as c`)).toEqual({ c: null });
    expect(await call(sql<{ c: number }>`select increment_interpretation_count(${userId}::uuid, 2, '2026-02') as c`)).toEqual({ c: 1 });
  });
});

describe('PostgreSQL connections', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase('postgres');
  });
  afterAll(async () => tdb?.drop());

  async function admin<T>(f: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = new pg.Client({ connectionString: inject('pgUrl') });
    await c.connect();
    try {
      return await f(c);
    } finally {
      await c.end();
    }
  }
  const sessionsOn = (c: pg.Client, db: string) =>
    c.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [db]).then((r) => r.rows[0].n);

  it('survives an idle connection killed by the server, and replaces it', async () => {
    // The idle connection's error reaches the handler instead of crashing the process.
    let report!: (e: Error) => void;
    const reported = new Promise<Error>((resolve) => (report = resolve));
    const handle = openDatabase({ dataDir: tdb.dataDir, databaseUrl: tdb.databaseUrl, onConnectionError: (e) => report(e) });
    try {
      await sql`select 1`.execute(handle.db);
      const name = new URL(tdb.databaseUrl!).pathname.slice(1);
      await admin((c) => c.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]));
      expect((await reported).message).toMatch(/terminating connection/);
      expect((await sql<{ one: number }>`select 1 as one`.execute(handle.db)).rows[0].one).toBe(1);
    } finally {
      await handle.close();
    }
  });

  it('holds no server session once closed', async () => {
    const handle = openDatabase({ dataDir: tdb.dataDir, databaseUrl: tdb.databaseUrl, poolSize: 4 });
    await Promise.all(Array.from({ length: 4 }, () => sql`select pg_sleep(0.01)`.execute(handle.db)));
    const name = new URL(tdb.databaseUrl!).pathname.slice(1);
    expect(await admin((c) => sessionsOn(c, name))).toBeGreaterThan(0);
    await handle.close();
    expect(await admin((c) => sessionsOn(c, name))).toBe(0);
  });
});
