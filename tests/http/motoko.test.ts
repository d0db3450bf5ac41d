// Motoko canisters compiled by moc (the `motoko` npm package, 4.10) in the
// test setup, installed in the local IC and called over HTTP through the real
// @dfinity/agent at default settings: a counter (counts, concurrent calls,
// the caller, its Candid interface) and a canister that traps every way
// Motoko can (reject texts as the replica words them, state undone; a thrown
// error is a reject whose changes stay). moc 4.10 emits enhanced orthogonal
// persistence only: a 64-bit memory and a 64-bit table, which the local IC
// runs on Node 20 by enabling V8's memory64 and lowering the table.
import { Actor, AgentError, CanisterStatus, CertifiedRejectErrorCode, type ActorSubclass, type HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readSections, Reader, SECTION } from '../../canister/local/wasm/binary.js';
import { instrumentModule } from '../../canister/local/wasm/instrument.js';
import { enableMemory64 } from '../../canister/local/runtime/module.js';
import { LocalIC } from '../../canister/local/index.js';
import { startManualIc, type ManualIc } from './support/manual-ic.js';
import { compileMotoko, type CompiledMotoko } from './support/motoko.js';

interface Counter {
  inc(): Promise<bigint>;
  get(): Promise<bigint>;
  whoami(): Promise<Principal>;
}
const counterIdl: IDL.InterfaceFactory = ({ IDL: I }) =>
  I.Service({ inc: I.Func([], [I.Nat], []), get: I.Func([], [I.Nat], ['query']), whoami: I.Func([], [I.Principal], ['query']) });

interface Trapping {
  get(): Promise<bigint>;
  trap_after_inc(): Promise<bigint>;
  assert_after_inc(): Promise<void>;
  divide_after_inc(n: bigint): Promise<bigint>;
  reject_after_inc(): Promise<bigint>;
}
const trappingIdl: IDL.InterfaceFactory = ({ IDL: I }) =>
  I.Service({
    get: I.Func([], [I.Nat], ['query']),
    trap_after_inc: I.Func([], [I.Nat], []),
    assert_after_inc: I.Func([], [], []),
    divide_after_inc: I.Func([I.Nat], [I.Nat], []),
    reject_after_inc: I.Func([], [I.Nat], []),
  });

async function rejectOf(p: Promise<unknown>): Promise<CertifiedRejectErrorCode> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AgentError);
  expect((e as AgentError).hasCode(CertifiedRejectErrorCode)).toBe(true);
  return (e as AgentError).code as CertifiedRejectErrorCode;
}

/** [flags of memory 0, flags of table 0] of a module (bit 0x04: 64-bit). */
function limitsFlags(wasm: Uint8Array): { memory: number; table: number } {
  const out = { memory: -1, table: -1 };
  for (const s of readSections(wasm)) {
    if (s.id !== SECTION.memory && s.id !== SECTION.table) continue;
    const r = new Reader(s.payload);
    r.u32();
    if (s.id === SECTION.table) {
      r.byte();
      out.table = r.byte();
    } else {
      out.memory = r.byte();
    }
  }
  return out;
}

describe('Motoko canisters compiled by moc, over HTTP with the real agent', () => {
  let counterWasm: CompiledMotoko;
  let trappingWasm: CompiledMotoko;
  let net: ManualIc;
  let agent: HttpAgent;
  let counterId: Principal;
  let trappingId: Principal;
  let counter: ActorSubclass<Counter>;
  let trapping: ActorSubclass<Trapping>;

  beforeAll(async () => {
    counterWasm = await compileMotoko('counter');
    trappingWasm = await compileMotoko('trapping');
    net = await startManualIc();
    const noArgs = new Uint8Array(IDL.encode([], []));
    counterId = await net.ic.createCanister();
    await net.ic.installCode(counterId, counterWasm.wasm, { mode: 'install', arg: noArgs });
    trappingId = await net.ic.createCanister();
    await net.ic.installCode(trappingId, trappingWasm.wasm, { mode: 'install', arg: noArgs });
    agent = await net.agent();
    counter = Actor.createActor<Counter>(counterIdl, { agent, canisterId: counterId });
    trapping = Actor.createActor<Trapping>(trappingIdl, { agent, canisterId: trappingId });
  });
  afterAll(async () => {
    await net?.close();
  });
  beforeEach(async () => {
    await net.catchUp();
  });

  it("is moc's enhanced orthogonal persistence: a 64-bit memory and table; the local IC lowers the table only", () => {
    expect(limitsFlags(counterWasm.wasm)).toMatchObject({ memory: 0x04, table: 0x05 });
    const lowered = instrumentModule(counterWasm.wasm);
    expect(lowered.memory64).toBe(true);
    expect(lowered.table64Lowered).toBe(true);
    expect(limitsFlags(lowered.wasm)).toMatchObject({ memory: 0x04, table: 0x01 });
    expect(enableMemory64()).toBe(true);
    expect(WebAssembly.validate(new Uint8Array(lowered.wasm))).toBe(true);
  });

  it('counts: updates commit, queries read the committed count', async () => {
    expect(await counter.get()).toBe(0n);
    expect(await counter.inc()).toBe(1n);
    expect(await counter.inc()).toBe(2n);
    expect(await counter.get()).toBe(2n);
  });

  it('answers concurrent calls through the agent, each exactly once', async () => {
    const before = await counter.get();
    const results = await Promise.all(Array.from({ length: 12 }, () => counter.inc()));
    expect([...results].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(
      Array.from({ length: 12 }, (_, i) => before + BigInt(i) + 1n),
    );
    expect(await counter.get()).toBe(before + 12n);
  });

  it('sees the signer as its caller', async () => {
    const identity = Ed25519KeyIdentity.generate();
    const mine = Actor.createActor<Counter>(counterIdl, { agent: await net.agent(identity), canisterId: counterId });
    expect((await mine.whoami()).toText()).toBe(identity.getPrincipal().toText());
  });

  it('embeds its Candid interface, certified as candid:service', async () => {
    const status = await CanisterStatus.request({ agent, canisterId: counterId, paths: ['candid'] });
    expect(status.get('candid')).toBe(counterWasm.candid);
    expect(counterWasm.candid).toContain('inc: () -> (nat);');
  });

  it('traps with the replica\'s reject texts and undoes the message', async () => {
    const id = trappingId.toText();
    const explicit = await rejectOf(trapping.trap_after_inc());
    expect([explicit.rejectCode, explicit.rejectErrorCode, explicit.rejectMessage]).toEqual([5, 'IC0503', `Canister ${id} trapped explicitly: boom`]);
    const assertion = await rejectOf(trapping.assert_after_inc());
    expect([assertion.rejectCode, assertion.rejectErrorCode]).toEqual([5, 'IC0503']);
    expect(assertion.rejectMessage).toMatch(new RegExp(`^Canister ${id} trapped explicitly: assertion failed at trapping\\.mo:\\d+\\.\\d+-\\d+\\.\\d+$`));
    const division = await rejectOf(trapping.divide_after_inc(0n));
    expect([division.rejectCode, division.rejectErrorCode, division.rejectMessage]).toEqual([5, 'IC0502', `Canister ${id} trapped: integer division by 0`]);
    expect(await trapping.get()).toBe(0n);
    expect(await trapping.divide_after_inc(5n)).toBe(2n);
    expect(await trapping.get()).toBe(1n);
  });

  it('a thrown error is a reject (code 4) whose state changes stay', async () => {
    const before = await trapping.get();
    const code = await rejectOf(trapping.reject_after_inc());
    expect([code.rejectCode, code.rejectErrorCode, code.rejectMessage]).toEqual([4, 'IC0406', 'nope']);
    expect(await trapping.get()).toBe(before + 1n);
  });

  it('runs on a worker-thread local IC too (as npm start runs it)', async () => {
    const ic = await LocalIC.create({ thread: 'worker', log: () => {} });
    try {
      const id = await ic.createCanister();
      await ic.installCode(id, counterWasm.wasm, { mode: 'install', arg: new Uint8Array(IDL.encode([], [])) });
      const r = await ic.update(id, 'inc', new Uint8Array(IDL.encode([], [])));
      expect(r.status).toBe('replied');
      expect(IDL.decode([IDL.Nat], (r as { reply: Uint8Array }).reply)).toEqual([1n]);
    } finally {
      await ic.close();
    }
  });
});
