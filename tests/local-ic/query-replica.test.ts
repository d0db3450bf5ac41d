// Queries never wait behind updates (`thread: 'worker'`): a query replica of
// each canister on a second worker follows the committed state, so a query
// made while a long update executes is answered at once, from the state
// before that update; once an update resolved, every later query sees it.
// The replica follows stable memory, heap, upgrades, controllers, stop/start
// and a restart, and rolls back a query's writes; with `queries: 'serial'`
// the same query waits for the update (the contrast).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalIC } from '../../canister/local/index.js';
import { ManagementArgs } from '../../canister/local/runtime/management-idl.js';
import { decode, enc, fixtureWasm, noArgs, START_TIME, textArg } from './support/fixture.js';

const alice = Principal.fromText('rwlgt-iiaaa-aaaaa-aaaaa-cai');
const optText = IDL.Opt(IDL.Text);
/** About a second of Wasm on the development machine. */
const LONG = enc([IDL.Text, IDL.Nat32], ['started', 10_000_000]);

const dirs: string[] = [];
const ics: LocalIC[] = [];
afterEach(async () => {
  for (const ic of ics.splice(0)) await ic.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(opts: { queries?: 'replica' | 'serial'; dataDir?: string; onLine?: (line: string) => void } = {}) {
  const ic = await LocalIC.create({
    thread: 'worker',
    clock: 'manual',
    startTime: START_TIME,
    queries: opts.queries,
    dataDir: opts.dataDir,
    log: (_id, line) => opts.onLine?.(line),
  });
  ics.push(ic);
  return ic;
}

async function install(ic: LocalIC): Promise<Principal> {
  const id = await ic.createCanister({ controllers: [alice] });
  await ic.installCode(id, fixtureWasm(), { mode: 'install', arg: textArg('init'), sender: alice });
  return id;
}

/**
 * Sets the heap to 'before', starts a long update that sets it to a number,
 * and when that update has started, queries the heap. Returns the order of
 * completion and what the query saw.
 */
async function queryDuringUpdate(queries: 'replica' | 'serial'): Promise<{ order: string[]; seen: string; after: string }> {
  const order: string[] = [];
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const ic = await start({ queries, onLine: (line) => line.includes('started') && started() });
  const id = await install(ic);
  await ic.update(id, 'setHeap', textArg('before'));
  const update = ic.update(id, 'logThenWork', LONG).then((r) => {
    order.push('update');
    return r;
  });
  await running;
  const seen = decode<string>(IDL.Text, await ic.query(id, 'getHeap', noArgs));
  order.push('query');
  expect((await update).status).toBe('replied');
  const after = decode<string>(IDL.Text, await ic.query(id, 'getHeap', noArgs));
  return { order, seen, after };
}

describe('query replicas', () => {
  it('a query made while a long update executes is answered first, from the committed state', async () => {
    const r = await queryDuringUpdate('replica');
    expect(r.order).toEqual(['query', 'update']);
    expect(r.seen).toBe('before');
    // Read your writes: the update resolved, so the next query sees it.
    expect(r.after).not.toBe('before');
    expect(r.after).toMatch(/^\d+$/);
  });

  it("(contrast) with queries: 'serial' the same query waits for the update", async () => {
    const r = await queryDuringUpdate('serial');
    expect(r.order).toEqual(['update', 'query']);
    expect(r.seen).toMatch(/^\d+$/);
  });

  it('follows stable memory, heap, upgrades, controllers and stop/start; rolls back a query', async () => {
    const ic = await start();
    const id = await install(ic);
    const q = async (method: string, arg = noArgs) => ic.query(id, method, arg);
    for (let i = 0; i < 20; i++) await ic.update(id, 'stableSet', enc([IDL.Text, IDL.Text], [`k${i}`, `v${i}`]));
    expect(decode(optText, await q('stableGet', textArg('k19')))).toEqual(['v19']);
    const big = new Uint8Array(1024 * 1024).map((_, i) => i & 0xff);
    await ic.update(id, 'putBlob', enc([IDL.Text, IDL.Vec(IDL.Nat8)], ['blob', big]));
    expect(decode(IDL.Opt(IDL.Nat64), await q('blobSize', textArg('blob')))).toEqual([BigInt(big.length)]);

    // A query's writes vanish on the replica too.
    expect(decode(IDL.Text, await q('queryWrite', textArg('ghost')))).toBe('ghost');
    await ic.update(id, 'setHeap', textArg('real'));
    expect(decode(IDL.Text, await q('getHeap'))).toBe('real');
    expect(decode(optText, await q('stableGet', textArg('query')))).toEqual([]);

    // A trap in an update leaves the replica at the state before it.
    expect((await ic.update(id, 'writeThenTrap', textArg('trapped'))).status).toBe('rejected');
    expect(decode(IDL.Text, await q('getHeap'))).toBe('real');

    // Upgrade: heap reset, stable kept, post_upgrade's argument visible.
    await ic.installCode(id, fixtureWasm(), { mode: 'upgrade', arg: textArg('second'), sender: alice });
    expect(decode(IDL.Text, await q('getHeap'))).toBe('');
    expect(decode(IDL.Text, await q('getPostUpgradeArg'))).toBe('second');
    expect(decode(optText, await q('stableGet', textArg('k3')))).toEqual(['v3']);

    // Controllers as is_controller sees them in a query.
    expect(decode(IDL.Bool, await q('isController', enc([IDL.Principal], [alice])))).toBe(true);
    await ic.setControllers(id, []);
    expect(decode(IDL.Bool, await q('isController', enc([IDL.Principal], [alice])))).toBe(false);

    // Reinstall: everything fresh.
    await ic.setControllers(id, [alice]);
    await ic.installCode(id, fixtureWasm(), { mode: 'reinstall', arg: textArg('again'), sender: alice });
    expect(decode(IDL.Text, await q('getInitArg'))).toBe('again');
    expect(decode(optText, await q('stableGet', textArg('k3')))).toEqual([]);
    expect(await q('nope')).toMatchObject({ status: 'rejected', rejectCode: 3, errorCode: 'IC0302' });
    expect(await ic.query(Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai'), 'getHeap', noArgs)).toMatchObject({ errorCode: 'IC0301' });
  });

  it('a canister stopped by another canister refuses queries on the replica too', async () => {
    const ic = await start();
    const a = await install(ic);
    const created = await ic.update(
      a,
      'callRaw',
      enc([IDL.Principal, IDL.Text, IDL.Vec(IDL.Nat8)], [Principal.managementCanister(), 'create_canister', enc([ManagementArgs.create_canister], [{ settings: [], sender_canister_version: [] }])]),
    );
    expect(created.status).toBe('replied');
    const b = ic.canisterIds().find((p) => p.toText() !== a.toText())!;
    expect(await ic.query(b, 'getHeap', noArgs)).toMatchObject({ errorCode: 'IC0537' });
    await ic.setControllers(b, [alice]);
    await ic.installCode(b, fixtureWasm(), { mode: 'install', arg: textArg('b'), sender: alice });
    expect(decode(IDL.Text, await ic.query(b, 'getInitArg', noArgs))).toBe('b');
    await ic.setControllers(b, [a]);
    const stop = enc([IDL.Principal, IDL.Text, IDL.Vec(IDL.Nat8)], [Principal.managementCanister(), 'stop_canister', enc([ManagementArgs.stop_canister], [{ canister_id: b }])]);
    expect((await ic.update(a, 'callRaw', stop)).status).toBe('replied');
    expect(await ic.query(b, 'getInitArg', noArgs)).toMatchObject({ status: 'rejected', errorCode: 'IC0508' });
  });

  it('starts from the recovered state after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-ic-replica-'));
    dirs.push(dir);
    const first = await start({ dataDir: dir });
    const id = await install(first);
    await first.update(id, 'stableSet', enc([IDL.Text, IDL.Text], ['durable', 'yes']));
    await first.close();
    ics.splice(ics.indexOf(first), 1);
    const ic = await start({ dataDir: dir });
    expect(decode(optText, await ic.query(id, 'stableGet', textArg('durable')))).toEqual(['yes']);
  });
});
