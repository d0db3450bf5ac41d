// `npm start` (server/main.ts) on a fresh data directory, as a child process:
// it builds and installs `forever` on the local IC, writes canister_ids.json
// in dfx's format, serves the IC interface, the identity provider, the app
// config and the API on one origin, and the canister answers the real agent.
// Sign-in goes through the canister; presence is verified with the server's
// own identity. A restart keeps keys, canister and data (deploy: unchanged).
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

  async function forever(identity?: Identity): Promise<ActorSubclass<_SERVICE>> {
    const agent = await HttpAgent.create({ host: s.url, shouldFetchRootKey: true, ...(identity ? { identity } : {}) });
    const canisterId = JSON.parse(readFileSync(path.join(dataDir, 'canister_ids.json'), 'utf8')).forever.local as string;
    return Actor.createActor<_SERVICE>(idlFactory, { agent, canisterId });
  }

  it('installs forever and records its id in dfx format', () => {
    const ids = JSON.parse(readFileSync(path.join(dataDir, 'canister_ids.json'), 'utf8'));
    expect(Object.keys(ids)).toEqual(['forever']);
    expect(Object.keys(ids.forever)).toEqual(['local']);
    expect(() => Principal.fromText(ids.forever.local)).not.toThrow();
    expect(s.lines.find((l) => l.event === 'LocalIcReady')).toMatchObject({ deploy: 'installed', canister_id: ids.forever.local });
  });

  it('serves /api/v2/status and tells the app where everything is', async () => {
    const status = await fetch(`${s.url}/api/v2/status`);
    expect(status.status).toBe(200);
    expect(Cbor.decode<{ root_key: Uint8Array }>(new Uint8Array(await status.arrayBuffer())).root_key.length).toBe(133);
    const env = await (await fetch(`${s.url}/api/config`)).json();
    expect(await (await fetch(`${s.url}/env.json`)).json()).toEqual(env);
    expect(env).toMatchObject({
      canisterId: JSON.parse(readFileSync(path.join(dataDir, 'canister_ids.json'), 'utf8')).forever.local,
      icHost: s.url,
      identityProvider: `${s.url}/ii/`,
      fetchRootKey: true,
      apiBase: '',
    });
    const ii = await fetch(env.identityProvider);
    expect(ii.status).toBe(200);
    expect(await ii.text()).toContain('authorize-client');
  });

  it('the canister answers the agent, and sign-in works through it', async () => {
    const me = Ed25519KeyIdentity.generate();
    const a = await forever(me);
    const { nonce } = (await (await fetch(`${s.url}/api/auth/challenge`)).json()) as { nonce: string };
    expect(await a.nonce_principal(nonce)).toEqual([]);
    const proof = await a.prove_principal(nonce);
    expect('Ok' in proof).toBe(true);
    const verify = await fetch(`${s.url}/api/auth/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nonce }),
    });
    expect(verify.status).toBe(200);
    expect(await verify.json()).toMatchObject({ principal: me.getPrincipal().toText() });
  });

  it('registered the server identity as a presence verifier (others are refused)', async () => {
    const server = Ed25519KeyIdentity.fromJSON(readFileSync(path.join(dataDir, 'server-identity.json'), 'utf8'));
    const owner = Ed25519KeyIdentity.generate().getPrincipal();
    const id = '0190a5c4-7e1b-7cc3-a1f0-3b8d2f6e9a10';
    const asServer = await (await forever(server)).verify_presence(owner, [id]);
    expect(asServer).toEqual({ Ok: [expect.objectContaining({ memory_id: id, metadata_present: false })] });
    const asStranger = await (await forever(Ed25519KeyIdentity.generate())).verify_presence(owner, [id]);
    expect(asStranger).toEqual({ Err: { Unauthorized: null } });
  });

  it('restarts on the same data: same keys and canister, nothing redeployed', async () => {
    const before = new Uint8Array(await (await fetch(`${s.url}/api/v2/status`)).arrayBuffer());
    const me = Ed25519KeyIdentity.generate();
    const { nonce } = (await (await fetch(`${s.url}/api/auth/challenge`)).json()) as { nonce: string };
    await (await forever(me)).prove_principal(nonce);
    expect(await stop(s)).toBe(0);
    s = await start(dataDir);
    expect(s.lines.find((l) => l.event === 'LocalIcReady')).toMatchObject({ deploy: 'unchanged', verifier_added: false });
    const after = new Uint8Array(await (await fetch(`${s.url}/api/v2/status`)).arrayBuffer());
    expect(Cbor.decode<{ root_key: Uint8Array }>(after).root_key).toEqual(Cbor.decode<{ root_key: Uint8Array }>(before).root_key);
    // The proof made before the restart is still in the canister's stable memory.
    expect((await (await forever()).nonce_principal(nonce))[0]?.toText()).toBe(me.getPrincipal().toText());
  });
});
