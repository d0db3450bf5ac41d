// Deployment to the local IC (install, unchanged, upgrade keeping stable
// data, a wiped IC re-creating the recorded id) and the server's IC adapter
// against the real `forever` canister over the HTTP interface: sign-in
// resolution and presence verified with the server's registered identity.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Actor, HttpAgent, type ActorSubclass } from '@dfinity/agent';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployCanister, installableWasm, readCanisterIds } from '../../canister/local/deploy.js';
import { createLocalIcHttp } from '../../canister/local/http/local-ic-http.js';
import { LocalIC } from '../../canister/local/index.js';
import { candidPath } from '../../canister/scripts/build.js';
import { createCanisterAdapters } from '../../server/ic/canister-client.js';
import { registerPresenceVerifier } from '../../server/ic/local-network.js';
import { IcUnavailableError } from '../../server/ic/types.js';
import { idlFactory, type _SERVICE } from '../../src/declarations/forever/index.js';
import { serveApp, type Served } from './support/serve.js';

const controller = Ed25519KeyIdentity.generate();
const silent = { log: () => {} };

describe('deploying forever to the local IC', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'forever-deploy-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('installs, then leaves an unchanged module alone, then upgrades keeping stable data', async () => {
    const icDir = path.join(dataDir, 'ic');
    let ic = await LocalIC.create({ dataDir: icDir, ...silent });
    const first = await deployCanister({ ic, dataDir, name: 'forever', controller: controller.getPrincipal() });
    expect(first.action).toBe('installed');
    expect(readCanisterIds(dataDir)).toEqual({ forever: { local: first.canisterId.toText() } });
    expect(Buffer.from(ic.moduleHash(first.canisterId)!).toString('hex')).toBe(first.moduleHash);
    expect(new TextDecoder().decode(ic.metadata(first.canisterId, 'candid:service'))).toBe(readFileSync(candidPath('forever'), 'utf8'));
    expect(ic.controllers(first.canisterId).map((p) => p.toText())).toEqual([controller.getPrincipal().toText()]);

    // Some state in stable memory: a principal proof.
    const nonce = 'deploy-test-nonce-0001';
    const user = Ed25519KeyIdentity.generate();
    const { IDL } = await import('@dfinity/candid');
    const proved = await ic.update(first.canisterId, 'prove_principal', new Uint8Array(IDL.encode([IDL.Text], [nonce])), { caller: user.getPrincipal() });
    expect(proved.status).toBe('replied');

    const second = await deployCanister({ ic, dataDir, name: 'forever', controller: controller.getPrincipal() });
    expect(second).toMatchObject({ action: 'unchanged', canisterId: first.canisterId });

    // A changed module (here: its embedded interface text) is an upgrade.
    const candid = `${readFileSync(candidPath('forever'), 'utf8')}\n// v2\n`;
    const third = await deployCanister({ ic, dataDir, name: 'forever', controller: controller.getPrincipal(), candid });
    expect(third.action).toBe('upgraded');
    expect(third.moduleHash).not.toBe(first.moduleHash);
    const q = await ic.query(first.canisterId, 'nonce_principal', new Uint8Array(IDL.encode([IDL.Text], [nonce])));
    expect(q.status).toBe('replied');
    if (q.status === 'replied') {
      const [p] = IDL.decode([IDL.Opt(IDL.Principal)], q.reply)[0] as [] | [{ toText(): string }];
      expect(p?.toText()).toBe(user.getPrincipal().toText());
    }

    // Someone else is not a controller: the runtime refuses the install.
    await expect(
      deployCanister({ ic, dataDir, name: 'forever', controller: Ed25519KeyIdentity.generate().getPrincipal(), candid: `${candid} ` }),
    ).rejects.toThrow(/controllers/);
    await ic.close();

    // The IC's state is wiped but canister_ids.json remains: the same id comes back.
    rmSync(icDir, { recursive: true, force: true });
    ic = await LocalIC.create({ dataDir: icDir, ...silent });
    const again = await deployCanister({ ic, dataDir, name: 'forever', controller: controller.getPrincipal() });
    expect(again).toMatchObject({ action: 'installed' });
    expect(again.canisterId.toText()).toBe(first.canisterId.toText());
    await ic.close();
  });

  it('builds the installable module with the Candid interface embedded', async () => {
    const wasm = await installableWasm('forever', { wasm: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), candid: 'service : {}' });
    expect(Buffer.from(wasm).includes(Buffer.from('icp:public candid:service'))).toBe(true);
  });
});

describe("the server's IC adapter against forever over HTTP", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'forever-adapter-'));
  const server = Ed25519KeyIdentity.generate();
  let ic: LocalIC;
  let served: Served;
  let canisterId: string;

  beforeAll(async () => {
    ic = await LocalIC.create(silent);
    const d = await deployCanister({ ic, dataDir, name: 'forever', controller: controller.getPrincipal() });
    canisterId = d.canisterId.toText();
    expect(await registerPresenceVerifier(ic, d.canisterId, controller.getPrincipal(), server.getPrincipal())).toBe(true);
    expect(await registerPresenceVerifier(ic, d.canisterId, controller.getPrincipal(), server.getPrincipal())).toBe(false);
    const http = await createLocalIcHttp({ runtime: ic });
    const app = new Hono();
    http.mount(app);
    served = await serveApp(app);
  });
  afterAll(async () => {
    await served?.close();
    await ic?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function as(identity: Ed25519KeyIdentity): Promise<ActorSubclass<_SERVICE>> {
    const agent = await HttpAgent.create({ host: served.url, shouldFetchRootKey: true, identity });
    return Actor.createActor<_SERVICE>(idlFactory, { agent, canisterId });
  }

  it('resolves a proved nonce to its principal, and nothing else', async () => {
    const adapters = createCanisterAdapters({ icHost: served.url, canisterId, fetchRootKey: true, identity: server });
    const user = Ed25519KeyIdentity.generate();
    const nonce = 'adapter-nonce-000000001';
    expect(await adapters.principalResolver.noncePrincipal(nonce)).toBeNull();
    expect('Ok' in (await (await as(user)).prove_principal(nonce))).toBe(true);
    expect(await adapters.principalResolver.noncePrincipal(nonce)).toBe(user.getPrincipal().toText());
  });

  it("confirms presence of the owner's memories only, signed as the registered verifier", async () => {
    const adapters = createCanisterAdapters({ icHost: served.url, canisterId, fetchRootKey: true, identity: server });
    const alice = Ed25519KeyIdentity.generate();
    const bob = Ed25519KeyIdentity.generate();
    const ids = Array.from({ length: 150 }, (_, i) => `0190a5c4-7e1b-7cc3-a1f0-${i.toString(16).padStart(12, '0')}`);
    const a = await as(alice);
    for (const id of [ids[0], ids[120]]) {
      const r = await a.upsert_metadata(id, { Note: null }, { title: 't', tags: [], mime_type: [], description: [], file_name: [], taken_at_ms: [] }, `k-${id}`);
      expect('Ok' in r).toBe(true);
    }
    // 150 ids: more than one verify_presence page (100 per call).
    const mine = await adapters.presenceVerifier.presence(alice.getPrincipal().toText(), ids);
    expect([...mine.keys()].sort()).toEqual([ids[0], ids[120]].sort());
    expect(mine.get(ids[0])).toEqual({ memory_id: ids[0], metadata_present: true, asset_present: false, sha256: null, size: null });
    expect((await adapters.presenceVerifier.presence(bob.getPrincipal().toText(), ids)).size).toBe(0);

    // Without the registered identity the canister refuses, and the adapter says so.
    const unregistered = createCanisterAdapters({ icHost: served.url, canisterId, fetchRootKey: true, identity: Ed25519KeyIdentity.generate() });
    await expect(unregistered.presenceVerifier.presence(alice.getPrincipal().toText(), ids)).rejects.toBeInstanceOf(IcUnavailableError);
  });

  it('reports an unreachable IC as IcUnavailableError', async () => {
    const adapters = createCanisterAdapters({ icHost: 'http://127.0.0.1:9', canisterId, fetchRootKey: true });
    await expect(adapters.principalResolver.noncePrincipal('x'.repeat(20))).rejects.toBeInstanceOf(IcUnavailableError);
  });
});
