// `npm start` (server/main.ts) as a newcomer and an operator meet it, on both
// engines, as a real child process with the local IC:
// - a fresh start prints where to open the app, where the data lives and how
//   to stop, and nothing else (no warning, no log line) while it serves the
//   app, its favicon and the API;
// - SIGTERM under traffic (4 clients recording canister-confirmed edges over
//   keep-alive connections) is graceful: no 5xx caused by the stop, every
//   client sees answers or a closed port, and the process exits 0 on its own
//   (it exits 1 if its 5 s bound had to cut the stop short).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Actor, HttpAgent, type ActorSubclass } from '@dfinity/agent';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { userBucket } from '../browser/support/user-bucket.js';
import { idlFactory, type _SERVICE } from '../../src/declarations/forever/index.js';
import { createTestDatabase, ENGINES, type TestDatabase } from './support/database.js';

const root = path.resolve(import.meta.dirname, '../..');
const CLIENTS = 4;

interface Child {
  proc: ChildProcess;
  url: string;
  out: () => string;
  err: () => string;
}

function start(dataDir: string, databaseUrl?: string): Promise<Child> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', FOREVER_SKIP_APP_BUILD: '1' };
  // As a newcomer runs it: no log level, no database but the default.
  delete env.LOG_LEVEL;
  delete env.DATABASE_URL;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  // What `npm start` runs: one Node process with tsx's loader, so a signal
  // reaches the server itself (tsx's CLI wrapper relays it to a child and
  // SIGKILLs that child if it does not acknowledge within 30 ms).
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`server/main.ts exited with ${code}: ${out}${err}`)));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /open (http:\/\/\S+)\/\n[\s\S]*stop: {2}press Ctrl\+C\n/.exec(out);
      if (m) {
        proc.removeAllListeners('exit');
        resolve({ proc, url: m[1], out: () => out, err: () => err });
      }
    });
  });
}

type Outcome = { status: number } | { error: string };

describe.each(ENGINES)('npm start on %s', (engine) => {
  let tdb: TestDatabase;
  let dataDir: string;
  let s: Child;

  beforeAll(async () => {
    tdb = await createTestDatabase(engine);
    dataDir = mkdtempSync(path.join(tmpdir(), 'forever-npm-start-'));
    s = await start(dataDir, tdb.databaseUrl);
  });
  afterAll(async () => {
    if (s && s.proc.exitCode === null && s.proc.signalCode === null) {
      const gone = new Promise((r) => s.proc.once('exit', r));
      s.proc.kill('SIGKILL');
      await gone;
    }
    rmSync(dataDir, { recursive: true, force: true });
    await tdb?.drop();
  });

  it('prints the URL, the data directory and how to stop, then stays quiet while serving', async () => {
    const page = await fetch(`${s.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const icon = await fetch(`${s.url}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect([...new Uint8Array(await icon.arrayBuffer()).subarray(0, 4)]).toEqual([0, 0, 1, 0]); // an ICO header
    expect((await fetch(`${s.url}/api/auth/challenge`)).status).toBe(200);
    expect((await fetch(`${s.url}/api/memories`)).status).toBe(401);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    const url = new URL(s.url);
    expect(url.hostname).toBe('127.0.0.1');
    const data = engine === 'postgres' ? `${dataDir} (database: DATABASE_URL)` : dataDir;
    expect(s.out()).toBe(`Forever is running: open ${s.url}/\n  data:  ${data}\n  stop:  press Ctrl+C\n`);
    expect(s.err()).toBe('');
  });

  it('stops gracefully under traffic: no 5xx, in-flight requests answered, exit 0 within its bound', async () => {
    // Sign in as a fresh identity and store one note per client on the
    // canister, so each edge write makes the server ask the canister.
    const me = Ed25519KeyIdentity.generate();
    const agent = await HttpAgent.create({ host: s.url, shouldFetchRootKey: true, identity: me });
    // The user's bucket, as the index names it (the first newcomer makes the index create one).
    const forever: ActorSubclass<_SERVICE> = Actor.createActor<_SERVICE>(idlFactory, { agent, canisterId: await userBucket(s.url, me) });
    const { nonce } = (await (await fetch(`${s.url}/api/auth/challenge`)).json()) as { nonce: string };
    expect('Ok' in (await forever.prove_principal(nonce))).toBe(true);
    const principal = me.getPrincipal().toText();
    const verify = await fetch(`${s.url}/api/auth/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ nonce, principal }) });
    expect(verify.status).toBe(200);
    const cookie = verify.headers.get('set-cookie')!.split(';')[0];
    const ids = Array.from({ length: CLIENTS }, () => uuidv7());
    for (const id of ids) {
      const meta = { title: 'note', tags: [], mime_type: [] as [], description: [] as [], file_name: [] as [], taken_at_ms: [] as [] };
      expect('Ok' in (await forever.upsert_metadata(id, { Note: null }, meta, id))).toBe(true);
      const put = await fetch(`${s.url}/api/memories/${id}`, { method: 'PUT', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ memory_type: 'note', title: 'note' }) });
      expect(put.status).toBe(201);
    }

    // 4 clients record edges over keep-alive connections until the port closes.
    const outcomes: Outcome[][] = ids.map(() => []);
    let warm = 0;
    let allWarm!: () => void;
    const warmed = new Promise<void>((r) => (allWarm = r));
    const client = async (i: number) => {
      for (;;) {
        let o: Outcome;
        try {
          const r = await fetch(`${s.url}/api/storage/edges`, {
            method: 'PUT',
            headers: { cookie, 'content-type': 'application/json' },
            body: JSON.stringify({ edges: [{ memory_id: ids[i], artifact: 'metadata', backend: 'icp', present: true }] }),
          });
          await r.arrayBuffer();
          o = { status: r.status };
        } catch (error) {
          const cause = (error as { cause?: { code?: string; message?: string } }).cause;
          o = { error: cause?.code ?? cause?.message ?? String(error) };
        }
        outcomes[i].push(o);
        if (outcomes[i].length === 3 && ++warm === CLIENTS) allWarm();
        // The listener is closed: the stop is under way or over.
        if ('error' in o && o.error === 'ECONNREFUSED') return;
      }
    };
    const clients = ids.map((_, i) => client(i));
    await warmed;

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      s.proc.once('exit', (code, signal) => resolve({ code, signal })),
    );
    s.proc.kill('SIGTERM');
    await Promise.all(clients);
    const exit = await exited;

    const all = outcomes.flat();
    const statuses = all.flatMap((o) => ('status' in o ? [o.status] : []));
    expect(statuses.filter((st) => st >= 500)).toEqual([]);
    expect(statuses.every((st) => st === 200)).toBe(true);
    // Every client ended on a refused connection (nothing left listening);
    // a keep-alive socket closed as the client reused it is the only other error.
    for (const list of outcomes) expect(list[list.length - 1]).toEqual({ error: 'ECONNREFUSED' });
    const otherErrors = all.flatMap((o) => ('error' in o && o.error !== 'ECONNREFUSED' ? [o.error] : []));
    expect(otherErrors.every((e) => /UND_ERR_SOCKET|ECONNRESET|other side closed/.test(e))).toBe(true);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(s.err()).toBe('');
  });
});
