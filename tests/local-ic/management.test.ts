// The management canister called from a canister (the runtime fixture's
// `callRaw`): creating canisters, installing a module over the 2 MiB message
// limit through the chunk store, install_code, controllers, stop/start,
// canister_status, with the IC's Candid types and the replica's reject codes
// and wording; chunk store and stopped status survive a restart. Each on the
// calling thread and on the threaded runtime with two workers, where the
// canisters and the ones they create are spread over both (placement: the
// worker with the fewest, the first on a tie), so management calls about a
// canister of the other worker are executed there.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalIC, type LocalICOptions } from '../../canister/local/index.js';
import { ManagementArgs, ManagementResults } from '../../canister/local/runtime/management-idl.js';
import { decode, enc, fixtureWasm, START_TIME, textArg, wrap, type Fixture } from './support/fixture.js';
import { wasmModule } from './support/wasm-builder.js';

const MGMT = Principal.managementCanister();
const alice = Principal.fromText('rwlgt-iiaaa-aaaaa-aaaaa-cai');
const CHUNK = 1024 * 1024;
const sha = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const hex = (b: Uint8Array | number[]): string => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');

const RawResult = IDL.Variant({ Ok: IDL.Vec(IDL.Nat8), Err: IDL.Record({ code: IDL.Nat32, message: IDL.Text }) });
type Raw = { Ok: Uint8Array | number[] } | { Err: { code: number; message: string } };

type Method = keyof typeof ManagementArgs;

/** Makes `from` call the management canister; returns the decoded reply or the reject. */
async function mgmt<T = unknown>(
  from: Fixture,
  method: Method,
  arg: unknown,
): Promise<{ ok: T } | { code: number; message: string }> {
  const raw = enc([ManagementArgs[method]], [arg]);
  return rawCall<T>(from, method, raw);
}

async function rawCall<T>(from: Fixture, method: string, raw: Uint8Array): Promise<{ ok: T } | { code: number; message: string }> {
  const r = decode<Raw>(RawResult, await from.update('callRaw', enc([IDL.Principal, IDL.Text, IDL.Vec(IDL.Nat8)], [MGMT, method, raw])));
  if ('Err' in r) return r.Err;
  const types = ManagementResults[method as Method] as IDL.Type[];
  const bytes = r.Ok instanceof Uint8Array ? r.Ok : new Uint8Array(r.Ok);
  const values = IDL.decode(types, bytes);
  return { ok: values[0] as T };
}

function ok<T>(r: { ok: T } | { code: number; message: string }): T {
  if (!('ok' in r)) throw new Error(`expected a reply, got reject ${r.code}: ${r.message}`);
  return r.ok;
}

const upgradeMode = { upgrade: [] };
/** A `canister_settings` record: every field absent except those given. */
const settings = (fields: { controllers?: Principal[] }) => ({
  controllers: fields.controllers ? [fields.controllers] : [],
  compute_allocation: [],
  memory_allocation: [],
  freezing_threshold: [],
  reserved_cycles_limit: [],
  log_visibility: [],
  wasm_memory_limit: [],
  wasm_memory_threshold: [],
  environment_variables: [],
});
const installMode = { install: null };

/** Uploads `wasm` in 1 MiB chunks to `store` through `from`; returns the chunk hashes. */
async function uploadChunks(from: Fixture, store: Principal, wasm: Uint8Array): Promise<Uint8Array[]> {
  const hashes: Uint8Array[] = [];
  for (let at = 0; at < wasm.length; at += CHUNK) {
    const chunk = wasm.subarray(at, at + CHUNK);
    const r = ok(await mgmt<{ hash: number[] | Uint8Array }>(from, 'upload_chunk', { canister_id: store, chunk }));
    expect(hex(r.hash)).toBe(hex(sha(chunk)));
    hashes.push(sha(chunk));
  }
  return hashes;
}

function chunkedInstall(target: Principal, hashes: Uint8Array[], wasm: Uint8Array, mode: unknown, arg: Uint8Array, store?: Principal) {
  return {
    mode,
    target_canister: target,
    store_canister: store ? [store] : [],
    chunk_hashes_list: hashes.map((hash) => ({ hash })),
    wasm_module_hash: sha(wasm),
    arg,
    sender_canister_version: [],
  };
}

type Runtime = Pick<LocalICOptions, 'thread' | 'workers'>;
const RUNTIMES: [string, Runtime][] = [
  ['on the calling thread', { thread: 'main' }],
  ['on two workers', { thread: 'worker', workers: 2 }],
];

async function startIc(runtime: Runtime, dataDir?: string): Promise<{ ic: LocalIC; a: Fixture; c: Fixture }> {
  const ic = await LocalIC.create({ ...runtime, clock: 'manual', startTime: START_TIME, dataDir, log: () => undefined });
  const aId = await ic.createCanister({ controllers: [alice] });
  await ic.installCode(aId, fixtureWasm(), { mode: 'install', arg: textArg('A') });
  const cId = await ic.createCanister({ controllers: [alice] });
  await ic.installCode(cId, fixtureWasm(), { mode: 'install', arg: textArg('C') });
  return { ic, a: wrap(ic, aId), c: wrap(ic, cId) };
}

describe.each(RUNTIMES)('the management canister, called from a canister, %s', (_name, runtime) => {
  let ic: LocalIC;
  let a: Fixture;
  let c: Fixture;
  let b: Principal;
  let hashes: Uint8Array[];
  const wasm = fixtureWasm();

  beforeAll(async () => {
    ({ ic, a, c } = await startIc(runtime));
  });
  afterAll(async () => {
    await ic.close();
  });

  it('create_canister makes an empty canister controlled by its caller', async () => {
    const created = ok(await mgmt<{ canister_id: Principal }>(a, 'create_canister', { settings: [], sender_canister_version: [] }));
    b = created.canister_id;
    expect(ic.canisterIds().map((p) => p.toText())).toContain(b.toText());
    expect(ic.controllers(b).map((p) => p.toText())).toEqual([a.id.toText()]);
    expect(ic.moduleHash(b)).toBeUndefined();
    // Empty: calls to it are rejected as for a canister without a module.
    expect(await ic.update(b, 'getMessage', enc([], []))).toMatchObject({ status: 'rejected', errorCode: 'IC0537' });
  });

  it('installs a module larger than a message through upload_chunk and install_chunked_code', async () => {
    expect(wasm.length).toBeGreaterThan(2 * 1024 * 1024);
    hashes = await uploadChunks(a, b, wasm);
    const stored = ok(await mgmt<{ hash: Uint8Array }[]>(a, 'stored_chunks', { canister_id: b }));
    expect(stored.map((h) => hex(h.hash)).sort()).toEqual(hashes.map(hex).sort());
    ok(await mgmt(a, 'install_chunked_code', chunkedInstall(b, hashes, wasm, installMode, textArg('installed by A'))));
    expect(hex(ic.moduleHash(b)!)).toBe(hex(sha(wasm)));
    expect(await wrap(ic, b).text('getInitArg')).toBe('installed by A');
  });

  it('install_chunked_code refuses a wrong module hash, a missing chunk, and changes nothing', async () => {
    const wrongHash = { ...chunkedInstall(b, hashes, wasm, upgradeMode, textArg('x')), wasm_module_hash: sha(new Uint8Array([1])) };
    const r1 = await mgmt(a, 'install_chunked_code', wrongHash);
    expect(r1).toMatchObject({ code: 5 });
    expect((r1 as { message: string }).message).toBe(
      `Error from Wasm chunk store: Wasm module hash ${hex(sha(wasm))} does not match given hash ${hex(sha(new Uint8Array([1])))}.`,
    );
    const missing = sha(new Uint8Array([9, 9]));
    const r2 = await mgmt(a, 'install_chunked_code', chunkedInstall(b, [...hashes, missing], wasm, upgradeMode, textArg('x')));
    expect(r2).toEqual({ code: 5, message: `Error from Wasm chunk store: Chunk hash ${hex(missing)} was not found.` });
    expect(await wrap(ic, b).text('getInitArg')).toBe('installed by A');
  });

  it('upload_chunk refuses a chunk over 1 MiB', async () => {
    const r = await mgmt(a, 'upload_chunk', { canister_id: b, chunk: new Uint8Array(CHUNK + 1) });
    expect(r).toEqual({ code: 5, message: 'Error from Wasm chunk store: Wasm chunk size 1048577 exceeds the maximum chunk size of 1048576.' });
  });

  it('an upgrade through install_chunked_code keeps stable memory and runs post_upgrade', async () => {
    const fb = wrap(ic, b);
    expect((await fb.update('stableSet', enc([IDL.Text, IDL.Text], ['k', 'kept']))).status).toBe('replied');
    ok(await mgmt(a, 'install_chunked_code', chunkedInstall(b, hashes, wasm, upgradeMode, textArg('upgraded'))));
    expect(await fb.text('getPostUpgradeArg')).toBe('upgraded');
    expect(decode(IDL.Opt(IDL.Text), await fb.query('stableGet', textArg('k')))).toEqual(['kept']);
  });

  it('a non-controller is refused with the replica error for every controller-only method', async () => {
    const expected = {
      code: 5,
      message: `Only the controllers of the canister ${b.toText()} can control it.\nCanister's controllers: ${a.id.toText()}\nSender's ID: ${c.id.toText()}`,
    };
    expect(await mgmt(c, 'upload_chunk', { canister_id: b, chunk: new Uint8Array([1]) })).toEqual(expected);
    expect(await mgmt(c, 'install_chunked_code', chunkedInstall(b, hashes, wasm, upgradeMode, textArg('evil')))).toEqual(expected);
    // A chunk store the caller does not control cannot be the source either.
    const cOwn = ok(await mgmt<{ canister_id: Principal }>(c, 'create_canister', { settings: [], sender_canister_version: [] }));
    // (On the threaded runtime cOwn lands on the other worker than b, and a
    // store must live with its target, as on the IC it must be on its subnet.)
    expect(await mgmt(c, 'install_chunked_code', chunkedInstall(cOwn.canister_id, hashes, wasm, installMode, textArg('x'), b))).toEqual(
      runtime.thread === 'worker' ? { code: 3, message: `Canister ${b.toText()} not found.` } : expected,
    );
    expect(await mgmt(c, 'stop_canister', { canister_id: b })).toEqual(expected);
    expect(await mgmt(c, 'canister_status', { canister_id: b })).toEqual(expected);
    expect(
      await mgmt(c, 'update_settings', { canister_id: b, settings: settings({ controllers: [c.id] }), sender_canister_version: [] }),
    ).toEqual(expected);
    expect(ic.controllers(b).map((p) => p.toText())).toEqual([a.id.toText()]);
    expect(await wrap(ic, b).text('getPostUpgradeArg')).toBe('upgraded');
  });

  it('install_code installs a small module (also gzip-compressed); mode install refuses a non-empty canister', async () => {
    const tiny = wasmModule({ types: [], memory: { min: 1 }, exports: [['memory', 'memory', 0]] });
    const target = ok(await mgmt<{ canister_id: Principal }>(a, 'create_canister', { settings: [], sender_canister_version: [] })).canister_id;
    const install = (mode: unknown, module: Uint8Array) => ({ mode, canister_id: target, wasm_module: module, arg: new Uint8Array(0), sender_canister_version: [] });
    ok(await mgmt(a, 'install_code', install(installMode, gzipSync(tiny))));
    expect(hex(ic.moduleHash(target)!)).toBe(hex(sha(tiny)));
    expect(await mgmt(a, 'install_code', install(installMode, tiny))).toEqual({
      code: 5,
      message: `Canister ${target.toText()} cannot be installed because the canister is not empty. Try installing with mode='reinstall' instead.`,
    });
    const bad = await mgmt(a, 'install_code', install({ reinstall: null }, new Uint8Array([0, 0x61, 0x73, 0x6d, 9])));
    expect(bad).toMatchObject({ code: 5 });
    expect((bad as { message: string }).message).toMatch(/^Error from Canister .*: Canister's Wasm module is not valid: /);
  });

  it('canister_status reports status, module hash, controllers and memory', async () => {
    const s = ok(
      await mgmt<{ status: Record<string, null>; module_hash: [Uint8Array] | []; settings: { controllers: Principal[] }; memory_metrics: { stable_memory_size: bigint } }>(
        a,
        'canister_status',
        { canister_id: b },
      ),
    );
    expect(Object.keys(s.status)).toEqual(['running']);
    expect(hex(s.module_hash[0]!)).toBe(hex(sha(wasm)));
    expect(s.settings.controllers.map((p) => p.toText())).toEqual([a.id.toText()]);
    expect(s.memory_metrics.stable_memory_size).toBeGreaterThan(0n);
  });

  it('stop_canister stops a canister: calls to it are rejected until start_canister', async () => {
    const fb = wrap(ic, b);
    ok(await mgmt(a, 'stop_canister', { canister_id: b }));
    const status = ok(await mgmt<{ status: Record<string, null> }>(a, 'canister_status', { canister_id: b }));
    expect(Object.keys(status.status)).toEqual(['stopped']);
    const stopped = { status: 'rejected', rejectCode: 5, errorCode: 'IC0508', rejectMessage: `Canister ${b.toText()} is stopped` };
    expect(await fb.update('setMessage', textArg('while stopped'))).toMatchObject(stopped);
    expect(await fb.query('getMessage')).toMatchObject(stopped);
    // An inter-canister call is rejected the same way.
    const asked = await a.update('askOther', enc([IDL.Principal], [b]));
    expect(asked.status).toBe('rejected');
    // Stopping a stopped canister succeeds; starting it lets calls through again.
    ok(await mgmt(a, 'stop_canister', { canister_id: b }));
    ok(await mgmt(a, 'start_canister', { canister_id: b }));
    expect((await fb.update('setMessage', textArg('running again'))).status).toBe('replied');
    expect(await fb.text('getMessage')).toBe('running again');
  });

  it('update_settings replaces the controllers; the old controller then has no say', async () => {
    ok(await mgmt(a, 'update_settings', { canister_id: b, settings: settings({ controllers: [alice, a.id] }), sender_canister_version: [] }));
    expect(ic.controllers(b).map((p) => p.toText()).sort()).toEqual([alice.toText(), a.id.toText()].sort());
    ok(await mgmt(a, 'update_settings', { canister_id: b, settings: settings({ controllers: [alice] }), sender_canister_version: [] }));
    expect(ic.controllers(b).map((p) => p.toText())).toEqual([alice.toText()]);
    expect(await mgmt(a, 'stop_canister', { canister_id: b })).toMatchObject({ code: 5 });
    const eleven = Array.from({ length: 11 }, (_, i) => Principal.fromUint8Array(new Uint8Array([i, 1])));
    expect(await mgmt(a, 'create_canister', { settings: [settings({ controllers: eleven })], sender_canister_version: [] })).toEqual({
      code: 5,
      message: "Could not validate the settings: Invalid settings: 'controllers' length exceeds maximum size allowed of 10.",
    });
  });

  it('clear_chunk_store empties the store', async () => {
    const target = ok(await mgmt<{ canister_id: Principal }>(a, 'create_canister', { settings: [], sender_canister_version: [] })).canister_id;
    ok(await mgmt(a, 'upload_chunk', { canister_id: target, chunk: new Uint8Array([1, 2, 3]) }));
    expect(ok(await mgmt<unknown[]>(a, 'stored_chunks', { canister_id: target }))).toHaveLength(1);
    ok(await mgmt(a, 'clear_chunk_store', { canister_id: target }));
    expect(ok(await mgmt<unknown[]>(a, 'stored_chunks', { canister_id: target }))).toHaveLength(0);
  });

  it('bad Candid and unknown canisters get the replica rejects', async () => {
    expect(await rawCall(a, 'create_canister', new Uint8Array([1, 2, 3]))).toMatchObject({ code: 4 });
    const ghost = Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai');
    expect(await mgmt(a, 'canister_status', { canister_id: ghost })).toEqual({ code: 3, message: `Canister ${ghost.toText()} not found.` });
  });
});

describe.each(RUNTIMES)('management state on disk, %s', (_name, runtime) => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('the chunk store, controllers and a stopped status survive a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-ic-mgmt-'));
    dirs.push(dir);
    const first = await startIc(runtime, dir);
    const target = ok(await mgmt<{ canister_id: Principal }>(first.a, 'create_canister', { settings: [], sender_canister_version: [] })).canister_id;
    const wasm = fixtureWasm();
    const hashes = await uploadChunks(first.a, target, wasm);
    ok(await mgmt(first.a, 'install_chunked_code', chunkedInstall(target, hashes, wasm, installMode, textArg('durable'))));
    await first.ic.update(target, 'stableSet', enc([IDL.Text, IDL.Text], ['k', 'durable']));
    ok(await mgmt(first.a, 'stop_canister', { canister_id: target }));
    await first.ic.close();

    const ic = await LocalIC.create({ ...runtime, clock: 'manual', startTime: START_TIME, dataDir: dir, log: () => undefined });
    try {
      const a = wrap(ic, first.a.id);
      expect(ic.controllers(target).map((p) => p.toText())).toEqual([a.id.toText()]);
      const stored = ok(await mgmt<{ hash: Uint8Array }[]>(a, 'stored_chunks', { canister_id: target }));
      expect(stored.map((h) => hex(h.hash)).sort()).toEqual(hashes.map(hex).sort());
      expect(await ic.query(target, 'getInitArg', enc([], []))).toMatchObject({ errorCode: 'IC0508' });
      ok(await mgmt(a, 'start_canister', { canister_id: target }));
      expect(decode(IDL.Opt(IDL.Text), await ic.query(target, 'stableGet', textArg('k')))).toEqual(['durable']);
    } finally {
      await ic.close();
    }
  });
});
