// Canisters executing in parallel on the threaded local IC (`thread:
// 'worker'` with a pool of runtime workers, each canister pinned to one):
// two canisters' long updates overlap; calls between canisters of different
// workers reply, reject and call back; a canister creates, installs, stops
// and calls a canister that lands on another worker, with one id sequence
// for all; and a restart (also with another pool size) brings every
// canister back with its stable memory.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANISTER_RANGE_START, canisterIdFromIndex, LocalIC } from '../../canister/local/index.js';
import { ManagementArgs, ManagementResults } from '../../canister/local/runtime/management-idl.js';
import { decode, enc, fixtureWasm, noArgs, START_TIME, textArg, wrap, type Fixture } from './support/fixture.js';

const MGMT = Principal.managementCanister();
const alice = Principal.fromText('rwlgt-iiaaa-aaaaa-aaaaa-cai');
const CHUNK = 1024 * 1024;
const sha = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
/** About a second of Wasm on the development machine (see thread.test.ts). */
const LONG_ROUNDS = 10_000_000;

const RawResult = IDL.Variant({ Ok: IDL.Vec(IDL.Nat8), Err: IDL.Record({ code: IDL.Nat32, message: IDL.Text }) });
type Raw = { Ok: Uint8Array | number[] } | { Err: { code: number; message: string } };
type Method = keyof typeof ManagementArgs;

/** `from` calls `callee.method` with raw Candid bytes (the fixture's callRaw): the reply bytes or the reject. */
async function callRaw(from: Fixture, callee: Principal, method: string, arg: Uint8Array): Promise<Raw> {
  return decode<Raw>(RawResult, await from.update('callRaw', enc([IDL.Principal, IDL.Text, IDL.Vec(IDL.Nat8)], [callee, method, arg])));
}

/** `from` calls the management canister; returns the decoded reply or fails with the reject. */
async function mgmt<T = unknown>(from: Fixture, method: Method, arg: unknown): Promise<T> {
  const r = await callRaw(from, MGMT, method, enc([ManagementArgs[method]], [arg]));
  if ('Err' in r) throw new Error(`management ${method} rejected ${r.Err.code}: ${r.Err.message}`);
  const bytes = r.Ok instanceof Uint8Array ? r.Ok : new Uint8Array(r.Ok);
  return IDL.decode(ManagementResults[method] as IDL.Type[], bytes)[0] as T;
}

/** `from` creates a canister and installs the fixture in it through the chunk store (the module is over 2 MiB). */
async function createFromCanister(from: Fixture, initArg: string): Promise<Principal> {
  const { canister_id: id } = await mgmt<{ canister_id: Principal }>(from, 'create_canister', { settings: [], sender_canister_version: [] });
  const wasm = fixtureWasm();
  const hashes: Uint8Array[] = [];
  for (let at = 0; at < wasm.length; at += CHUNK) {
    const chunk = wasm.subarray(at, at + CHUNK);
    await mgmt(from, 'upload_chunk', { canister_id: id, chunk });
    hashes.push(sha(chunk));
  }
  await mgmt(from, 'install_chunked_code', {
    mode: { install: null },
    target_canister: id,
    store_canister: [],
    chunk_hashes_list: hashes.map((hash) => ({ hash })),
    wasm_module_hash: sha(wasm),
    arg: textArg(initArg),
    sender_canister_version: [],
  });
  return id;
}

async function fixtureCanister(ic: LocalIC, initArg: string): Promise<Fixture> {
  const id = await ic.createCanister({ controllers: [alice] });
  await ic.installCode(id, fixtureWasm(), { mode: 'install', arg: textArg(initArg) });
  return wrap(ic, id);
}

describe('two canisters on a pool of two workers', () => {
  let ic: LocalIC;
  let a: Fixture;
  let b: Fixture;
  const events: string[] = [];

  beforeAll(async () => {
    ic = await LocalIC.create({
      thread: 'worker',
      workers: 2,
      clock: 'manual',
      startTime: START_TIME,
      log: (_id, line) => events.push(line),
    });
    a = await fixtureCanister(ic, 'A');
    b = await fixtureCanister(ic, 'B');
  });
  afterAll(async () => {
    await ic.close();
  });

  it("execute long updates at the same time: both start before either ends", async () => {
    events.length = 0;
    const run = (f: Fixture, name: string) =>
      f.update('logThenWork', enc([IDL.Text, IDL.Nat32], [`${name} started`, LONG_ROUNDS])).then((r) => {
        events.push(`${name} done`);
        return r;
      });
    const [ra, rb] = await Promise.all([run(a, 'A'), run(b, 'B')]);
    expect(ra.status).toBe('replied');
    expect(rb.status).toBe('replied');
    // Each start line is posted by its worker while the message executes;
    // on one thread the second could start only after the first answered.
    const seen = events.join(' | ');
    const firstDone = Math.min(events.indexOf('A done'), events.indexOf('B done'));
    expect(seen).toContain('A started');
    expect(seen).toContain('B started');
    expect(events.indexOf('A started')).toBeLessThan(firstDone);
    expect(events.indexOf('B started')).toBeLessThan(firstDone);
  });

  it('call each other across workers: replies, rejects, a call back into the caller, an unknown callee', async () => {
    await a.update('setMessage', textArg('from A'));
    await b.update('setMessage', textArg('from B'));
    expect(decode<string>(IDL.Text, await a.update('askOther', enc([IDL.Principal], [b.id])))).toBe('from B');
    expect(await a.text('getHeap')).toBe('asked: from B'); // the callback committed on A's worker
    expect(decode<string>(IDL.Text, await a.update('askOtherToReject', enc([IDL.Principal], [b.id])))).toContain('go away');
    // A → B → A: B's call back into A runs while A's call context waits.
    const back = await callRaw(a, b.id, 'askOther', enc([IDL.Principal], [a.id]));
    expect('Ok' in back && IDL.decode([IDL.Text], new Uint8Array(back.Ok))[0]).toBe('from A');
    const missing = canisterIdFromIndex(CANISTER_RANGE_START + 999n);
    expect(await callRaw(a, missing, 'getMessage', noArgs)).toEqual({
      Err: { code: 3, message: `Canister ${missing.toText()} not found` },
    });
    expect(await callRaw(a, b.id, 'nope', noArgs)).toMatchObject({ Err: { code: 3 } });
  });

  it('a trapping callee on another worker rolls back there and rejects to the caller', async () => {
    await b.update('setHeap', textArg('kept'));
    const r = await callRaw(a, b.id, 'writeThenTrap', textArg('lost'));
    expect(r).toMatchObject({ Err: { code: 5 } });
    expect(await b.text('getHeap')).toBe('kept');
  });

  it('the manual clock moves on every worker: timers fire on both', async () => {
    const before = ic.timeNs();
    await ic.advanceTime(1_000);
    expect(ic.timeNs()).toBe(before + 1_000_000_000n);
    expect(decode<bigint>(IDL.Nat64, await a.query('now'))).toBe(decode<bigint>(IDL.Nat64, await b.query('now')));
  });
});

describe('a canister creating canisters on a pool of two workers', () => {
  let dataDir: string;
  let ic: LocalIC;
  let a: Fixture;
  let created: Principal;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-ic-parallel-'));
    ic = await LocalIC.create({ thread: 'worker', workers: 2, clock: 'manual', startTime: START_TIME, dataDir, log: () => undefined });
    a = await fixtureCanister(ic, 'A');
  });
  afterAll(async () => {
    await ic.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates one (the next id of the one sequence, on the other worker), installs it through the chunk store and calls it', async () => {
    created = await createFromCanister(a, 'made by A');
    expect(created.toText()).toBe(canisterIdFromIndex(CANISTER_RANGE_START + 2n).toText());
    expect(ic.canisterIds().map((p) => p.toText())).toEqual([a.id.toText(), created.toText()]);
    expect(ic.controllers(created).map((p) => p.toText())).toEqual([a.id.toText()]);
    expect(Buffer.from(ic.moduleHash(created)!).equals(sha(fixtureWasm()))).toBe(true);
    const c = wrap(ic, created);
    expect(await c.text('getInitArg')).toBe('made by A');
    await c.update('setMessage', textArg('hello from C'));
    expect(decode<string>(IDL.Text, await a.update('askOther', enc([IDL.Principal], [created])))).toBe('hello from C');
    // The API's next canister continues the sequence.
    const next = await ic.createCanister({ controllers: [alice] });
    expect(next.toText()).toBe(canisterIdFromIndex(CANISTER_RANGE_START + 3n).toText());
  });

  it('answers canister_status of it on its worker while the caller waits', async () => {
    const status = await mgmt<{ status: Record<string, null>; module_hash: [] | [Uint8Array] }>(a, 'canister_status', { canister_id: created });
    expect(Object.keys(status.status)).toEqual(['running']);
    expect(Buffer.from(status.module_hash[0]!).equals(sha(fixtureWasm()))).toBe(true);
  });

  it('stops and starts it across workers: calls to a stopped canister are refused', async () => {
    await mgmt(a, 'stop_canister', { canister_id: created });
    expect(await callRaw(a, created, 'getMessage', noArgs)).toMatchObject({ Err: { code: 5 } });
    expect(await ic.update(created, 'getMessage', noArgs)).toMatchObject({ status: 'rejected', errorCode: 'IC0508' });
    await mgmt(a, 'start_canister', { canister_id: created });
    expect(decode<string>(IDL.Text, await a.update('askOther', enc([IDL.Principal], [created])))).toBe('hello from C');
  });

  it('a non-controller is refused by the management canister of the other worker', async () => {
    const other = await fixtureCanister(ic, 'D');
    await expect(mgmt(other, 'canister_status', { canister_id: created })).rejects.toThrow(/Only the controllers of the canister/);
  });

  it('restarts with the canisters of both workers (and on a pool of another size)', async () => {
    await a.update('stableSet', enc([IDL.Text, IDL.Text], ['k', 'on A']));
    await wrap(ic, created).update('stableSet', enc([IDL.Text, IDL.Text], ['k', 'on C']));
    const ids = ic.canisterIds().map((p) => p.toText());
    await ic.close();
    for (const workers of [2, 3]) {
      ic = await LocalIC.create({ thread: 'worker', workers, clock: 'manual', startTime: START_TIME + 10n ** 12n, dataDir, log: () => undefined });
      // After a restart, in id order (as the in-thread runtime lists them).
      expect(ic.canisterIds().map((p) => p.toText())).toEqual([...ids].sort());
      a = wrap(ic, a.id);
      const c = wrap(ic, created);
      expect(decode(IDL.Opt(IDL.Text), await a.query('stableGet', textArg('k')))).toEqual(['on A']);
      expect(decode(IDL.Opt(IDL.Text), await c.query('stableGet', textArg('k')))).toEqual(['on C']);
      expect(ic.controllers(created).map((p) => p.toText())).toEqual([a.id.toText()]);
      // A restart is an upgrade: heap reset, stable kept; calls between workers work again.
      await c.update('setMessage', textArg(`C after restart on ${workers}`));
      expect(decode<string>(IDL.Text, await a.update('askOther', enc([IDL.Principal], [created])))).toBe(`C after restart on ${workers}`);
      if (workers === 3) {
        // Ids continue after the stored ones.
        const more = await mgmt<{ canister_id: Principal }>(a, 'create_canister', { settings: [], sender_canister_version: [] });
        expect(more.canister_id.toText()).toBe(canisterIdFromIndex(CANISTER_RANGE_START + BigInt(ids.length) + 1n).toText());
      } else {
        await ic.close();
      }
    }
  });
});
