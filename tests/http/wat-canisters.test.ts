// Canisters written without a CDK, in WebAssembly text assembled with wabt,
// installed in the local IC and called over HTTP with the real
// @dfinity/agent at default settings. Each pins a rule of the IC interface
// specification: the module's memory is found whatever it is exported as, or
// without an export; `msg_reply_data_append` pieces make one reply;
// `msg_reject` is a response (its state changes stay) while a trap undoes
// the message, a reply before it included; 64-bit stable memory addresses
// beyond 4 GiB; the global timer fires once when its deadline passes; and a
// canister without a module is refused at ingress, never certified.
import {
  Actor,
  AgentError,
  Cbor,
  Certificate,
  CertifiedRejectErrorCode,
  UncertifiedRejectErrorCode,
  UncertifiedRejectUpdateErrorCode,
  type ActorSubclass,
  type HttpAgent,
} from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lookupPath, type HashTree } from '../../canister/local/http/hash-tree.js';
import { assembleWat } from './support/wat.js';
import { startManualIc, type ManualIc } from './support/manual-ic.js';

interface Probe {
  inc(): Promise<bigint>;
  get(): Promise<bigint>;
  pieces(): Promise<string>;
  reject_after_inc(): Promise<void>;
  trap_after_inc(): Promise<void>;
  unreachable_after_inc(): Promise<void>;
  reply_then_trap(): Promise<void>;
  stable_far(): Promise<bigint>;
  stable_size(): Promise<bigint>;
  arm_timer(): Promise<bigint>;
  fired(): Promise<bigint>;
}

const probeIdl: IDL.InterfaceFactory = ({ IDL: I }) =>
  I.Service({
    inc: I.Func([], [I.Nat64], []),
    get: I.Func([], [I.Nat64], ['query']),
    pieces: I.Func([], [I.Text], ['query']),
    reject_after_inc: I.Func([], [], []),
    trap_after_inc: I.Func([], [], []),
    unreachable_after_inc: I.Func([], [], []),
    reply_then_trap: I.Func([], [], []),
    stable_far: I.Func([], [I.Nat64], []),
    stable_size: I.Func([], [I.Nat64], ['query']),
    arm_timer: I.Func([], [I.Nat64], []),
    fired: I.Func([], [I.Nat64], ['query']),
  });

interface Bare {
  inc(): Promise<bigint>;
  whoami(): Promise<Principal>;
}

const bareIdl: IDL.InterfaceFactory = ({ IDL: I }) =>
  I.Service({ inc: I.Func([], [I.Nat64], []), whoami: I.Func([], [I.Principal], ['query']) });

async function rejectOf(p: Promise<unknown>): Promise<AgentError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AgentError);
  return e as AgentError;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('WAT canisters over HTTP with the real agent', () => {
  let net: ManualIc;
  let agent: HttpAgent;
  let probeId: Principal;
  let bareId: Principal;
  let emptyId: Principal;
  let probe: ActorSubclass<Probe>;

  beforeAll(async () => {
    net = await startManualIc();
    probeId = await net.ic.createCanister();
    await net.ic.installCode(probeId, await assembleWat('probe'), { mode: 'install' });
    bareId = await net.ic.createCanister();
    await net.ic.installCode(bareId, await assembleWat('no_memory_export'), { mode: 'install' });
    emptyId = await net.ic.createCanister();
    agent = await net.agent();
    probe = Actor.createActor<Probe>(probeIdl, { agent, canisterId: probeId });
  });
  afterAll(async () => {
    await net?.close();
  });
  beforeEach(async () => {
    await net.catchUp();
  });

  it('finds the memory of a module that exports it as "heap": state lives across calls', async () => {
    const start = await probe.get();
    expect(await probe.inc()).toBe(start + 1n);
    expect(await probe.inc()).toBe(start + 2n);
    expect(await probe.get()).toBe(start + 2n);
  });

  it('runs a module that exports no memory: the system API reads and writes it all the same', async () => {
    const identity = Ed25519KeyIdentity.generate();
    const bare = Actor.createActor<Bare>(bareIdl, { agent: await net.agent(identity), canisterId: bareId });
    expect(await bare.inc()).toBe(1n);
    expect(await bare.inc()).toBe(2n);
    expect((await bare.whoami()).toText()).toBe(identity.getPrincipal().toText());
  });

  it('joins the pieces of msg_reply_data_append into one reply', async () => {
    expect(await probe.pieces()).toBe('hello world');
  });

  it('msg_reject answers with reject code 4 and keeps the state changes of the message', async () => {
    const before = await probe.get();
    const e = await rejectOf(probe.reject_after_inc());
    expect(e.hasCode(CertifiedRejectErrorCode)).toBe(true);
    const code = e.code as CertifiedRejectErrorCode;
    expect(code.rejectCode).toBe(4);
    expect(code.rejectErrorCode).toBe('IC0406');
    expect(code.rejectMessage).toBe('no thanks');
    expect(await probe.get()).toBe(before + 1n);
  });

  it('ic0.trap and a Wasm trap reject with code 5 and undo the message', async () => {
    const before = await probe.get();
    const explicit = (await rejectOf(probe.trap_after_inc())).code as CertifiedRejectErrorCode;
    expect(explicit.rejectCode).toBe(5);
    expect(explicit.rejectErrorCode).toBe('IC0503');
    expect(explicit.rejectMessage).toBe(`Canister ${probeId.toText()} trapped explicitly: boom`);
    const wasm = (await rejectOf(probe.unreachable_after_inc())).code as CertifiedRejectErrorCode;
    expect(wasm.rejectCode).toBe(5);
    expect(wasm.rejectErrorCode).toBe('IC0502');
    expect(wasm.rejectMessage).toBe(`Canister ${probeId.toText()} trapped: unreachable`);
    expect(await probe.get()).toBe(before);
  });

  it('a reply is not sent when the message traps after it', async () => {
    const before = await probe.get();
    const code = (await rejectOf(probe.reply_then_trap())).code as CertifiedRejectErrorCode;
    expect(code.rejectErrorCode).toBe('IC0503');
    expect(await probe.get()).toBe(before);
  });

  it('addresses stable memory beyond 4 GiB through the 64-bit API', async () => {
    expect(await probe.stable_far()).toBe(0x1122334455667788n);
    // 5 GiB + 8 bytes need 81921 pages of 64 KiB.
    expect(await probe.stable_size()).toBe(81921n);
    // Growing again is not needed and the bytes are still there.
    expect(await probe.stable_far()).toBe(0x1122334455667788n);
    expect(await probe.stable_size()).toBe(81921n);
  });

  it('fires the global timer once, after its deadline, and reports the previous deadline when set again', async () => {
    expect(await probe.fired()).toBe(0n);
    const armedAt = net.ic.timeNs();
    expect(await probe.arm_timer()).toBe(0n);
    await net.ic.advanceTime(500);
    expect(await probe.fired()).toBe(0n);
    await net.ic.advanceTime(600);
    expect(await probe.fired()).toBe(1n);
    // Deactivated before it ran: it does not fire again.
    await net.ic.advanceTime(5_000);
    expect(await probe.fired()).toBe(1n);
    // Setting it twice: the second set returns the first deadline.
    const first = await probe.arm_timer();
    expect(first).toBe(0n);
    const previous = await probe.arm_timer();
    expect(previous).toBeGreaterThan(armedAt + 1_000_000_000n);
    await net.ic.advanceTime(1_100);
    expect(await probe.fired()).toBe(2n);
  });

  it('refuses a call to a canister without a module at ingress, as the replica does: never certified', async () => {
    const empty = Actor.createActor<Probe>(probeIdl, { agent, canisterId: emptyId });
    const e = await rejectOf(empty.inc());
    expect(e.hasCode(UncertifiedRejectUpdateErrorCode)).toBe(true);
    const code = e.code as UncertifiedRejectUpdateErrorCode;
    expect(code.rejectCode).toBe(5);
    expect(code.rejectErrorCode).toBe('IC0537');
    expect(code.rejectMessage).toBe('Requested canister has no wasm module');
    // The request never reached execution: its status is provably absent.
    const { certificate } = await agent.readState(emptyId, { paths: [[utf8('request_status'), code.requestId]] });
    // The agent verifies the certificate; the lookup is the specification's
    // (agent 3.4.3's own find_label does not compare labels
    // lexicographically, so it reports most absence proofs as Unknown).
    await Certificate.create({ certificate, rootKey: agent.rootKey!, canisterId: emptyId });
    const tree = Cbor.decode<{ tree: HashTree }>(certificate).tree;
    expect(lookupPath(tree, ['request_status', code.requestId, 'status']).status).toBe('absent');
    // A query is answered by the canister's execution environment: IC0537 as well.
    const q = await rejectOf(empty.get());
    expect(q.hasCode(UncertifiedRejectErrorCode)).toBe(true);
    expect((q.code as UncertifiedRejectErrorCode).rejectErrorCode).toBe('IC0537');
  });

  it('the v2 endpoint answers the same refusal as a bare reject body', async () => {
    const { signedCall, post } = await import('./support/requests.js');
    const call = await signedCall(Ed25519KeyIdentity.generate(), emptyId, 'inc');
    const r = await post(`${net.served.url}/api/v2/canister/${emptyId.toText()}/call`, call.body);
    expect(r.status).toBe(200);
    const body = Cbor.decode<Record<string, unknown>>(new Uint8Array(await r.arrayBuffer()));
    expect(body).toEqual({ error_code: 'IC0537', reject_code: 5, reject_message: 'Requested canister has no wasm module' });
  });
});
