// `npm run bench server`: requests per second through the real HTTP stack
// (@hono/node-server, the app, Kysely, the database) for storage-edge upserts
// and gallery presence at 10k and 100k memories, on SQLite and PostgreSQL.
// Every figure is also given as a ratio to GET /healthz (which runs `select 1`)
// measured in the same run on the same stack.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { createServerApp, createServerDeps } from '../server/app.js';
import { openSession, userForPrincipal } from '../server/auth/sessions.js';
import { SESSION_COOKIE } from '../server/http/session.js';
import { silentLogger } from '../server/logging.js';
import { startPostgresCluster } from '../tests/setup/postgres.js';
import { seedMemories } from '../tests/server/support/seed.js';

const DURATION_MS = Number(process.env.BENCH_SERVER_MS ?? 3000);
const CONCURRENCY = 4;
const EDGES_PER_REQUEST = 100;

/** Runs `once` from CONCURRENCY loops for DURATION_MS; returns completed requests per second. */
async function rps(once: (i: number) => Promise<void>): Promise<number> {
  let done = 0;
  const start = performance.now();
  const until = start + DURATION_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        await once(done);
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

async function check(r: Response, expected: number): Promise<void> {
  if (r.status !== expected) throw new Error(`unexpected ${r.status}: ${await r.text()}`);
  await r.arrayBuffer();
}

async function benchEngine(engine: 'sqlite' | 'postgres', pgAdminUrl: string | null): Promise<string[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `forever-bench-${engine}-`));
  let databaseUrl: string | undefined;
  const dbName = `forever_bench_${randomBytes(4).toString('hex')}`;
  if (engine === 'postgres') {
    const admin = new pg.Client({ connectionString: pgAdminUrl! });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const u = new URL(pgAdminUrl!);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  const deps = await createServerDeps({
    dataDir,
    databaseUrl,
    icHost: 'http://127.0.0.1:9',
    canisterId: 'aaaaa-aa',
    fetchRootKey: true,
    logger: silentLogger,
    queue: { enabled: false },
  });
  const app = createServerApp(deps);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const lines: string[] = [];
  try {
    const user = await userForPrincipal(deps, 'bench-user');
    const cookie = `${SESSION_COOKIE}=${(await openSession(deps, user.id, 3600_000)).token}`;
    const headers = { cookie, 'content-type': 'application/json' };

    const healthz = await rps(async () => check(await fetch(`${base}/healthz`), 200));

    // Edge upserts: 100 edges per request over 10,000 memories (half new rows, then updates).
    const edgeMemories = Array.from({ length: 10_000 }, () => uuidv7());
    await seedMemories(deps.db, user.id, edgeMemories, () => 'none');
    const edgeRps = await rps(async (i) => {
      const from = (i * EDGES_PER_REQUEST) % edgeMemories.length;
      const edges = edgeMemories.slice(from, from + EDGES_PER_REQUEST).map((memory_id) => ({
        memory_id,
        artifact: 'asset',
        backend: 'blob',
        present: true,
        size: 1000 + i,
        content_hash: 'c'.repeat(64),
      }));
      await check(await fetch(`${base}/api/storage/edges`, { method: 'PUT', headers, body: JSON.stringify({ edges }) }), 200);
    });

    const row = (name: string, value: number) =>
      `| ${engine} | ${name} | ${value.toFixed(1)} | ${(value / healthz).toFixed(3)} |`;
    lines.push(row('GET /healthz (baseline)', healthz));
    lines.push(row(`PUT /api/storage/edges (${EDGES_PER_REQUEST} edges)`, edgeRps));
    lines.push(`| ${engine} | ↳ edges upserted per second | ${(edgeRps * EDGES_PER_REQUEST).toFixed(0)} | |`);

    for (const size of [10_000, 100_000]) {
      const ids = Array.from({ length: size }, () => uuidv7());
      await seedMemories(deps.db, user.id, ids, (i) => (i % 4 === 0 ? 'none' : i % 4 === 1 ? 'metadata_only' : 'complete'));
      const galleryId = uuidv7();
      await check(
        await fetch(`${base}/api/galleries/${galleryId}`, { method: 'PUT', headers, body: JSON.stringify({ title: `g${size}`, memory_ids: ids }) }),
        201,
      );
      const presence = await rps(async () => check(await fetch(`${base}/api/galleries/${galleryId}/presence`, { headers: { cookie } }), 200));
      lines.push(row(`GET /api/galleries/:id/presence (${size / 1000}k memories)`, presence));
    }
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await deps.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (engine === 'postgres') {
      const admin = new pg.Client({ connectionString: pgAdminUrl! });
      await admin.connect();
      await admin.query(`drop database if exists ${dbName} with (force)`);
      await admin.end();
    }
  }
  return lines;
}

export default async function bench(): Promise<void> {
  const given = process.env.FOREVER_TEST_PG_URL || process.env.DATABASE_URL || null;
  const cluster = given ? null : startPostgresCluster();
  try {
    const lines = [
      `Server throughput, ${CONCURRENCY} concurrent clients, ${DURATION_MS / 1000} s per row; ratio = row / GET /healthz on the same engine.`,
      '',
      '| engine | request | requests/s | ratio to baseline |',
      '| --- | --- | --- | --- |',
    ];
    lines.push(...(await benchEngine('sqlite', null)));
    lines.push(...(await benchEngine('postgres', given ?? cluster!.url)));
    console.log(lines.join('\n'));
  } finally {
    cluster?.stop();
  }
}
