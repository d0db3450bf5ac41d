// Message semantics of the local IC on the azle-built runtime fixture:
// replies, rejects with the IC's codes, caller/self/method/time, rollback of
// heap and stable memory on a trap, queries that write, the ingress size limit,
// certified data and the certificate hook, controllers, several canisters.
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalIC, LocalICError, MAX_INGRESS_BYTES, InstallCodeError } from '../../canister/local/index.js';
import { wasmModule } from './support/wasm-builder.js';
import { decode, enc, fixtureWasm, noArgs, START_TIME, startFixture, textArg, type Fixture } from './support/fixture.js';

const alice = Principal.fromText('rwlgt-iiaaa-aaaaa-aaaaa-cai');
const bob = Principal.fromUint8Array(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 2]));

let f: Fixture;
beforeAll(async () => {
  f = await startFixture({ controllers: [alice], initArg: 'hello from init' });
});
afterAll(async () => {
  await f.ic.close();
});

const optText = IDL.Opt(IDL.Text);

describe('replies', () => {
  it('runs canister_init with the Candid init argument', async () => {
    expect(await f.text('getInitArg')).toBe('hello from init');
  });

  it('commits an update and answers queries from the committed state', async () => {
    const r = await f.update('setMessage', textArg('hi there'));
    expect(r.status).toBe('replied');
    expect(await f.text('getMessage')).toBe('hi there');
  });

  it('reports the instructions every reply used', async () => {
    const u = await f.update('setMessage', textArg('x'));
    const q = await f.query('getMessage');
    expect(u.instructions).toBeGreaterThan(100_000n);
    expect(q.instructions).toBeGreaterThan(100_000n);
  });

  it('passes the caller to updates and queries (anonymous by default)', async () => {
    expect(decode<Principal>(IDL.Principal, await f.update('whoamiUpdate', noArgs, bob)).toText()).toBe(bob.toText());
    expect(decode<Principal>(IDL.Principal, await f.query('whoami', noArgs, alice)).toText()).toBe(alice.toText());
    expect(decode<Principal>(IDL.Principal, await f.query('whoami')).toText()).toBe(Principal.anonymous().toText());
  });

  it('knows its own id, the method name and the clock', async () => {
    expect(decode<Principal>(IDL.Principal, await f.query('self')).toText()).toBe(f.id.toText());
    expect(await f.text('methodName')).toBe('methodName');
    expect(decode<bigint>(IDL.Nat64, await f.query('now'))).toBe(START_TIME);
    expect(f.ic.timeNs()).toBe(START_TIME);
  });

  it('tells replicated from non-replicated execution (a query method called as an update is replicated)', async () => {
    expect(decode<boolean>(IDL.Bool, await f.query('replicated'))).toBe(false);
    expect(decode<boolean>(IDL.Bool, await f.update('replicated'))).toBe(true);
  });

  it('replies with raw bytes from a manual method', async () => {
    const arg = enc([IDL.Vec(IDL.Nat8)], [new Uint8Array([9, 8, 7])]);
    const r = await f.update('echoRaw', arg);
    expect(r.status === 'replied' && Buffer.from(r.reply).equals(Buffer.from(arg))).toBe(true);
  });

  it('assigns ids in the IC textual format from the local replica range', () => {
    expect(f.id.toText()).toBe('bkyz2-fmaaa-aaaaa-qaaaq-cai');
    expect(f.ic.canisterIds().map((p) => p.toText())).toEqual([f.id.toText()]);
  });
});

describe('rejects', () => {
  it('code 3 for an unknown method, update or query', async () => {
    const u = await f.update('noSuchMethod');
    expect(u).toMatchObject({
      status: 'rejected',
      rejectCode: 3,
      errorCode: 'IC0302',
      rejectMessage: `Canister ${f.id.toText()} has no update method 'noSuchMethod'`,
    });
    const q = await f.query('setMessage', textArg('x'));
    expect(q).toMatchObject({ status: 'rejected', rejectCode: 3, errorCode: 'IC0302' });
    expect(q.status === 'rejected' && q.rejectMessage).toContain("has no query method 'setMessage'");
  });

  it('code 3 for an unknown canister', async () => {
    const r = await f.ic.update(Principal.fromText('aaaaa-aa'), 'x', noArgs);
    expect(r).toMatchObject({ status: 'rejected', rejectCode: 3, errorCode: 'IC0301' });
  });

  it('code 4 for an explicit reject, update or query', async () => {
    expect(await f.update('rejectWith', textArg('not today'))).toMatchObject({
      status: 'rejected',
      rejectCode: 4,
      errorCode: 'IC0406',
      rejectMessage: 'not today',
    });
    expect(await f.query('rejectQuery', textArg('nor now'))).toMatchObject({
      status: 'rejected',
      rejectCode: 4,
      rejectMessage: 'nor now',
    });
  });

  it('code 5 for a trap, with the IC wording', async () => {
    const r = await f.update('writeThenTrap', textArg('boom'));
    expect(r).toMatchObject({ status: 'rejected', rejectCode: 5, errorCode: 'IC0503' });
    expect(r.status === 'rejected' && r.rejectMessage).toMatch(
      new RegExp(`^Canister ${f.id.toText()} trapped explicitly: .*trapped after writing boom`),
    );
  });
});

describe('rollback', () => {
  it('a trap after writing heap and stable memory leaves both unchanged', async () => {
    await f.update('setHeap', textArg('before'));
    expect((await f.update('writeThenTrap', textArg('after'))).status).toBe('rejected');
    expect(await f.text('getHeap')).toBe('before');
    expect(decode(optText, await f.query('stableGet', textArg('trap')))).toEqual([]);
  });

  it('an uncaught JavaScript error rolls back the same way', async () => {
    await f.update('setHeap', textArg('kept'));
    const r = await f.update('writeThenThrow', textArg('lost'));
    expect(r).toMatchObject({ status: 'rejected', rejectCode: 5 });
    expect(r.status === 'rejected' && r.rejectMessage).toContain('threw after writing lost');
    expect(await f.text('getHeap')).toBe('kept');
    expect(decode(optText, await f.query('stableGet', textArg('throw')))).toEqual([]);
  });

  it('the canister keeps working after a trap (heap intact, not just equal)', async () => {
    for (let i = 0; i < 3; i++) await f.update('writeThenTrap', textArg(`t${i}`));
    await f.update('stableSet', enc([IDL.Text, IDL.Text], ['after-traps', 'ok']));
    expect(decode(optText, await f.query('stableGet', textArg('after-traps')))).toEqual(['ok']);
  });

  it("discards a query's writes to heap and stable memory", async () => {
    await f.update('setHeap', textArg('committed'));
    expect(await f.text('queryWrite', textArg('query-write'))).toBe('query-write');
    expect(await f.text('getHeap')).toBe('committed');
    expect(decode(optText, await f.query('stableGet', textArg('query')))).toEqual([]);
  });

  it('discards the writes of a query method called as an update', async () => {
    await f.update('setHeap', textArg('committed-2'));
    expect(decode<string>(IDL.Text, await f.update('queryWrite', textArg('replicated-write')))).toBe('replicated-write');
    expect(await f.text('getHeap')).toBe('committed-2');
  });
});

describe('limits', () => {
  it('rejects an ingress argument over 2 MiB with the IC error and accepts one just under', async () => {
    const big = enc([IDL.Vec(IDL.Nat8)], [new Uint8Array(MAX_INGRESS_BYTES)]);
    const r = await f.update('byteLength', big);
    expect(r).toMatchObject({ status: 'rejected', errorCode: 'PayloadTooLarge', rejectCode: 1 });
    expect(r.status === 'rejected' && r.rejectMessage).toContain(`larger than the max allowed ${MAX_INGRESS_BYTES}`);
    const ok = enc([IDL.Vec(IDL.Nat8)], [new Uint8Array(MAX_INGRESS_BYTES - 64)]);
    expect(decode<bigint>(IDL.Nat64, await f.update('byteLength', ok))).toBe(BigInt(MAX_INGRESS_BYTES - 64));
  });
});

describe('certification and controllers', () => {
  it('stores certified data set by an update', async () => {
    const data = new Uint8Array(32).fill(7);
    await f.update('setCertified', enc([IDL.Vec(IDL.Nat8)], [data]));
    expect(Buffer.from(f.ic.certifiedData(f.id)).equals(Buffer.from(data))).toBe(true);
  });

  it('passes the certificate given to query() to data_certificate_*', async () => {
    const certificate = new Uint8Array([0xd9, 0xd9, 0xf7, 1, 2, 3]);
    const withCert = await f.ic.query(f.id, 'certificate', noArgs, { certificate });
    expect(decode<Uint8Array[]>(IDL.Opt(IDL.Vec(IDL.Nat8)), withCert).map((c) => [...c])).toEqual([[...certificate]]);
    expect(decode(IDL.Opt(IDL.Vec(IDL.Nat8)), await f.query('certificate'))).toEqual([]);
  });

  it('answers is_controller and controllers()', async () => {
    expect(decode<boolean>(IDL.Bool, await f.query('isController', enc([IDL.Principal], [alice])))).toBe(true);
    expect(decode<boolean>(IDL.Bool, await f.query('isController', enc([IDL.Principal], [bob])))).toBe(false);
    expect(f.ic.controllers(f.id).map((p) => p.toText())).toEqual([alice.toText()]);
  });

  it('reports the module hash (sha256 of the installed Wasm)', async () => {
    const { createHash } = await import('node:crypto');
    const expected = createHash('sha256').update(fixtureWasm()).digest('hex');
    expect(Buffer.from(f.ic.moduleHash(f.id)!).toString('hex')).toBe(expected);
  });

  it('refuses install from a principal that is not a controller', async () => {
    await expect(
      f.ic.installCode(f.id, fixtureWasm(), { mode: 'upgrade', arg: textArg('x'), sender: bob }),
    ).rejects.toMatchObject({ code: 'NotController' });
  });
});

describe('several canisters', () => {
  it('keeps state apart and routes debug_print to the logger with the canister id', async () => {
    const lines: [string, string][] = [];
    const ic = await LocalIC.create({ clock: 'manual', startTime: START_TIME, log: (id, line) => lines.push([id, line]) });
    try {
      const a = await ic.createCanister();
      const b = await ic.createCanister();
      expect(a.toText()).not.toBe(b.toText());
      expect(b.toText()).toBe('bd3sg-teaaa-aaaaa-qaaba-cai');
      await ic.installCode(a, fixtureWasm(), { mode: 'install', arg: textArg('A') });
      await ic.installCode(b, fixtureWasm(), { mode: 'install', arg: textArg('B') });
      await ic.update(a, 'stableSet', enc([IDL.Text, IDL.Text], ['k', 'in A']));
      await ic.update(b, 'setMessage', textArg('in B'));
      expect(decode(optText, await ic.query(a, 'stableGet', textArg('k')))).toEqual(['in A']);
      expect(decode(optText, await ic.query(b, 'stableGet', textArg('k')))).toEqual([]);
      expect(decode(IDL.Text, await ic.query(a, 'getMessage', noArgs))).toBe('Hello world!');
      expect(decode(IDL.Text, await ic.query(b, 'getInitArg', noArgs))).toBe('B');
      // Inter-canister calls: A awaits B's reply, and B's explicit reject reaches A as code 4.
      expect(decode(IDL.Text, await ic.update(a, 'askOther', enc([IDL.Principal], [b])))).toBe('in B');
      expect(decode(IDL.Text, await ic.query(a, 'getHeap', noArgs))).toBe('asked: in B');
      expect(decode(IDL.Text, await ic.update(a, 'askOtherToReject', enc([IDL.Principal], [b])))).toBe(
        'call rejected: 4 - go away',
      );
      await ic.update(b, 'log', textArg('printed by B'));
      // azle's console.log prints its arguments JSON-encoded.
      expect(lines).toContainEqual([b.toText(), '"printed by B"']);
    } finally {
      await ic.close();
    }
  });
});

describe('install', () => {
  it('refuses a module whose imports it does not implement, naming them', async () => {
    const wasm = wasmModule({
      types: [[[], []]],
      imports: [
        ['ic0', 'no_such_call', 0],
        ['env', 'abort', 0],
      ],
    });
    const id = await f.ic.createCanister();
    const err = await f.ic.installCode(id, wasm, { mode: 'install' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalICError);
    expect((err as LocalICError).code).toBe('MissingImports');
    expect((err as Error).message).toContain('ic0.no_such_call');
    expect((err as Error).message).toContain('env.abort');
  });

  it('install on a non-empty canister and upgrade of an empty one are refused', async () => {
    await expect(f.ic.installCode(f.id, fixtureWasm(), { mode: 'install', arg: textArg('x') })).rejects.toMatchObject({
      code: 'CanisterNotEmpty',
    });
    const empty = await f.ic.createCanister();
    await expect(f.ic.installCode(empty, fixtureWasm(), { mode: 'upgrade', arg: textArg('x') })).rejects.toMatchObject({
      code: 'CanisterEmpty',
    });
    expect(await f.ic.update(empty, 'getMessage', noArgs)).toMatchObject({ rejectCode: 5, errorCode: 'IC0537' });
  });

  it('a trapping canister_init leaves the canister empty', async () => {
    const id = await f.ic.createCanister();
    // The fixture's init expects a text argument: a nat makes Candid decoding trap.
    const err = await f.ic
      .installCode(id, fixtureWasm(), { mode: 'install', arg: enc([IDL.Nat], [5n]) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InstallCodeError);
    expect((err as InstallCodeError).reject.rejectCode).toBe(5);
    expect(f.ic.moduleHash(id)).toBeUndefined();
  });
});
