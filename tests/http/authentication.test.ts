// Request checks of the HTTP interface that the agent never triggers on its
// own, on hand-built envelopes: sender/public key mismatch, missing or
// misplaced signatures, oversized nonces and read_state paths, long or
// cyclic delegation chains, and the paths read_state allows.
import { Cbor, Expiry, requestIdOf, type SignIdentity } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { DelegationChain, DelegationIdentity, Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { beforeAll, describe, expect, it } from 'vitest';
import { IcHttpInterface } from '../../canister/local/http/interface.js';
import { loadOrCreateKeys } from '../../canister/local/http/keys.js';
import { EchoRuntime } from './support/echo-runtime.js';

const enc = new TextEncoder();
const expiry = () => Expiry.fromDeltaInMilliseconds(4 * 60_000);

function content(sender: Principal, canisterId: Principal, extra: Record<string, unknown> = {}) {
  return {
    request_type: 'call',
    canister_id: canisterId,
    method_name: 'whoami',
    arg: new Uint8Array(IDL.encode([], [])),
    sender,
    ingress_expiry: expiry(),
    nonce: crypto.getRandomValues(new Uint8Array(16)),
    ...extra,
  };
}

async function signed(identity: SignIdentity, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const t = (await identity.transformRequest({ request: {}, endpoint: 'call', body } as never)) as { body: Record<string, unknown> };
  return t.body;
}

describe('request checks', () => {
  let rt: EchoRuntime;
  let iface: IcHttpInterface;
  const id = Ed25519KeyIdentity.generate();
  beforeAll(() => {
    rt = new EchoRuntime();
    iface = new IcHttpInterface({ runtime: rt, keys: loadOrCreateKeys() });
  });

  const call = (envelope: unknown) => iface.handle('call-v3', rt.canisterId.toText(), Cbor.encode(envelope as never));

  it('accepts a well-formed signed call (control)', async () => {
    const r = await call(await signed(id, content(id.getPrincipal(), rt.canisterId)));
    expect(r.status).toBe(200);
  });

  it('refuses a sender that is not the public key\'s principal', async () => {
    const env = await signed(id, content(Ed25519KeyIdentity.generate().getPrincipal(), rt.canisterId));
    const r = await call(env);
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/^The user id '.+' does not match the public key '302a3005/);
  });

  it('refuses a non-anonymous sender without signature, and an anonymous sender with one', async () => {
    const unsigned = await call({ content: content(id.getPrincipal(), rt.canisterId) });
    expect(unsigned).toMatchObject({ status: 400, body: `Missing signature from user: ${id.getPrincipal().toText()}` });
    const env = await signed(id, content(Principal.anonymous(), rt.canisterId));
    expect(await call(env)).toMatchObject({ status: 400, body: 'Signature is not allowed for the anonymous user.' });
  });

  it('refuses malformed bodies and oversized nonces', async () => {
    expect((await iface.handle('call-v3', rt.canisterId.toText(), new Uint8Array([1, 2, 3]))).status).toBe(400);
    expect((await call({ content: { request_type: 'call' } })).status).toBe(400);
    const big = await signed(id, content(id.getPrincipal(), rt.canisterId, { nonce: new Uint8Array(33) }));
    expect(await call(big)).toMatchObject({ status: 400, body: 'Nonce in request is too big: got 33 bytes, but at most 32 are allowed.' });
    expect((await iface.handle('call-v3', 'not-a-principal', Cbor.encode({} as never))).status).toBe(400);
  });

  it('refuses delegation chains that are too long or cyclic', async () => {
    const keys = Array.from({ length: 22 }, () => Ed25519KeyIdentity.generate());
    let chain = await DelegationChain.create(keys[0], keys[1].getPublicKey(), new Date(Date.now() + 600_000));
    for (let i = 1; i < 21; i++) chain = await DelegationChain.create(keys[i], keys[i + 1].getPublicKey(), new Date(Date.now() + 600_000), { previous: chain });
    const long = DelegationIdentity.fromDelegation(keys[21], chain);
    const r = await call(await signed(long, content(long.getPrincipal(), rt.canisterId)));
    expect(r).toMatchObject({ status: 400, body: 'Invalid delegation: Chain of delegations is too long: got 21 delegations, but at most 20 are allowed.' });

    const a = Ed25519KeyIdentity.generate();
    const b = Ed25519KeyIdentity.generate();
    const ab = await DelegationChain.create(a, b.getPublicKey(), new Date(Date.now() + 600_000));
    const aba = await DelegationChain.create(b, a.getPublicKey(), new Date(Date.now() + 600_000), { previous: ab });
    const cyclic = DelegationIdentity.fromDelegation(a, aba);
    const c = await call(await signed(cyclic, content(cyclic.getPrincipal(), rt.canisterId)));
    expect(c.status).toBe(400);
    expect(c.body).toMatch(/^Invalid delegation: Chain of delegations contains at least one cycle/);
  });

  it('allows read_state of time, subnet, the canister\'s own data and request ids of the caller only', async () => {
    const readState = async (paths: Uint8Array[][], ecid = rt.canisterId.toText(), who: SignIdentity = id) => {
      const body = { request_type: 'read_state', paths, sender: who.getPrincipal(), ingress_expiry: expiry() };
      return iface.handle('read_state', ecid, Cbor.encode((await signed(who, body)) as never));
    };
    const cid = rt.canisterId.toUint8Array();
    expect((await readState([[enc.encode('time')]])).status).toBe(200);
    expect((await readState([[enc.encode('subnet')]])).status).toBe(200);
    expect((await readState([[enc.encode('canister'), cid, enc.encode('module_hash')]])).status).toBe(200);
    expect((await readState([[enc.encode('canister'), cid, enc.encode('metadata'), enc.encode('candid:service')]])).status).toBe(200);
    const other = Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai');
    expect(await readState([[enc.encode('canister'), other.toUint8Array(), enc.encode('module_hash')]])).toMatchObject({
      status: 400,
      body: `Effective principal id in URL ${rt.canisterId.toText()} does not match requested principal id: ${other.toText()}.`,
    });
    expect(await readState([[enc.encode('canister'), cid, enc.encode('certified_data')]])).toMatchObject({ status: 404, body: 'Invalid path requested.' });
    expect(await readState([[enc.encode('request_status'), new Uint8Array(5)]])).toMatchObject({ status: 400, body: 'Request IDs must be 32 bytes in length.' });
    expect(
      await readState([
        [enc.encode('request_status'), new Uint8Array(32).fill(1)],
        [enc.encode('request_status'), new Uint8Array(32).fill(2)],
      ]),
    ).toMatchObject({ status: 400, body: 'Can only request a single request ID in request_status paths.' });

    // A request of `id`: readable by `id`, not by someone else.
    const env = await signed(id, content(id.getPrincipal(), rt.canisterId));
    expect((await call(env)).status).toBe(200);
    const rid = requestIdOf((env as { content: Record<string, unknown> }).content);
    expect((await readState([[enc.encode('request_status'), rid]])).status).toBe(200);
    expect(await readState([[enc.encode('request_status'), rid]], rt.canisterId.toText(), Ed25519KeyIdentity.generate())).toMatchObject({
      status: 403,
      body: 'Request IDs must be for requests signed by the caller.',
    });
    expect((await readState(Array.from({ length: 1001 }, () => [enc.encode('time')]))).status).toBe(400);
  });

  it('accepts anonymous queries and read_state with any expiry (agents sync their clock that way), not anonymous calls', async () => {
    const stale = (BigInt(Date.now()) - 3600_000n) * 1_000_000n;
    const anon = Principal.anonymous();
    const q = { ...content(anon, rt.canisterId), request_type: 'query', ingress_expiry: stale };
    expect((await iface.handle('query', rt.canisterId.toText(), Cbor.encode({ content: q } as never))).status).toBe(200);
    const rs = { request_type: 'read_state', paths: [[enc.encode('time')]], sender: anon, ingress_expiry: stale };
    expect((await iface.handle('read_state', rt.canisterId.toText(), Cbor.encode({ content: rs } as never))).status).toBe(200);
    const c = await call({ content: { ...content(anon, rt.canisterId), ingress_expiry: stale } });
    expect(c.status).toBe(400);
    expect(c.body).toMatch(/^Invalid request expiry: /);
  });
});
