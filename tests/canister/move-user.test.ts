// Moving a user between buckets (issue 11: "Moving a user, killed at each
// step: the data stays complete and verified, the user ends in exactly one
// bucket, and nothing is lost"). In the local IC with persisted state: the
// index creates buckets A and B; each scenario places a fresh user in A with
// uploads (three 1 MiB chunks, bytes stored once under two memories, a
// one-chunk file), a thumbnail, a gallery and a pending sign-in proof, and
// moves them to B. The move is killed in one step: the index's callback of
// that step's call traps (the callee's work stays committed, the index's is
// rolled back). Then it resumes, by move_user again or by restarting the
// local IC from its files (the index resumes unfinished moves on its own).
// After every kill and at the end: the bucket the index names holds all the
// user's data, byte-identical with the recorded hashes; both buckets keep
// their invariants; at the end the other bucket answers WrongBucket, and
// usage on B is what it was on A, and zero on A.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InThreadLocalIC } from '../../canister/local/index';
import { buildCanister } from '../../canister/scripts/build';
import { actorFor, blob, err, ok, type ForeverActor } from './support/actor';
import { ADMIN, foreverWasm, metadata, MiB, newId, principal, seededBytes, sha256, storeFile } from './support/forever';
import { Settings, IndexError, UnitResult, PrincipalResult, CertifiedBucket } from '../../canister/local/index-idl.js';

const MoveStatus = IDL.Record({
  principal: IDL.Principal,
  source: IDL.Principal,
  target: IDL.Principal,
  step: IDL.Text,
  cursor: IDL.Nat32,
  done: IDL.Bool,
  last_error: IDL.Opt(IDL.Text),
});
type MoveStatus = { principal: Principal; source: Principal; target: Principal; step: string; cursor: number; done: boolean; last_error: [] | [string] };
const MoveResult = IDL.Variant({ Ok: MoveStatus, Err: IndexError });

type IC = InThreadLocalIC;

async function callIndex<T>(ic: IC, index: Principal, caller: Principal, method: string, types: IDL.Type[], args: unknown[], ret: IDL.Type, q = false): Promise<T> {
  const arg = new Uint8Array(IDL.encode(types, args));
  const r = q ? await ic.query(index, method, arg, { caller }) : await ic.update(index, method, arg, { caller });
  if (r.status !== 'replied') throw new Error(`${method} rejected: ${r.rejectMessage}`);
  return IDL.decode([ret], r.reply)[0] as T;
}

async function moveUser(ic: IC, index: Principal, user: Principal, target: Principal) {
  const arg = new Uint8Array(IDL.encode([IDL.Principal, IDL.Principal], [user, target]));
  const r = await ic.update(index, 'move_user', arg, { caller: ADMIN });
  if (r.status !== 'replied') return { rejected: r.rejectMessage };
  return IDL.decode([MoveResult], r.reply)[0] as unknown as { Ok: MoveStatus } | { Err: Record<string, unknown> };
}

const moveStatus = async (ic: IC, index: Principal, user: Principal): Promise<MoveStatus | undefined> =>
  (await callIndex<[MoveStatus] | []>(ic, index, ADMIN, 'move_status', [IDL.Principal], [user], IDL.Opt(MoveStatus), true))[0];

const myBucket = async (ic: IC, index: Principal, user: Principal): Promise<string[]> =>
  (await callIndex<Principal[]>(ic, index, user, 'my_bucket', [], [], IDL.Opt(IDL.Principal), true)).map((p) => p.toText());

/**
 * Makes the index's callback for its `occurrence`-th call of `method` trap
 * after running: the callee's work is committed, the index's reaction rolled
 * back (as on the IC when a callback traps). Reaches into the in-thread
 * runtime's scheduler; the local IC has no public fault injection.
 */
function trapCallback(ic: IC, index: Principal, method: string, occurrence: number): { fired: () => boolean } {
  const rt = ic as unknown as {
    handleRequest: (from: { idText: string }, call: { method: string }, callback: number) => void;
    handleResponse: (to: { idText: string; execute: (...a: unknown[]) => unknown }, callback: number, outcome: unknown) => void;
  };
  const handleRequest = rt.handleRequest;
  const handleResponse = rt.handleResponse;
  let seen = 0;
  let doomed: number | undefined;
  let fired = false;
  rt.handleRequest = function (from, call, callback) {
    if (from.idText === index.toText() && call.method === method && ++seen === occurrence) doomed = callback;
    return handleRequest.call(this, from, call, callback);
  };
  rt.handleResponse = function (to, callback, outcome) {
    if (!fired && to.idText === index.toText() && callback === doomed) {
      fired = true;
      const execute = to.execute;
      to.execute = function (msg: unknown, entry: unknown) {
        to.execute = execute;
        // Runs the callback, then throws its effects away: a trap at its very end.
        execute.call(this, msg, entry, 'discard');
        return {
          ok: false,
          error: { rejectCode: 5, rejectMessage: `injected trap in the callback of ${method}`, errorCode: 'IC0503' },
          instructions: 0n,
          response: undefined,
          outgoing: [],
          stableBlocks: [],
          stableSizeChanged: false,
          metaChanged: false,
        };
      };
      rt.handleRequest = handleRequest;
      rt.handleResponse = handleResponse;
    }
    return handleResponse.call(this, to, callback, outcome);
  };
  return { fired: () => fired };
}

/** Makes the next call of `method` to `callee` fail as if the callee trapped (the caller gets a reject). */
function rejectNextCall(ic: IC, callee: Principal, method: string): { fired: () => boolean } {
  const rt = ic as unknown as {
    tasks: unknown[];
    handleRequest: (from: unknown, call: { callee: Uint8Array; method: string }, callback: number) => void;
  };
  const handleRequest = rt.handleRequest;
  let fired = false;
  rt.handleRequest = function (from, call, callback) {
    if (!fired && call.method === method && Principal.fromUint8Array(call.callee).toText() === callee.toText()) {
      fired = true;
      rt.handleRequest = handleRequest;
      rt.tasks.push({
        kind: 'response',
        to: from,
        callback,
        outcome: { kind: 'reject', reject: { rejectCode: 5, rejectMessage: `injected trap in ${method}`, errorCode: 'IC0503' } },
      });
      return;
    }
    return handleRequest.call(this, from, call, callback);
  };
  return { fired: () => fired };
}

/** A tiny valid PNG signature with some bytes: what set_thumbnail accepts. */
const png = (n: number): Uint8Array => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, n & 255, 1, 2, 3, 4, 5]);

interface Stored {
  files: { memoryId: string; bytes: Uint8Array }[];
  noteId: string;
  galleryId: string;
  nonce: string;
}

/** A user's data: 2.5 MiB in three 1 MiB chunks under two memories (stored once), a one-chunk file, a note with a thumbnail, a gallery, a sign-in proof. */
async function populate(u: ForeverActor, seed: number): Promise<Stored> {
  const big = seededBytes(2 * MiB + MiB / 2, seed);
  const first = await storeFile(u, big);
  const twin = newId();
  ok(await u.upsert_metadata(twin, { Image: null }, metadata('the same bytes'), `meta-${twin}`));
  expect(err(await u.begin_asset_upload(twin, first.hash, 3, BigInt(big.length)))).toEqual({ AlreadyExists: null });
  const small = seededBytes(1000, seed + 1);
  const third = await storeFile(u, small);
  const noteId = newId();
  ok(await u.upsert_metadata(noteId, { Note: null }, metadata('a note', { tags: ['moved'], description: ['with a thumbnail'] }), `meta-${noteId}`));
  ok(await u.set_thumbnail(noteId, png(seed)));
  const galleryId = newId();
  ok(await u.store_gallery({ id: galleryId, title: 'trip', description: [], memory_ids: [first.memoryId, noteId, twin] }));
  const nonce = `nonce-${seed}-abcdefghijklmnop`;
  ok(await u.prove_principal(nonce));
  return {
    files: [
      { memoryId: first.memoryId, bytes: big },
      { memoryId: twin, bytes: big },
      { memoryId: third.memoryId, bytes: small },
    ],
    noteId,
    galleryId,
    nonce,
  };
}

const json = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x instanceof Principal ? x.toText() : x));

/** Everything the user can read from a bucket, with every asset's bytes checked against its hash. */
async function readAll(u: ForeverActor, s: Stored): Promise<string> {
  const memories = ok(await u.list_memories([], [100])).items;
  for (const f of s.files) {
    const m = memories.find((x) => x.id === f.memoryId);
    expect(m, `memory ${f.memoryId}`).toBeDefined();
    const asset = m!.asset[0]!;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < asset.chunk_count; i++) parts.push(blob(ok(await u.read_chunk(f.memoryId, i))));
    const bytes = Buffer.concat(parts);
    expect(Buffer.from(sha256(bytes)).equals(Buffer.from(blob(asset.sha256)))).toBe(true);
    expect(bytes.equals(Buffer.from(f.bytes))).toBe(true);
  }
  const thumb = ok(await u.get_thumbnail(s.noteId));
  const galleries = ok(await u.list_galleries([], [])).items;
  return json({ memories: memories.sort((a, b) => a.id.localeCompare(b.id)), thumb, galleries });
}

async function usageOf(u: ForeverActor) {
  const x = ok(await u.get_usage());
  return json({ used: x.used_bytes, limit: x.limit_bytes, memories: x.memories, galleries: x.galleries, assets: x.assets });
}

async function invariantsHold(admin: ForeverActor): Promise<void> {
  const r = ok(await admin.check_invariants());
  expect(r.violations).toEqual([]);
  expect(r.ok).toBe(true);
}

/** Where the move is killed: the index's callback of this call (its n-th in the move) traps. */
const KILLS: { step: string; method: string; n: number; resume: 'call' | 'restart' }[] = [
  { step: 'freeze', method: 'freeze_owner', n: 1, resume: 'call' },
  { step: 'prepare', method: 'begin_import', n: 1, resume: 'restart' },
  { step: 'memories', method: 'export_memories', n: 1, resume: 'call' },
  { step: 'memories', method: 'import_memories', n: 1, resume: 'restart' },
  { step: 'assets', method: 'export_assets', n: 1, resume: 'call' },
  { step: 'assets', method: 'import_asset_begin', n: 1, resume: 'restart' },
  { step: 'assets', method: 'export_chunk', n: 2, resume: 'call' },
  { step: 'assets', method: 'import_chunk', n: 2, resume: 'restart' },
  { step: 'assets', method: 'import_asset_commit', n: 1, resume: 'call' },
  { step: 'assets', method: 'import_asset_begin', n: 2, resume: 'call' },
  { step: 'galleries', method: 'import_galleries', n: 1, resume: 'restart' },
  { step: 'proofs', method: 'import_proofs', n: 1, resume: 'call' },
  { step: 'verify', method: 'finish_import', n: 1, resume: 'restart' },
  { step: 'admit', method: 'admit_owner', n: 1, resume: 'call' },
  { step: 'evict', method: 'evict_owner', n: 1, resume: 'restart' },
  { step: 'delete', method: 'delete_owner_data', n: 1, resume: 'call' },
];

describe('moving a user between buckets, killed at each step', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'forever-move-'));
  let ic: IC;
  let index: Principal;
  let A: Principal;
  let B: Principal;
  const create = () => InThreadLocalIC.create({ clock: 'manual', dataDir, log: () => undefined });

  beforeAll(async () => {
    ic = await create();
    index = await ic.createCanister({ controllers: [ADMIN] });
    const settings = { capacity_users: 1, capacity_bytes: 1n << 40n, bucket_controllers: [ADMIN], bucket_cycles: 0n, presence_verifiers: [] };
    const indexWasm = new Uint8Array(readFileSync(buildCanister('forever_index')));
    // No init argument: a restart re-runs post_upgrade with it, and given settings would replace set_settings'.
    await ic.installCode(index, indexWasm, { mode: 'install', arg: new Uint8Array(IDL.encode([IDL.Opt(Settings)], [[]])), sender: ADMIN });
    ok(await callIndex<{ Ok: null } | { Err: unknown }>(ic, index, ADMIN, 'set_settings', [Settings], [settings], UnitResult));
    const wasm = foreverWasm();
    const count = Math.ceil(wasm.length / MiB);
    for (let i = 0; i < count; i++) {
      ok(await callIndex<{ Ok: null } | { Err: unknown }>(ic, index, ADMIN, 'upload_bucket_module_chunk', [IDL.Nat32, IDL.Vec(IDL.Nat8)], [i, wasm.subarray(i * MiB, (i + 1) * MiB)], UnitResult));
    }
    ok(await callIndex<{ Ok: null } | { Err: unknown }>(ic, index, ADMIN, 'set_bucket_module', [IDL.Nat32, IDL.Vec(IDL.Nat8)], [count, sha256(wasm)], UnitResult));
    // One user per bucket creates A and B; then every newcomer lands in A.
    A = ok(await callIndex<{ Ok: Principal }>(ic, index, principal(900), 'assign_bucket', [], [], PrincipalResult));
    B = ok(await callIndex<{ Ok: Principal }>(ic, index, principal(901), 'assign_bucket', [], [], PrincipalResult));
    expect(A.toText()).not.toBe(B.toText());
    ok(await callIndex<{ Ok: null } | { Err: unknown }>(ic, index, ADMIN, 'set_settings', [Settings], [{ ...settings, capacity_users: 1000 }], UnitResult));
  });

  afterAll(async () => {
    await ic.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a move by a non-controller, of a user without a bucket, to an unknown or the same bucket', async () => {
    const u = principal(950);
    expect(await moveUser(ic, index, u, B)).toEqual({ Err: { InvalidArgument: 'this user has no bucket' } });
    ok(await callIndex<{ Ok: Principal }>(ic, index, u, 'assign_bucket', [], [], PrincipalResult));
    const arg = new Uint8Array(IDL.encode([IDL.Principal, IDL.Principal], [u, B]));
    const r = await ic.update(index, 'move_user', arg, { caller: u });
    expect(r.status === 'replied' && IDL.decode([MoveResult], r.reply)[0]).toEqual({ Err: { Unauthorized: null } });
    expect(await moveUser(ic, index, u, A)).toEqual({ Err: { InvalidArgument: 'the user is in that bucket already' } });
    expect(await moveUser(ic, index, u, principal(3))).toEqual({ Err: { InvalidArgument: 'the target is not a bucket of this index' } });
    expect(await moveStatus(ic, index, u)).toBeUndefined();
  });

  it("a bucket's transfer methods refuse non-controllers, unfrozen owners and bad records, and change nothing", async () => {
    const user = principal(960);
    ok(await callIndex<{ Ok: Principal }>(ic, index, user, 'assign_bucket', [], [], PrincipalResult));
    const onA = actorFor(ic, A, user);
    const stored = await populate(onA, 4242);
    const before = await readAll(onA, stored);
    const adminA = actorFor(ic, A, ADMIN);
    const adminB = actorFor(ic, B, ADMIN);
    const statsA = json(ok(await adminA.get_stats()));
    // Only controllers (the index) move data; not the user themself.
    expect(await onA.freeze_owner(user)).toEqual({ Err: { Unauthorized: null } });
    expect(await actorFor(ic, B, user).begin_import(user)).toEqual({ Err: { Unauthorized: null } });
    expect(await onA.delete_owner_data(user)).toEqual({ Err: { Unauthorized: null } });
    // Nothing is exported or deleted before the owner is frozen, nothing imported before begin_import.
    expect(err(await adminA.export_memories(user, 0))).toHaveProperty('InvalidArgument');
    expect(err(await adminA.export_chunk(user, stored.files[0].memoryId, 0))).toHaveProperty('InvalidArgument');
    expect(err(await adminA.delete_owner_data(user))).toHaveProperty('InvalidArgument');
    expect(err(await adminB.import_memories(user, []))).toHaveProperty('InvalidArgument');
    // A bucket that keeps the owner's data cannot become their target; the anonymous principal has no data.
    expect(await adminA.begin_import(user)).toEqual({ Err: { InvalidArgument: 'this bucket already keeps data of this owner' } });
    expect(err(await adminA.freeze_owner(Principal.anonymous()))).toHaveProperty('InvalidArgument');
    // A malformed memory record is refused before anything is written.
    ok(await adminB.begin_import(user));
    const bad = await adminB.import_memories(user, [{ id: newId(), record: new Uint8Array([9, 9, 9]), thumbnail: [] }]);
    expect(err(bad)).toHaveProperty('InvalidArgument');
    expect(ok(await adminB.transfer_summary(user))).toMatchObject({ memories: 0, assets: 0, used_bytes: 0n });
    // While B is receiving the owner, it is not their source; and the owner, not admitted there yet, is sent to the index.
    expect(err(await adminB.freeze_owner(user))).toHaveProperty('InvalidArgument');
    const id = newId();
    expect(await actorFor(ic, B, user).upsert_metadata(id, { Note: null }, metadata('too early'), `k-${id}`)).toEqual({ Err: { WrongBucket: null } });
    expect(json(ok(await adminA.get_stats()))).toBe(statsA);
    expect(await readAll(onA, stored)).toBe(before);
    await invariantsHold(adminA);
    await invariantsHold(adminB);
  });

  it('the target commits an imported asset only if its bytes hash to the recorded SHA-256', async () => {
    const user = principal(970);
    ok(await callIndex<{ Ok: Principal }>(ic, index, user, 'assign_bucket', [], [], PrincipalResult));
    const bytes = seededBytes(MiB + 77, 970);
    const { memoryId } = await storeFile(actorFor(ic, A, user), bytes);
    const adminA = actorFor(ic, A, ADMIN);
    const adminB = actorFor(ic, B, ADMIN);
    ok(await adminA.freeze_owner(user));
    ok(await adminB.begin_import(user));
    ok(await adminB.import_memories(user, ok(await adminA.export_memories(user, 0)).items));
    const [asset] = ok(await adminA.export_assets(user, 0)).items;
    const wrong = { ...asset, sha256: sha256(new Uint8Array([1, 2, 3])) };
    const missing = (r: { Stored: null } | { Missing: ArrayLike<number> }) => ('Missing' in r ? Array.from(r.Missing) : 'stored');
    expect(missing(ok(await adminB.import_asset_begin(user, wrong)))).toEqual([0, 1]);
    for (const i of [0, 1]) ok(await adminB.import_chunk(user, memoryId, i, blob(ok(await adminA.export_chunk(user, memoryId, i)))));
    expect(await adminB.import_asset_commit(user, wrong)).toEqual({ Err: { InvalidHash: null } });
    expect(ok(await adminB.transfer_summary(user))).toMatchObject({ assets: 0, used_bytes: 0n, memories: 1 });
    await invariantsHold(adminB);
    // With the recorded hash the same bytes commit, verified.
    expect(missing(ok(await adminB.import_asset_begin(user, asset)))).toEqual([0, 1]);
    for (const i of [0, 1]) ok(await adminB.import_chunk(user, memoryId, i, blob(ok(await adminA.export_chunk(user, memoryId, i)))));
    expect(blob(ok(await adminB.import_asset_commit(user, asset)).sha256)).toEqual(sha256(bytes));
    expect(missing(ok(await adminB.import_asset_begin(user, asset)))).toBe('stored');
    expect(ok(await adminB.transfer_summary(user))).toMatchObject({ assets: 1, used_bytes: BigInt(bytes.length) });
    await invariantsHold(adminA);
    await invariantsHold(adminB);
  });

  KILLS.forEach((kill, i) => {
    it(`killed in ${kill.step} (callback of ${kill.method} #${kill.n}), resumed by ${kill.resume === 'call' ? 'move_user again' : 'a restart'}`, async () => {
      const user = principal(1000 + i);
      expect(ok(await callIndex<{ Ok: Principal }>(ic, index, user, 'assign_bucket', [], [], PrincipalResult)).toText()).toBe(A.toText());
      const onA = actorFor(ic, A, user);
      const stored = await populate(onA, 7 + i * 13);
      const before = await readAll(onA, stored);
      const usageBefore = await usageOf(onA);

      const trap = trapCallback(ic, index, kill.method, kill.n);
      const killed = await moveUser(ic, index, user, B);
      expect(trap.fired()).toBe(true);
      expect(killed).toEqual({ rejected: expect.stringContaining(`injected trap in the callback of ${kill.method}`) });

      // Killed: the user is in exactly one bucket, which holds all their data; both buckets are consistent.
      const status = (await moveStatus(ic, index, user))!;
      expect(status.done).toBe(false);
      const named = await myBucket(ic, index, user);
      expect(named).toHaveLength(1);
      const home = actorFor(ic, Principal.fromText(named[0]), user);
      expect(await readAll(home, stored)).toBe(before);
      if (named[0] === A.toText() && status.step !== 'freeze') {
        // Frozen on the source: reads work, writes are refused as "being moved".
        const id = newId();
        expect(await home.upsert_metadata(id, { Note: null }, metadata('during the move'), `k-${id}`)).toEqual({ Err: { Moving: null } });
      }
      await invariantsHold(actorFor(ic, A, ADMIN));
      await invariantsHold(actorFor(ic, B, ADMIN));

      let final: MoveStatus;
      if (kill.resume === 'restart') {
        await ic.close();
        ic = await create();
        // The index resumed the move on its own when it came back.
        final = (await moveStatus(ic, index, user))!;
        expect(final.done).toBe(true);
        // Asking again is harmless: the move is done.
        expect(await moveUser(ic, index, user, B)).toEqual({ Ok: final });
      } else {
        const r = await moveUser(ic, index, user, B);
        final = ok(r as { Ok: MoveStatus });
      }
      expect(final).toMatchObject({ step: 'done', done: true, last_error: [] });
      expect(final.source.toText()).toBe(A.toText());
      expect(final.target.toText()).toBe(B.toText());

      // The user is in B only: the index says so, B serves everything as it was, A refuses them.
      expect(await myBucket(ic, index, user)).toEqual([B.toText()]);
      const lookup = await callIndex<Principal[]>(ic, index, ADMIN, 'lookup_bucket', [IDL.Principal], [user], IDL.Opt(IDL.Principal), true);
      expect(lookup.map((p) => p.toText())).toEqual([B.toText()]);
      // The certified answer too: the user's leaf in the witness holds B's id, not A's.
      const certified = await callIndex<{ bucket: Principal[]; tree: Uint8Array }>(ic, index, user, 'my_bucket_certified', [], [], CertifiedBucket, true);
      expect(certified.bucket.map((p) => p.toText())).toEqual([B.toText()]);
      expect(Buffer.from(certified.tree).includes(Buffer.from(B.toUint8Array()))).toBe(true);
      expect(Buffer.from(certified.tree).includes(Buffer.from(A.toUint8Array()))).toBe(false);
      const onB = actorFor(ic, B, user);
      expect(await readAll(onB, stored)).toBe(before);
      expect(await usageOf(onB)).toBe(usageBefore);
      expect((await onB.nonce_principal(stored.nonce)).map((p) => p.toText())).toEqual([user.toText()]);
      expect(await actorFor(ic, A, user).get_memory(stored.files[0].memoryId)).toEqual({ Err: { WrongBucket: null } });
      const left = ok(await actorFor(ic, A, ADMIN).transfer_summary(user));
      expect(left).toEqual({ used_bytes: 0n, memories: 0, galleries: 0, assets: 0, quota: [] });
      expect(await actorFor(ic, A, ADMIN).nonce_principal(stored.nonce)).toEqual([]);
      // The user writes again, in B.
      const id = newId();
      expect(ok(await onB.upsert_metadata(id, { Note: null }, metadata('after the move'), `k-${id}`)).created).toBe(true);
      await invariantsHold(actorFor(ic, A, ADMIN));
      await invariantsHold(actorFor(ic, B, ADMIN));
    });
  });

  it('a step the bucket fails is recorded with its reason, and the retry timer finishes the move', async () => {
    const user = principal(1900);
    ok(await callIndex<{ Ok: Principal }>(ic, index, user, 'assign_bucket', [], [], PrincipalResult));
    const onA = actorFor(ic, A, user);
    const stored = await populate(onA, 1900);
    const before = await readAll(onA, stored);
    const failing = rejectNextCall(ic, B, 'import_chunk');
    const stopped = ok((await moveUser(ic, index, user, B)) as { Ok: MoveStatus });
    expect(failing.fired()).toBe(true);
    expect(stopped).toMatchObject({ step: 'assets', done: false, last_error: [expect.stringContaining('injected trap in import_chunk')] });
    expect(await myBucket(ic, index, user)).toEqual([A.toText()]);
    expect(await readAll(onA, stored)).toBe(before);
    // Nothing else calls: the index's retry timer resumes the move from the recorded step.
    await ic.advanceTime(31_000);
    expect(await moveStatus(ic, index, user)).toMatchObject({ step: 'done', done: true, last_error: [] });
    expect(await myBucket(ic, index, user)).toEqual([B.toText()]);
    expect(await readAll(actorFor(ic, B, user), stored)).toBe(before);
    expect(ok(await actorFor(ic, A, ADMIN).transfer_summary(user))).toEqual({ used_bytes: 0n, memories: 0, galleries: 0, assets: 0, quota: [] });
    await invariantsHold(actorFor(ic, A, ADMIN));
    await invariantsHold(actorFor(ic, B, ADMIN));
  });

  it('the other users of both buckets were not touched', async () => {
    for (const [p, bucket] of [
      [principal(900), A],
      [principal(901), B],
    ] as const) {
      expect(await myBucket(ic, index, p)).toEqual([bucket.toText()]);
    }
    const list = await callIndex<{ id: Principal; users: number }[]>(
      ic,
      index,
      ADMIN,
      'list_buckets',
      [],
      [],
      IDL.Vec(IDL.Record({ id: IDL.Principal, users: IDL.Nat32, bytes: IDL.Nat64 })),
      true,
    );
    // A: 900, 950, 960, 970; B: 901 and every moved user.
    expect(list.map((b) => [b.id.toText(), b.users])).toEqual([
      [A.toText(), 4],
      [B.toText(), 2 + KILLS.length],
    ]);
  });
});
