// `npm start` (server/main.ts) on a fresh data directory, as a child process:
// it builds and installs the index `forever_index` on the local IC with the
// bucket module, writes canister_ids.json in dfx's format, serves the IC
// interface, the identity provider, the app config and the API on one
// origin, and the user's bucket (created by the index) answers the real
// agent. Sign-in goes through the bucket; presence is verified with the
// server's own identity. A restart keeps keys, canisters and data (deploy:
// unchanged, nothing uploaded).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Actor, Cbor, HttpAgent, type ActorSubclass, type Identity } from '@dfinity/agent';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idlFactory, type _SERVICE } from '../../src/declarations/forever/index.js';
import { userBucket } from '../browser/support/user-bucket.js';

interface Started {
  child: ChildProcess;
  url: string;
  lines: Array<Record<string, unknown>>;
}

const root = path.resolve(import.meta.dirname, '../..');

/** Starts server/main.ts and resolves when it logs ServerReady. */
function start(dataDir: string): Promise<Started> {
  const child = spawn(path.join(root, 'node_modules/.bin/tsx'), ['server/main.ts'], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', FOREVER_SKIP_APP_BUILD: '1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server/main.ts exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      lines.push(rec);
      if (rec.event === 'ServerReady') resolve({ child, url: String(rec.url), lines });
    });
  });
}

function stop(s: Started): Promise<number | null> {
  return new Promise((resolve) => {
    if (s.child.exitCode !== null) return resolve(s.child.exitCode);
    s.child.removeAllListeners('exit');
    s.child.once('exit', (code) => resolve(code));
    s.child.kill('SIGTERM');
  });
}

describe('npm start on a fresh clone', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'forever-start-'));
  let s: Started;

  beforeAll(async () => {
    s = await start(dataDir);
  });
  afterAll(async () => {
    if (s) await stop(s);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const me = Ed25519KeyIdentity.generate();
  let bucket = '';

  /** The bucket of `me` (the index places it on first use), as `identity`. */
  async function forever(identity?: Identity): Promise<ActorSubclass<_SERVICE>> {
    const agent = await HttpAgent.create({ host: s.url, shouldFetchRootKey: true, ...(identity ? { identity } : {}) });
    bucket ||= await userBucket(s.url, me);
    return Actor.createActor<_SERVICE>(idlFactory, { agent, canisterId: bucket });
  }

  it('installs forever_index with the bucket module and records its id in dfx format', () => {
    const ids = JSON.parse(readFileSync(path.join(dataDir, 'canister_ids.json'), 'utf8'));
    expect(Object.keys(ids)).toEqual(['forever_index']);
    expect(Object.keys(ids.forever_index)).toEqual(['local']);
    expect(() => Principal.fromText(ids.forever_index.local)).not.toThrow();
    expect(s.lines.find((l) => l.event === 'LocalIcReady')).toMatchObject({ deploy: 'installed', index_id: ids.forever_index.local, bucket_module: 'uploaded', buckets: [] });
  });

  it('serves /api/v2/status and tells the app where everything is', async () => {
    const status = await fetch(`${s.url}/api/v2/status`);
    expect(status.status).toBe(200);
    expect(Cbor.decode<{ root_key: Uint8Array }>(new Uint8Array(await status.arrayBuffer())).root_key.length).toBe(133);
    const env = await (await fetch(`${s.url}/api/config`)).json();
    expect(await (await fetch(`${s.url}/env.json`)).json()).toEqual(env);
    expect(env.canisterId).toBeUndefined();
    expect(env).toMatchObject({
      indexId: JSON.parse(readFileSync(path.join(dataDir, 'canister_ids.json'), 'utf8')).forever_index.local,
      icHost: s.url,
      identityProvider: `${s.url}/ii/`,
      fetchRootKey: true,
      apiBase: '',
    });
    const ii = await fetch(env.identityProvider);
    expect(ii.status).toBe(200);
    expect(await ii.text()).toContain('authorize-client');
  });

  it("the user's bucket answers the agent, and sign-in works through it", async () => {
    const a = await forever(me);
    const { nonce } = (await (await fetch(`${s.url}/api/auth/challenge`)).json()) as { nonce: string };
    expect(await a.nonce_principal(nonce)).toEqual([]);
    const proof = await a.prove_principal(nonce);
    expect('Ok' in proof).toBe(true);
    const verify = await fetch(`${s.url}/api/auth/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nonce, principal: me.getPrincipal().toText() }),
    });
    expect(verify.status).toBe(200);
    expect(await verify.json()).toMatchObject({ principal: me.getPrincipal().toText() });
  });

  it("the index made the server identity a presence verifier of the bucket (others are refused)", async () => {
    const server = Ed25519KeyIdentity.fromJSON(readFileSync(path.join(dataDir, 'server-identity.json'), 'utf8'));
    const owner = me.getPrincipal();
    const id = '0190a5c4-7e1b-7cc3-a1f0-3b8d2f6e9a10';
    const asServer = await (await forever(server)).verify_presence(owner, [id]);
    expect(asServer).toEqual({ Ok: [expect.objectContaining({ memory_id: id, metadata_present: false })] });
    const asStranger = await (await forever(Ed25519KeyIdentity.generate())).verify_presence(owner, [id]);
    expect(asStranger).toEqual({ Err: { Unauthorized: null } });
  });

  it('restarts on the same data: same keys, index and bucket, nothing redeployed or uploaded', async () => {
    const before = new Uint8Array(await (await fetch(`${s.url}/api/v2/status`)).arrayBuffer());
    const { nonce } = (await (await fetch(`${s.url}/api/auth/challenge`)).json()) as { nonce: string };
    await (await forever(me)).prove_principal(nonce);
    expect(await stop(s)).toBe(0);
    s = await start(dataDir);
    expect(s.lines.find((l) => l.event === 'LocalIcReady')).toMatchObject({ deploy: 'unchanged', bucket_module: 'unchanged', buckets: [bucket], bucket_upgrade: 'none', verifiers_added: 0 });
    const after = new Uint8Array(await (await fetch(`${s.url}/api/v2/status`)).arrayBuffer());
    expect(Cbor.decode<{ root_key: Uint8Array }>(after).root_key).toEqual(Cbor.decode<{ root_key: Uint8Array }>(before).root_key);
    // The proof made before the restart is still in the bucket's stable memory.
    expect((await (await forever()).nonce_principal(nonce))[0]?.toText()).toBe(me.getPrincipal().toText());
  });
});
