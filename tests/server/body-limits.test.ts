// Body limits under a flood, against a real server process on both engines:
// a 20 MB body to every JSON route (signed in or not, with a Content-Length
// or chunked) gets 413 PAYLOAD_TOO_LARGE without the server buffering it (its
// resident memory grows by less than 50 MB), and /healthz keeps answering
// while 20 such requests arrive at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { MiB } from '../../contract/index.js';
import { openSession, userForPrincipal } from '../../server/auth/sessions.js';
import { DEFAULT_QUOTAS } from '../../server/config.js';
import { openDatabase } from '../../server/db/database.js';
import { migrateToLatest } from '../../server/db/migrate.js';
import { SESSION_COOKIE } from '../../server/http/session.js';
import { silentLogger } from '../../server/logging.js';
import { createServerMetrics } from '../../server/metrics.js';
import { createTestDatabase, ENGINES, type TestDatabase } from './support/database.js';

const CHILD = fileURLToPath(new URL('./fixtures/server-process.ts', import.meta.url));
const BODY_BYTES = 20 * 1000 * 1000;
const PIECE = Buffer.alloc(256 * 1024, 0x7b); // '{' repeated: never valid JSON, never a valid body

/** Every route that takes a JSON body (the raw-bytes routes have their own tests). */
const JSON_ROUTES: Array<[method: string, path: (id: string) => string]> = [
  ['POST', () => '/api/auth/verify'],
  ['POST', () => '/api/auth/logout'],
  ['PUT', (id) => `/api/memories/${id}`],
  ['POST', () => '/api/memories/presence'],
  ['PUT', (id) => `/api/galleries/${id}`],
  ['POST', () => '/api/galleries/presence'],
  ['PUT', () => '/api/storage/edges'],
  ['POST', () => '/api/usage/store_forever'],
  ['PUT', (id) => `/api/folders/${id}`],
];

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Infinity });

/** Resident set size of a process, from /proc (bytes). */
const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

interface Sent {
  status: number;
  code?: string;
}

/**
 * Sends a 20 MB body in 256 KiB pieces (never holding it whole), declared by
 * Content-Length or chunked, and resolves with the status as soon as the
 * server answers; the rest of the body is then abandoned, as a client would.
 * `onWriting` fires once the first piece is on the wire.
 */
function sendLarge(url: string, method: string, p: string, opts: { cookie?: string; chunked: boolean; onWriting?: () => void }): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', origin: url };
    if (opts.cookie) headers.cookie = opts.cookie;
    if (!opts.chunked) headers['content-length'] = String(BODY_BYTES);
    // Keep-alive, as browsers do: a `Connection: close` request makes the server
    // close the socket right after its answer, while the client is still writing.
    const req = http.request(`${url}${p}`, { method, headers, agent: keepAlive });
    let sent = 0;
    let answered = false;
    const pump = () => {
      while (!answered && sent < BODY_BYTES) {
        const n = Math.min(PIECE.length, BODY_BYTES - sent);
        sent += n;
        if (!req.write(n === PIECE.length ? PIECE : PIECE.subarray(0, n))) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        req.destroy();
        let code: string | undefined;
        try {
          code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode ?? 0, code });
      });
    });
    req.on('error', (error) => {
      if (!answered) reject(new Error(`${method} ${p} (${opts.chunked ? 'chunked' : 'declared'}, ${sent} bytes sent): ${error.message}`));
    });
    req.once('socket', (s) => s.once('connect', () => setImmediate(() => opts.onWriting?.())));
    pump();
  });
}

describe.each(ENGINES)('body limits on %s', (engine) => {
  let tdb: TestDatabase;
  let proc: ChildProcess;
  let url: string;
  let cookie: string;

  beforeAll(async () => {
    tdb = await createTestDatabase(engine);
    const handle = openDatabase({ dataDir: tdb.dataDir, databaseUrl: tdb.databaseUrl, poolSize: 1 });
    await migrateToLatest(handle.db);
    const ctx = { db: handle.db, engine: handle.engine, now: () => new Date(), logger: silentLogger, metrics: createServerMetrics(), quotas: DEFAULT_QUOTAS };
    const user = await userForPrincipal(ctx, `flood-${uuidv7()}`);
    cookie = `${SESSION_COOKIE}=${(await openSession(ctx, user.id, 3600_000)).token}`;
    await handle.close();
    proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: {
        ...process.env,
        FOREVER_CHILD_CONFIG: JSON.stringify({
          dataDir: tdb.dataDir,
          databaseUrl: tdb.databaseUrl,
          blobDir: path.join(tdb.dataDir, 'blobs'),
          queueDir: path.join(tdb.dataDir, 'queue'),
          mode: 'ok',
          queueEnabled: false,
          leaseMs: 60_000,
          storeDelayMs: 0,
        }),
      },
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
    url = `http://127.0.0.1:${port}`;
    // Warm every route once, so the baseline includes the code paths (not
    // logout: it would end the session).
    for (const [method, p] of JSON_ROUTES.filter(([, p]) => p('') !== '/api/auth/logout')) await fetch(`${url}${p(uuidv7())}`, { method, headers: { cookie, 'content-type': 'application/json', origin: url }, body: '{}' });
  });

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await gone;
    }
    await tdb?.drop();
  });

  it('refuses a 20 MB body on every JSON route with 413, signed in or not, declared or chunked, without buffering it', async () => {
    const baseline = rssOf(proc.pid!);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(proc.pid!))), 5);
    try {
      for (const [method, p] of JSON_ROUTES) {
        for (const chunked of [false, true]) {
          // Without a session, only the sign-in routes take a body at all.
          const signedIn = await sendLarge(url, method, p(uuidv7()), { cookie, chunked });
          expect({ route: `${method} ${p(':id')}`, chunked, ...signedIn }).toEqual({ route: `${method} ${p(':id')}`, chunked, status: 413, code: 'PAYLOAD_TOO_LARGE' });
        }
      }
      for (const chunked of [false, true]) {
        expect(await sendLarge(url, 'POST', '/api/auth/verify', { chunked })).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
      }
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, rssOf(proc.pid!));
    expect(peak - baseline).toBeLessThan(50 * MiB);
  });

  it('keeps answering /healthz while 20 such requests arrive at once', async () => {
    const baseline = rssOf(proc.pid!);
    let writing = 0;
    let allWriting!: () => void;
    const started = new Promise<void>((r) => (allWriting = r));
    const flood = Array.from({ length: 20 }, (_, i) => {
      const [method, p] = JSON_ROUTES[i % JSON_ROUTES.length];
      return sendLarge(url, method, p(uuidv7()), {
        cookie: i % 2 ? cookie : undefined,
        chunked: i % 4 >= 2,
        onWriting: () => {
          if (++writing === 20) allWriting();
        },
      });
    });
    await started;
    const health = [];
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${url}/healthz`);
      health.push([r.status, ((await r.json()) as { status: string }).status]);
    }
    const results = await Promise.all(flood);
    expect(health).toEqual(Array.from({ length: 5 }, () => [200, 'ok']));
    // Signed out, the session check answers first (401) on the routes that need one.
    for (const r of results) expect([413, 401]).toContain(r.status);
    expect(results.filter((r) => r.status === 413).length).toBeGreaterThanOrEqual(10);
    expect(rssOf(proc.pid!) - baseline).toBeLessThan(50 * MiB);
  });
});
