// SIGKILL of the server process while the worker drains the queue: after a
// restart every item is stored exactly once: no item lost, no blob duplicated,
// no temp file left, usage counted once. Real processes, real databases.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { openSession, userForPrincipal } from '../../server/auth/sessions.js';
import { openDatabase, type DatabaseHandle } from '../../server/db/database.js';
import { migrateToLatest } from '../../server/db/migrate.js';
import { SESSION_COOKIE } from '../../server/http/session.js';
import { silentLogger } from '../../server/logging.js';
import { createServerMetrics } from '../../server/metrics.js';
import { DEFAULT_QUOTAS } from '../../server/config.js';
import { createTestDatabase, ENGINES, type TestDatabase } from './support/database.js';

const CHILD = fileURLToPath(new URL('./fixtures/server-process.ts', import.meta.url));
const ITEMS = 12;

interface Child {
  proc: ChildProcess;
  url: string;
}

async function startChild(config: Record<string, unknown>): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, FOREVER_CHILD_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`server child exited early (${code})`)));
  });
  return { proc, url: `http://127.0.0.1:${port}` };
}

async function kill(child: Child): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const exited = new Promise((resolve) => child.proc.once('exit', resolve));
  child.proc.kill('SIGKILL');
  await exited;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(ENGINES)('queue survives SIGKILL during draining on %s', (engine) => {
  let tdb: TestDatabase;
  let handle: DatabaseHandle;
  let base: Record<string, unknown>;
  let cookie: string;
  let userId: string;
  const children: Child[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase(engine);
    handle = openDatabase({ dataDir: tdb.dataDir, databaseUrl: tdb.databaseUrl, poolSize: 2 });
    await migrateToLatest(handle.db);
    const ctx = { db: handle.db, engine: handle.engine, now: () => new Date(), logger: silentLogger, metrics: createServerMetrics(), quotas: DEFAULT_QUOTAS };
    const user = await userForPrincipal(ctx, `crash-${uuidv7()}`);
    userId = user.id;
    cookie = `${SESSION_COOKIE}=${(await openSession(ctx, user.id, 3600_000)).token}`;
    base = {
      dataDir: tdb.dataDir,
      databaseUrl: tdb.databaseUrl,
      blobDir: path.join(tdb.dataDir, 'blobs'),
      queueDir: path.join(tdb.dataDir, 'queue'),
      leaseMs: 400,
      storeDelayMs: 150,
    };
  });
  afterAll(async () => {
    for (const c of children) await kill(c);
    await handle?.close();
    await tdb?.drop();
  });

  const statusCounts = async () => {
    const rows = await handle.db.selectFrom('upload_queue').select(['status']).where('user_id', '=', userId).execute();
    const counts: Record<string, number> = {};
    for (const r of rows) counts[r.status] = (counts[r.status] ?? 0) + 1;
    return counts;
  };

  it('loses nothing and duplicates nothing', async () => {
    // 1. An outage: every upload is deferred to the queue.
    const outage = await startChild({ ...base, mode: 'fail', queueEnabled: false });
    children.push(outage);
    const files = new Map<string, Buffer>();
    for (let i = 0; i < ITEMS; i++) {
      const memoryId = uuidv7();
      const put = await fetch(`${outage.url}/api/memories/${memoryId}`, {
        method: 'PUT',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ memory_type: 'image' }),
      });
      expect(put.status).toBe(201);
      const bytes = randomBytes(32 * 1024 + i);
      const r = await fetch(`${outage.url}/api/upload_file?memory_id=${memoryId}`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      expect(r.status).toBe(202);
      files.set(createHash('sha256').update(bytes).digest('hex'), bytes);
    }
    await kill(outage);
    expect(await statusCounts()).toEqual({ pending: ITEMS });

    // 2. Storage is back but slow; kill the server mid-drain.
    const draining = await startChild({ ...base, mode: 'slow', queueEnabled: true });
    children.push(draining);
    const blobPath = (hash: string) => path.join(tdb.dataDir, 'blobs', hash.slice(0, 2), hash.slice(2, 4), hash);
    // Kill at the worst moment: an item's blob is written but its row not yet
    // marked stored (the slow store stalls right there).
    let inFlight = '';
    await until('a blob written but not committed, after some stored', async () => {
      if (((await statusCounts()).stored ?? 0) < 3) return false;
      const processing = await handle.db.selectFrom('upload_queue').select(['id', 'content_hash']).where('user_id', '=', userId).where('status', '=', 'processing').execute();
      const hit = processing.find((r) => fs.existsSync(blobPath(r.content_hash)));
      if (hit) inFlight = hit.id;
      return hit !== undefined;
    });
    await kill(draining);
    const mid = await statusCounts();
    expect(mid.stored ?? 0).toBeLessThan(ITEMS);
    const killedRow = await handle.db.selectFrom('upload_queue').selectAll().where('id', '=', inFlight).executeTakeFirstOrThrow();
    expect(killedRow.status).toBe('processing');
    expect(fs.existsSync(killedRow.temp_file_path)).toBe(true);

    // 3. Restart: the rest drains, claims of the killed worker expire and are redone.
    const healthy = await startChild({ ...base, mode: 'ok', queueEnabled: true });
    children.push(healthy);
    await until('all items stored', async () => ((await statusCounts()).stored ?? 0) === ITEMS);
    // A row is marked stored, then its queue file removed: wait for the last removal before the kill
    // (a kill in between leaves a file that the next start's sweep removes).
    await until('queue files removed', async () => fs.readdirSync(path.join(tdb.dataDir, 'queue')).length === 0);
    await kill(healthy);

    // Every blob exactly once, with the right bytes; nothing left behind.
    const blobDir = path.join(tdb.dataDir, 'blobs');
    const blobFiles = (fs.readdirSync(blobDir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(blobDir, f)).isFile());
    expect(blobFiles.filter((f) => path.basename(f).startsWith('.tmp-')), 'blob temp files').toEqual([]);
    expect(blobFiles.map((f) => path.basename(f)).sort()).toEqual([...files.keys()].sort());
    for (const f of blobFiles) expect(fs.readFileSync(path.join(blobDir, f)).equals(files.get(path.basename(f))!)).toBe(true);
    expect(fs.readdirSync(path.join(tdb.dataDir, 'queue')), 'queue dir').toEqual([]);
    const rows = await handle.db.selectFrom('upload_queue').selectAll().where('user_id', '=', userId).execute();
    expect(rows).toHaveLength(ITEMS);
    const usage = await handle.db.selectFrom('storage_usage').selectAll().where('user_id', '=', userId).executeTakeFirstOrThrow();
    expect(usage.total_sources).toBe(ITEMS);
    expect(usage.total_bytes).toBe([...files.values()].reduce((a, b) => a + b.length, 0));
    const edges = await handle.db.selectFrom('storage_edges').selectAll().where('user_id', '=', userId).where('backend', '=', 'blob').execute();
    expect(edges.filter((e) => e.present === 1 && e.sync_state === 'idle')).toHaveLength(ITEMS);
  });
});
