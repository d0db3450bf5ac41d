// The IC HTTP interface against the real @dfinity/agent with default options
// (root key fetched, certificates and query signatures verified): every key
// type, delegation chains, refusals with the replica's status and text,
// traps, duplicate submissions, the v2 fallback, read_state and CORS.
import {
  Actor,
  AgentError,
  AnonymousIdentity,
  CanisterStatus,
  Certificate,
  CertifiedRejectErrorCode,
  HttpAgent,
  HttpErrorCode,
  lookupResultToBuffer,
  SignIdentity,
  type ActorSubclass,
  type Identity,
  type PublicKey,
  type Signature,
} from '@dfinity/agent';
import { Cbor } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { DelegationChain, DelegationIdentity, ECDSAKeyIdentity, Ed25519KeyIdentity } from '@dfinity/identity';
import { Secp256k1KeyIdentity } from '@dfinity/identity-secp256k1';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIcHttpApp } from '../../canister/local/http/app.js';
import { IcHttpInterface } from '../../canister/local/http/interface.js';
import { loadOrCreateKeys } from '../../canister/local/http/keys.js';
import { echoBackend, localIcBackend, type Backend, type BackendOptions } from './support/backends.js';
import type { EchoRuntime } from './support/echo-runtime.js';
import { post, signedCall } from './support/requests.js';
import { serveApp, type Served } from './support/serve.js';

interface Fixture {
  whoami(): Promise<Principal>;
  whoami_query(): Promise<Principal>;
  increment(): Promise<bigint>;
  count(): Promise<bigint>;
  trap_after_increment(): Promise<bigint>;
}

/** Signs with a flipped bit: the signature no longer verifies. */
class TamperingIdentity extends SignIdentity {
  constructor(private readonly inner: SignIdentity) {
    super();
  }
  getPublicKey(): PublicKey {
    return this.inner.getPublicKey();
  }
  async sign(blob: Uint8Array): Promise<Signature> {
    const sig = new Uint8Array(await this.inner.sign(blob));
    sig[3] ^= 0x40;
    return sig as Signature;
  }
}

const inMinutes = (m: number) => new Date(Date.now() + m * 60_000);

function agentErrorOf(e: unknown): AgentError {
  expect(e).toBeInstanceOf(AgentError);
  return e as AgentError;
}

const BACKENDS: Array<[string, (opts?: BackendOptions) => Promise<Backend>]> = [
  ['the TypeScript stand-in', echoBackend],
  ['the local IC runtime', localIcBackend],
];

describe.each(BACKENDS.filter(([n]) => process.env.HTTP_TEST_ONLY === undefined || n.includes(process.env.HTTP_TEST_ONLY)))('IC HTTP interface over %s', (_name, makeBackend) => {
  let backend: Backend;
  let served: Served;
  let servedV2Only: Served;

  beforeAll(async () => {
    backend = await makeBackend();
    const iface = new IcHttpInterface({ runtime: backend.runtime, keys: loadOrCreateKeys() });
    served = await serveApp(createIcHttpApp(iface));
    // A replica without the synchronous call endpoint (older versions, some boundary nodes).
    servedV2Only = await serveApp(createIcHttpApp(iface, { callV3: false }));
  });
  afterAll(async () => {
    await served?.close();
    await servedV2Only?.close();
    await backend?.close();
  });

  async function actor(identity: Identity, host = served.url): Promise<ActorSubclass<Fixture>> {
    const agent = await HttpAgent.create({ host, identity, shouldFetchRootKey: true });
    return Actor.createActor<Fixture>(backend.idl, { agent, canisterId: backend.canisterId });
  }

  // For refusals: by default the agent retries a 4xx three times with backoff
  // (seconds per refusal) and the answer is the same every time.
  async function refusedActor(identity: Identity): Promise<ActorSubclass<Fixture>> {
    const agent = await HttpAgent.create({ host: served.url, identity, shouldFetchRootKey: true, retryTimes: 0 });
    return Actor.createActor<Fixture>(backend.idl, { agent, canisterId: backend.canisterId });
  }

  it('serves the status with a 133-byte BLS root key', async () => {
    const r = await fetch(`${served.url}/api/v2/status`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/cbor');
    const status = Cbor.decode<{ root_key: Uint8Array; replica_health_status: string }>(new Uint8Array(await r.arrayBuffer()));
    expect(status.root_key).toBeInstanceOf(Uint8Array);
    expect(status.root_key.length).toBe(133);
    expect(Buffer.from(status.root_key.subarray(0, 37)).toString('hex')).toBe(
      '308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100',
    );
    expect(status.replica_health_status).toBe('healthy');
  });

  it.each([
    ['Ed25519', async () => Ed25519KeyIdentity.generate()],
    ['ECDSA P-256', async () => ECDSAKeyIdentity.generate()],
    ['secp256k1', async () => Secp256k1KeyIdentity.generate()],
  ])('update and query calls signed with %s carry the signer as caller', async (_k, make) => {
    const identity = await make();
    const a = await actor(identity);
    expect((await a.whoami()).toText()).toBe(identity.getPrincipal().toText());
    expect((await a.whoami_query()).toText()).toBe(identity.getPrincipal().toText());
  });

  it('anonymous calls carry the anonymous principal', async () => {
    const a = await actor(new AnonymousIdentity());
    expect((await a.whoami()).toText()).toBe('2vxsx-fae');
    expect((await a.whoami_query()).toText()).toBe('2vxsx-fae');
  });

  it('a two-hop delegation chain acts as the root identity', async () => {
    const root = Ed25519KeyIdentity.generate();
    const middle = await ECDSAKeyIdentity.generate();
    const session = Secp256k1KeyIdentity.generate();
    const first = await DelegationChain.create(root, middle.getPublicKey(), inMinutes(30));
    const chain = await DelegationChain.create(middle, session.getPublicKey(), inMinutes(10), {
      previous: first,
      targets: [backend.canisterId],
    });
    expect(chain.delegations).toHaveLength(2);
    const a = await actor(DelegationIdentity.fromDelegation(session, chain));
    expect((await a.whoami()).toText()).toBe(root.getPrincipal().toText());
    expect((await a.whoami_query()).toText()).toBe(root.getPrincipal().toText());
  });

  it('refuses a tampered signature with 400 and the replica text', async () => {
    const a = await refusedActor(new TamperingIdentity(Ed25519KeyIdentity.generate()));
    const e = agentErrorOf(await a.whoami().catch((x: unknown) => x));
    expect(e.hasCode(HttpErrorCode)).toBe(true);
    const code = e.code as HttpErrorCode;
    expect(code.status).toBe(400);
    expect(code.bodyText).toMatch(/^Invalid signature: Invalid basic signature: Ed25519 signature could not be verified/);
    // Queries are checked the same way.
    const q = agentErrorOf(await a.whoami_query().catch((x: unknown) => x));
    expect((q.code as HttpErrorCode).status).toBe(400);
  });

  it('refuses an expired delegation', async () => {
    const root = Ed25519KeyIdentity.generate();
    const session = Ed25519KeyIdentity.generate();
    const chain = await DelegationChain.create(root, session.getPublicKey(), new Date(Date.now() - 60_000));
    const a = await refusedActor(DelegationIdentity.fromDelegation(session, chain));
    const e = agentErrorOf(await a.whoami().catch((x: unknown) => x));
    expect((e.code as HttpErrorCode).status).toBe(400);
    expect((e.code as HttpErrorCode).bodyText).toMatch(/^Invalid delegation expiry: Specified sender delegation has expired/);
  });

  it('refuses a delegation for another canister', async () => {
    const root = Ed25519KeyIdentity.generate();
    const session = Ed25519KeyIdentity.generate();
    const other = Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai');
    const chain = await DelegationChain.create(root, session.getPublicKey(), inMinutes(10), { targets: [other] });
    const a = await refusedActor(DelegationIdentity.fromDelegation(session, chain));
    for (const call of [() => a.whoami(), () => a.whoami_query()]) {
      const e = agentErrorOf(await call().catch((x: unknown) => x));
      expect((e.code as HttpErrorCode).status).toBe(400);
      expect((e.code as HttpErrorCode).bodyText).toBe(`Canister '${backend.canisterId.toText()}' is not one of the delegation targets.`);
    }
  });

  it('refuses an expired ingress message with the text agents resync on', async () => {
    const id = Ed25519KeyIdentity.generate();
    const past = (BigInt(Date.now()) - 60_000n) * 1_000_000n;
    const call = await signedCall(id, backend.canisterId, 'whoami', { expiryNs: past });
    const r = await post(`${served.url}/api/v3/canister/${backend.canisterId.toText()}/call`, call.body);
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/^Invalid request expiry: Specified ingress_expiry not within expected range: Minimum allowed expiry: \d{4}-\d\d-\d\d /);
    // Too far in the future is refused as well.
    const future = (BigInt(Date.now()) + 20n * 60_000n) * 1_000_000n;
    const late = await signedCall(id, backend.canisterId, 'whoami', { expiryNs: future });
    const r2 = await post(`${served.url}/api/v3/canister/${backend.canisterId.toText()}/call`, late.body);
    expect(r2.status).toBe(400);
    expect(await r2.text()).toMatch(/^Invalid request expiry: /);
  });

  it('a trap surfaces as a certified reject with code 5 and leaves state unchanged', async () => {
    const a = await actor(Ed25519KeyIdentity.generate());
    const before = await a.count();
    const e = agentErrorOf(await a.trap_after_increment().catch((x: unknown) => x));
    expect(e.hasCode(CertifiedRejectErrorCode)).toBe(true);
    const code = e.code as CertifiedRejectErrorCode;
    expect(code.rejectCode).toBe(5);
    expect(code.rejectErrorCode).toBe('IC0503');
    expect(code.rejectMessage).toContain(`Canister ${backend.canisterId.toText()} trapped`);
    expect(await a.count()).toBe(before);
  });

  it('runs a request submitted twice once and answers both with the same outcome', async () => {
    const id = Ed25519KeyIdentity.generate();
    const a = await actor(id);
    const before = await a.count();
    const call = await signedCall(id, backend.canisterId, 'increment');
    const url = `${served.url}/api/v3/canister/${backend.canisterId.toText()}/call`;
    // Two at once (the second arrives while the first runs), then a late retry.
    const [r1, r2] = await Promise.all([post(url, call.body), post(url, call.body)]);
    const r3 = await post(url, call.body);
    const replies: bigint[] = [];
    for (const r of [r1, r2, r3]) {
      expect(r.status).toBe(200);
      const { certificate } = Cbor.decode<{ certificate: Uint8Array }>(new Uint8Array(await r.arrayBuffer()));
      const agent = await HttpAgent.create({ host: served.url, shouldFetchRootKey: true });
      const cert = await Certificate.create({ certificate, rootKey: agent.rootKey!, canisterId: backend.canisterId });
      const path = [new TextEncoder().encode('request_status'), call.requestId];
      expect(new TextDecoder().decode(lookupResultToBuffer(cert.lookup_path([...path, 'status'])))).toBe('replied');
      const reply = lookupResultToBuffer(cert.lookup_path([...path, 'reply']))!;
      replies.push(IDL.decode([IDL.Nat64], reply)[0] as bigint);
    }
    expect(replies).toEqual([before + 1n, before + 1n, before + 1n]);
    expect(await a.count()).toBe(before + 1n);
    // The v2 endpoint knows the request too: 202, and no second execution.
    const v2 = await post(`${served.url}/api/v2/canister/${backend.canisterId.toText()}/call`, call.body);
    expect(v2.status).toBe(202);
    expect(await a.count()).toBe(before + 1n);
  });

  it('falls back to v2 call and read_state polling when /api/v3 is missing', async () => {
    const v3 = await post(`${servedV2Only.url}/api/v3/canister/${backend.canisterId.toText()}/call`, new Uint8Array([0xd9, 0xd9, 0xf7, 0xa0]));
    expect(v3.status).toBe(404);
    const id = await ECDSAKeyIdentity.generate();
    const a = await actor(id, servedV2Only.url);
    const before = await a.count();
    expect((await a.whoami()).toText()).toBe(id.getPrincipal().toText());
    expect(await a.increment()).toBe(before + 1n);
    const e = agentErrorOf(await a.trap_after_increment().catch((x: unknown) => x));
    expect((e.code as CertifiedRejectErrorCode).rejectCode).toBe(5);
  });

  it('certifies module hash, Candid interface, controllers and time through read_state', async () => {
    const agent = await HttpAgent.create({ host: served.url, shouldFetchRootKey: true });
    const status = await CanisterStatus.request({
      canisterId: backend.canisterId,
      agent,
      paths: ['module_hash', 'candid', 'time', 'controllers', 'subnet'],
    });
    expect(status.get('module_hash')).toBe(Buffer.from(backend.runtime.moduleHash(backend.canisterId)!).toString('hex'));
    expect(status.get('candid')).toBe(new TextDecoder().decode(backend.runtime.metadata(backend.canisterId, 'candid:service')));
    expect(Math.abs((status.get('time') as Date).getTime() - Date.now())).toBeLessThan(60_000);
    expect((status.get('controllers') as Principal[]).map((p) => p.toText())).toEqual(
      backend.runtime.controllers(backend.canisterId).map((p) => p.toText()),
    );
    const subnet = status.get('subnet') as { nodeKeys: Map<string, Uint8Array> };
    expect(subnet.nodeKeys.size).toBe(1);
  });

  it('refuses a read of another sender\'s request status', async () => {
    const owner = Ed25519KeyIdentity.generate();
    const call = await signedCall(owner, backend.canisterId, 'whoami');
    expect((await post(`${served.url}/api/v3/canister/${backend.canisterId.toText()}/call`, call.body)).status).toBe(200);
    const spy = await HttpAgent.create({ host: served.url, shouldFetchRootKey: true, identity: Ed25519KeyIdentity.generate(), retryTimes: 0 });
    const e = agentErrorOf(
      await spy
        .readState(backend.canisterId, { paths: [[new TextEncoder().encode('request_status'), call.requestId]] })
        .catch((x: unknown) => x),
    );
    expect((e.code as HttpErrorCode).status).toBe(403);
  });

  it('refuses a call whose canister does not match the URL, and oversized messages', async () => {
    const id = Ed25519KeyIdentity.generate();
    const call = await signedCall(id, backend.canisterId, 'whoami');
    const r = await post(`${served.url}/api/v3/canister/ryjl3-tyaaa-aaaaa-aaaba-cai/call`, call.body);
    expect(r.status).toBe(400);
    expect(await r.text()).toBe(`Specified CanisterId ${backend.canisterId.toText()} does not match effective canister id in URL ryjl3-tyaaa-aaaaa-aaaba-cai`);
    const big = await signedCall(id, backend.canisterId, 'whoami', { arg: new Uint8Array(2 * 1024 * 1024 + 1) });
    const r2 = await post(`${served.url}/api/v3/canister/${backend.canisterId.toText()}/call`, big.body);
    expect(r2.status).toBe(413);
    expect(await r2.text()).toMatch(/is larger than the max allowed 2097152/);
  });

  it('answers a call to a canister that does not exist with a non-replicated reject', async () => {
    const missing = Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai');
    const agent = await HttpAgent.create({ host: served.url, shouldFetchRootKey: true });
    const a = Actor.createActor<Fixture>(backend.idl, { agent, canisterId: missing });
    const e = agentErrorOf(await a.whoami().catch((x: unknown) => x));
    expect(e.message).toContain(`Canister ${missing.toText()} not found`);
    const q = agentErrorOf(await a.whoami_query().catch((x: unknown) => x));
    expect(q.message).toContain(`Canister ${missing.toText()} not found`);
  });

  it('answers CORS preflights so pages on other origins can call it', async () => {
    const r = await fetch(`${served.url}/api/v3/canister/${backend.canisterId.toText()}/call`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('access-control-allow-methods')).toContain('POST');
    expect(r.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    const status = await fetch(`${served.url}/api/v2/status`, { headers: { origin: 'http://localhost:5173' } });
    expect(status.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('an agent whose clock lags the IC resyncs on the expiry refusal and succeeds', async () => {
    const ahead = await makeBackend({ clockAheadMs: 10 * 60_000 });
    const s = await serveApp(createIcHttpApp(new IcHttpInterface({ runtime: ahead.runtime, keys: loadOrCreateKeys() })));
    try {
      const id = Ed25519KeyIdentity.generate();
      const agent = await HttpAgent.create({ host: s.url, identity: id, shouldFetchRootKey: true });
      const a = Actor.createActor<Fixture>(ahead.idl, { agent, canisterId: ahead.canisterId });
      expect((await a.whoami()).toText()).toBe(id.getPrincipal().toText());
      expect(agent.hasSyncedTime()).toBe(true);
      expect(agent.getTimeDiffMsecs()).toBeGreaterThan(9 * 60_000);
    } finally {
      await s.close();
      await ahead.close();
    }
  });
});

describe('data certificates in queries (local IC runtime)', () => {
  it('hands a query a certificate of the canister\'s certified data, verifiable by the agent', async () => {
    const backend = await localIcBackend();
    const served = await serveApp(createIcHttpApp(new IcHttpInterface({ runtime: backend.runtime, keys: loadOrCreateKeys() })));
    try {
      interface Certifying {
        set_certified(data: Uint8Array): Promise<null>;
        certificate(): Promise<[] | [Uint8Array]>;
      }
      const agent = await HttpAgent.create({ host: served.url, shouldFetchRootKey: true, identity: Ed25519KeyIdentity.generate() });
      const a = Actor.createActor<Certifying>(backend.idl, { agent, canisterId: backend.canisterId });
      // Before anything is certified there is nothing to hand over.
      expect(await a.certificate()).toEqual([]);
      const data = crypto.getRandomValues(new Uint8Array(32));
      await a.set_certified(data);
      const [bytes] = await a.certificate();
      expect(bytes).toBeInstanceOf(Uint8Array);
      const cert = await Certificate.create({ certificate: bytes!, rootKey: agent.rootKey!, canisterId: backend.canisterId });
      const certified = lookupResultToBuffer(cert.lookup_path(['canister', backend.canisterId.toUint8Array(), 'certified_data']));
      expect(Buffer.from(certified!).equals(Buffer.from(data))).toBe(true);
    } finally {
      await served.close();
      await backend.close();
    }
  });
});

describe('long-running update calls', () => {
  it('answers 202 when the outcome takes longer than the sync wait; the agent polls and gets it once', async () => {
    const backend = await echoBackend();
    const runtime = backend.runtime as EchoRuntime;
    runtime.updateDelayMs = 400;
    const iface = new IcHttpInterface({ runtime, keys: loadOrCreateKeys(), syncCallTimeoutMs: 50 });
    const served = await serveApp(createIcHttpApp(iface));
    try {
      const id = Ed25519KeyIdentity.generate();
      const raw = await signedCall(id, backend.canisterId, 'increment');
      const url = `${served.url}/api/v3/canister/${backend.canisterId.toText()}/call`;
      const first = await post(url, raw.body);
      expect(first.status).toBe(202);
      // A retry while it still runs is the same request: still 202, not a second execution.
      expect((await post(url, raw.body)).status).toBe(202);

      const agent = await HttpAgent.create({ host: served.url, shouldFetchRootKey: true, identity: id });
      const a = Actor.createActor<Fixture>(backend.idl, { agent, canisterId: backend.canisterId });
      expect(await a.increment()).toBe(2n);
      expect(runtime.executions).toBe(2);
      expect(await a.count()).toBe(2n);
    } finally {
      await served.close();
    }
  });
});
