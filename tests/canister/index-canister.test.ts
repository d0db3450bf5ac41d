// The index canister forever_index on the local IC: it holds the bucket
// module (over 2 MiB, uploaded in chunks by a controller), places users in
// the first bucket with room, and creates a bucket through the management
// canister (create_canister, upload_chunk, install_chunked_code,
// clear_chunk_store) when none has room. With the capacity set to 3 users:
// users 1–3 land in bucket A, user 4 causes bucket B to be created. Then:
// admission (a bucket serves only whom the index admitted), the byte
// capacity (the index learns stored bytes on a timer), the certified answer
// checked with @dfinity/agent over the local IC's HTTP interface, and a
// rolling upgrade of every bucket in the middle of uploads, resuming across
// an index upgrade, stopped by a bucket whose upgrade fails.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Actor, Cbor, Certificate, HttpAgent, type HashTree, lookup_path, LookupPathStatus, lookupResultToBuffer, reconstruct } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalIcHttp } from '../../canister/local/http/local-ic-http';
import { addMetadata, LocalIC } from '../../canister/local/index';
import { buildCanister, unpatchedWasmPath } from '../../canister/scripts/build';
import { serveApp } from '../http/support/serve';
import { init as initFactory } from '../../src/declarations/forever/forever.did.js';
import { actorFor, ok } from './support/actor';
import { ADMIN, foreverWasm, metadata, newId, principal, seededBytes, storeFile } from './support/forever';
import { Settings, IndexError, UnitResult, PrincipalResult, BucketInfo, CertifiedBucket } from '../../canister/local/index-idl.js';

const MiB = 1024 * 1024;
/** The server's identity, passed by the index to every bucket it creates. */
const VERIFIER = principal(4343);
const sha = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');


type Err = Record<string, unknown>;

function indexWasm(): Uint8Array {
  return new Uint8Array(readFileSync(buildCanister('forever_index')));
}

async function callIndex<T>(ic: LocalIC, id: Principal, caller: Principal, method: string, types: IDL.Type[], args: unknown[], ret: IDL.Type, q = false): Promise<T> {
  const arg = new Uint8Array(IDL.encode(types, args));
  const r = q ? await ic.query(id, method, arg, { caller }) : await ic.update(id, method, arg, { caller });
  if (r.status !== 'replied') throw new Error(`${method} rejected: ${r.rejectMessage}`);
  return IDL.decode([ret], r.reply)[0] as T;
}

async function startIndex(capacityUsers: number): Promise<{ ic: LocalIC; index: Principal }> {
  const ic = await LocalIC.create({ clock: 'manual', log: () => undefined });
  const index = await ic.createCanister({ controllers: [ADMIN] });
  const settings = { capacity_users: capacityUsers, capacity_bytes: 1n << 40n, bucket_controllers: [ADMIN], bucket_cycles: 0n, presence_verifiers: [VERIFIER] };
  await ic.installCode(index, indexWasm(), { mode: 'install', arg: new Uint8Array(IDL.encode([IDL.Opt(Settings)], [[settings]])), sender: ADMIN });
  return { ic, index };
}

async function uploadModule(ic: LocalIC, index: Principal, wasm: Uint8Array, caller = ADMIN): Promise<{ Ok: null } | { Err: Err }> {
  const count = Math.ceil(wasm.length / MiB);
  for (let i = 0; i < count; i++) {
    const r = await callIndex<{ Ok: null } | { Err: Err }>(ic, index, caller, 'upload_bucket_module_chunk', [IDL.Nat32, IDL.Vec(IDL.Nat8)], [i, wasm.subarray(i * MiB, (i + 1) * MiB)], UnitResult);
    if ('Err' in r) return r;
  }
  return callIndex(ic, index, caller, 'set_bucket_module', [IDL.Nat32, IDL.Vec(IDL.Nat8)], [count, sha(wasm)], UnitResult);
}

const assign = (ic: LocalIC, index: Principal, user: Principal) =>
  callIndex<{ Ok: Principal } | { Err: Err }>(ic, index, user, 'assign_bucket', [], [], PrincipalResult);

const UpgradeStatus = IDL.Record({
  module_sha256: IDL.Vec(IDL.Nat8),
  batch_size: IDL.Nat32,
  upgraded: IDL.Nat32,
  total: IDL.Nat32,
  state: IDL.Variant({ Running: IDL.Null, Done: IDL.Null, Failed: IDL.Record({ bucket: IDL.Principal, reason: IDL.Text }) }),
});
type UpgradeStatus = { upgraded: number; total: number; batch_size: number; state: { Running: null } | { Done: null } | { Failed: { bucket: Principal; reason: string } } };

/** The index methods a client calls, for @dfinity/agent. */
const indexIdl: IDL.InterfaceFactory = ({ IDL: I }) =>
  I.Service({
    assign_bucket: I.Func([], [PrincipalResult], []),
    my_bucket_certified: I.Func([], [CertifiedBucket], ['query']),
  });
interface IndexService {
  assign_bucket: () => Promise<{ Ok: Principal } | { Err: Err }>;
  my_bucket_certified: () => Promise<{ bucket: [] | [Principal]; certificate: Uint8Array | number[]; tree: Uint8Array | number[] }>;
}

const setSettings = (ic: LocalIC, index: Principal, s: { capacity_users: number; capacity_bytes: bigint }) =>
  callIndex<{ Ok: null } | { Err: Err }>(ic, index, ADMIN, 'set_settings', [Settings], [{ ...s, bucket_controllers: [ADMIN], bucket_cycles: 0n, presence_verifiers: [VERIFIER] }], UnitResult);

const listBuckets = (ic: LocalIC, index: Principal) =>
  callIndex<{ id: Principal; users: number; bytes: bigint }[]>(ic, index, ADMIN, 'list_buckets', [], [], IDL.Vec(BucketInfo), true);

const upgradeBuckets = (ic: LocalIC, index: Principal, batch: number) =>
  callIndex<{ Ok: UpgradeStatus } | { Err: Err }>(ic, index, ADMIN, 'upgrade_buckets', [IDL.Nat32], [batch], IDL.Variant({ Ok: UpgradeStatus, Err: IndexError }));

/** The rollout's status once `done` holds, moving the clock `stepMs` at a time (its batches run on timers). */
async function until(ic: LocalIC, index: Principal, done: (s: UpgradeStatus) => boolean, stepMs: number): Promise<UpgradeStatus> {
  for (let i = 0; i < 50; i++) {
    const [s] = await callIndex<[UpgradeStatus] | []>(ic, index, ADMIN, 'bucket_upgrade_status', [], [], IDL.Opt(UpgradeStatus), true);
    if (s && done(s)) return s;
    await ic.advanceTime(stepMs);
  }
  throw new Error('the rollout did not get there');
}

/** The same tree with every leaf's value replaced (a forged answer). */
function swapLeaf(t: HashTree, value: Uint8Array): HashTree {
  switch (t[0]) {
    case 1:
      return [1, swapLeaf(t[1], value), swapLeaf(t[2], value)] as unknown as HashTree;
    case 2:
      return [2, t[1], swapLeaf(t[2], value)] as unknown as HashTree;
    case 3:
      return [3, value] as unknown as HashTree;
    default:
      return t;
  }
}

describe('forever_index places users in buckets it creates', () => {
  let ic: LocalIC;
  let index: Principal;
  const bucketWasm = foreverWasm();
  const users = [1, 2, 3, 4].map((n) => principal(500 + n));
  let assigned: Principal[] = [];
  const user6 = principal(506);
  let bucketC: Principal;

  beforeAll(async () => {
    ({ ic, index } = await startIndex(3));
  });
  afterAll(async () => {
    await ic.close();
  });

  it('refuses a module upload from a non-controller, and an anonymous newcomer', async () => {
    expect(await uploadModule(ic, index, new Uint8Array([1, 2, 3]), principal(9))).toEqual({ Err: { Unauthorized: null } });
    expect(await assign(ic, index, Principal.anonymous())).toEqual({ Err: { Unauthorized: null } });
  });

  it('without a bucket module, a newcomer is told so and nothing is created', async () => {
    expect(await assign(ic, index, users[0])).toEqual({ Err: { NoBucketModule: null } });
    expect(ic.canisterIds()).toHaveLength(1);
  });

  it('users 1–3 land in bucket A; user 4 causes bucket B to be created', async () => {
    expect(bucketWasm.length).toBeGreaterThan(2 * MiB);
    expect(await uploadModule(ic, index, bucketWasm)).toEqual({ Ok: null });
    assigned = [];
    for (const u of users) {
      const r = await assign(ic, index, u);
      if (!('Ok' in r)) throw new Error(`assign_bucket: ${JSON.stringify(r)}`);
      assigned.push(r.Ok);
    }
    const [a, a2, a3, b] = assigned.map((p) => p.toText());
    expect([a2, a3]).toEqual([a, a]);
    expect(b).not.toBe(a);
    expect(ic.canisterIds().map((p) => p.toText()).sort()).toEqual([index.toText(), a, b].sort());
    for (const bucket of [assigned[0], assigned[3]]) {
      // Installed by chunked code: the module the index holds, controlled by the index and the operator.
      expect(hex(ic.moduleHash(bucket)!)).toBe(hex(sha(bucketWasm)));
      expect(ic.controllers(bucket).map((p) => p.toText()).sort()).toEqual([index.toText(), ADMIN.toText()].sort());
    }
    const list = await callIndex<{ id: Principal; users: number }[]>(ic, index, ADMIN, 'list_buckets', [], [], IDL.Vec(BucketInfo), true);
    expect(list.map((x) => [x.id.toText(), x.users])).toEqual([
      [a, 3],
      [b, 1],
    ]);
  });

  it('asking again gives the same bucket; my_bucket answers as a query', async () => {
    expect(await assign(ic, index, users[1])).toEqual({ Ok: assigned[1] });
    const mine = await callIndex<[Principal] | []>(ic, index, users[3], 'my_bucket', [], [], IDL.Opt(IDL.Principal), true);
    expect(mine.map((p) => p.toText())).toEqual([assigned[3].toText()]);
    expect(await callIndex(ic, index, principal(777), 'my_bucket', [], [], IDL.Opt(IDL.Principal), true)).toEqual([]);
    // Still two buckets.
    expect(ic.canisterIds()).toHaveLength(3);
  });

  it("each user's bucket is a working forever canister", async () => {
    const u1 = actorFor(ic, assigned[0], users[0]);
    const u4 = actorFor(ic, assigned[3], users[3]);
    const m1 = newId();
    const m4 = newId();
    ok(await u1.upsert_metadata(m1, { Note: null }, metadata('in A'), `k-${m1}`));
    ok(await u4.upsert_metadata(m4, { Note: null }, metadata('in B'), `k-${m4}`));
    const usage = (await u1.get_usage()) as unknown as { memories?: bigint } & Record<string, unknown>;
    expect(usage).toBeDefined();
    // Each bucket holds only its own users' memories.
    const inA = (await u1.get_memory(m1)) as unknown;
    expect(JSON.stringify(inA, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).toContain('in A');
    // User 4 is not admitted by bucket A: refused there, its own memory included, and nothing changes.
    expect(await actorFor(ic, assigned[0], users[3]).get_memory(m4)).toEqual({ Err: { WrongBucket: null } });
    expect(await actorFor(ic, assigned[0], users[3]).upsert_metadata(newId(), { Note: null }, metadata('stray'), `k-${newId()}`)).toEqual({
      Err: { WrongBucket: null },
    });
    expect(await actorFor(ic, assigned[3], users[0]).get_memory(m1)).toEqual({ Err: { WrongBucket: null } });
    expect(await actorFor(ic, assigned[3], users[0]).list_memories([], [])).toEqual({ Err: { WrongBucket: null } });
    expect(ok(await u4.list_memories([], [])).items.map((m) => m.id)).toEqual([m4]);
    // The index admitted them (it answers to the index), and passed the presence verifiers on.
    expect(ok(await actorFor(ic, assigned[0], index).is_admitted(users[0]))).toBe(true);
    expect(ok(await actorFor(ic, assigned[0], index).is_admitted(users[3]))).toBe(false);
    for (const b of [assigned[0], assigned[3]]) {
      expect(ok(await actorFor(ic, b, ADMIN).get_presence_verifiers()).map((p) => p.toText())).toEqual([VERIFIER.toText()]);
    }
    const presence = ok(await actorFor(ic, assigned[3], VERIFIER).verify_presence(users[3], [m4]));
    expect(presence[0]).toMatchObject({ metadata_present: true });
  });

  it('an admission the bucket did not confirm is finished by the next assign_bucket', async () => {
    // Bucket B stops answering to the index: the index is no longer its controller, and B names another index.
    const b = assigned[3];
    const wasm = bucketWasm;
    const initArg = (idx: Principal) => new Uint8Array(IDL.encode(initFactory({ IDL }), [[{ index: [idx], presence_verifiers: [] }]]));
    await ic.setControllers(b, [ADMIN]);
    await ic.installCode(b, wasm, { mode: 'upgrade', arg: initArg(principal(999)), sender: ADMIN });
    const user5 = principal(505);
    const r = await assign(ic, index, user5);
    expect(r).toMatchObject({ Err: { AdmitFailed: expect.any(String) } });
    // Placed but not confirmed: my_bucket does not name it yet, the bucket refuses the user.
    expect(await callIndex(ic, index, user5, 'my_bucket', [], [], IDL.Opt(IDL.Principal), true)).toEqual([]);
    expect(await actorFor(ic, b, user5).get_usage()).toEqual({ Err: { WrongBucket: null } });
    // B answers to the index again: the next assign_bucket admits the user there, without placing it twice.
    await ic.installCode(b, wasm, { mode: 'upgrade', arg: initArg(index), sender: ADMIN });
    await ic.setControllers(b, [index, ADMIN]);
    expect(await assign(ic, index, user5)).toEqual({ Ok: b });
    expect(ok(await actorFor(ic, b, user5).get_usage()).memories).toBe(0n);
    const mine = await callIndex<[Principal] | []>(ic, index, user5, 'my_bucket', [], [], IDL.Opt(IDL.Principal), true);
    expect(mine.map((p) => p.toText())).toEqual([b.toText()]);
    const list = await callIndex<{ id: Principal; users: number }[]>(ic, index, ADMIN, 'list_buckets', [], [], IDL.Vec(BucketInfo), true);
    expect(list.map((x) => x.users)).toEqual([3, 2]);
  });

  it('the byte capacity places users too: the index learns each bucket’s stored bytes on its timer', async () => {
    const b = assigned[3];
    expect(ok(await setSettings(ic, index, { capacity_users: 3, capacity_bytes: 1000n }))).toBeNull();
    await storeFile(actorFor(ic, b, users[3]), seededBytes(4000, 11));
    const before = await listBuckets(ic, index);
    expect(before.map((x) => [x.users, x.bytes])).toEqual([
      [3, 0n],
      [2, 0n],
    ]);
    // A minute later the index has asked every bucket (get_stats, as their controller).
    await ic.advanceTime(61_000);
    const after = await listBuckets(ic, index);
    expect(after[1].bytes).toBeGreaterThanOrEqual(4000n);
    // Bucket A is full by users, B by bytes: user 6 causes bucket C.
    const r = await assign(ic, index, user6);
    if (!('Ok' in r)) throw new Error(`assign_bucket: ${JSON.stringify(r)}`);
    expect([assigned[0].toText(), b.toText()]).not.toContain(r.Ok.toText());
    bucketC = r.Ok;
    expect((await listBuckets(ic, index)).map((x) => x.id.toText())).toEqual([assigned[0].toText(), b.toText(), bucketC.toText()]);
    expect(ok(await setSettings(ic, index, { capacity_users: 100, capacity_bytes: 1n << 40n }))).toBeNull();
  });

  it('my_bucket_certified: the client checks the answer with @dfinity/agent against the local IC’s root key', async () => {
    const http = await createLocalIcHttp({ runtime: ic });
    const app = new Hono();
    http.mount(app);
    const served = await serveApp(app);
    try {
      // The certificate's time is the IC's: bring the manual clock to now, as the agent checks its age.
      const wall = BigInt(Date.now()) * 1_000_000n;
      if (wall > ic.timeNs()) await ic.setTime(wall);
      const identity = Ed25519KeyIdentity.generate();
      const agent = await HttpAgent.create({ host: served.url, identity, shouldFetchRootKey: true });
      const actor = Actor.createActor<IndexService>(indexIdl, { agent, canisterId: index });
      const placed = await actor.assign_bucket();
      if (!('Ok' in placed)) throw new Error(JSON.stringify(placed));
      expect(placed.Ok.toText()).toBe(assigned[0].toText());

      const verify = async (answer: { certificate: Uint8Array | number[]; tree: Uint8Array | number[] }, who: Principal) => {
        const cert = await Certificate.create({ certificate: new Uint8Array(answer.certificate), rootKey: agent.rootKey!, canisterId: index });
        const certified = lookupResultToBuffer(cert.lookup_path(['canister', index.toUint8Array(), 'certified_data']));
        const tree = Cbor.decode<HashTree>(new Uint8Array(answer.tree));
        const root = await reconstruct(tree);
        return { matches: hex(root) === hex(certified!), found: lookup_path(['bucket', who.toUint8Array()], tree), tree, certified: certified! };
      };
      const mine = await actor.my_bucket_certified();
      expect(mine.bucket.map((p) => p.toText())).toEqual([assigned[0].toText()]);
      const v = await verify(mine, identity.getPrincipal());
      expect(v.matches).toBe(true);
      expect(v.found.status).toBe(LookupPathStatus.Found);
      expect(Principal.fromUint8Array(v.found.status === LookupPathStatus.Found ? (v.found.value as Uint8Array) : new Uint8Array()).toText()).toBe(assigned[0].toText());

      // A tree whose leaf names another bucket no longer reconstructs to the certified data.
      const forged = Cbor.encode(swapLeaf(v.tree, assigned[3].toUint8Array()));
      const f = await verify({ certificate: mine.certificate, tree: forged }, identity.getPrincipal());
      expect(f.found.status).toBe(LookupPathStatus.Found);
      expect(f.matches).toBe(false);
      // A certificate with one byte changed is refused by the agent (its signature or its tree).
      const bad = new Uint8Array(mine.certificate);
      bad[bad.length - 5] ^= 1;
      await expect(Certificate.create({ certificate: bad, rootKey: agent.rootKey!, canisterId: index })).rejects.toThrow();

      // A newcomer: no bucket, and the certified tree says so (not found), still matching the certified data.
      const stranger = Ed25519KeyIdentity.generate();
      const strangerAgent = await HttpAgent.create({ host: served.url, identity: stranger, shouldFetchRootKey: true });
      const none = await Actor.createActor<IndexService>(indexIdl, { agent: strangerAgent, canisterId: index }).my_bucket_certified();
      expect(none.bucket).toEqual([]);
      const nv = await verify(none, stranger.getPrincipal());
      expect(nv.matches).toBe(true);
      expect(nv.found.status).not.toBe(LookupPathStatus.Found);
      // The witness names no other user.
      expect(Buffer.from(new Uint8Array(none.tree)).includes(Buffer.from(identity.getPrincipal().toUint8Array()))).toBe(false);
    } finally {
      await served.close();
    }
  });

  it('a change of the presence verifiers reaches the existing buckets', async () => {
    const second = principal(4344);
    const r = await callIndex<{ Ok: null } | { Err: Err }>(ic, index, ADMIN, 'set_settings', [Settings], [
      { capacity_users: 100, capacity_bytes: 1n << 40n, bucket_controllers: [ADMIN], bucket_cycles: 0n, presence_verifiers: [VERIFIER, second] },
    ], UnitResult);
    expect(r).toEqual({ Ok: null });
    await ic.advanceTime(0);
    for (const b of [assigned[0], assigned[3], bucketC]) {
      expect(ok(await actorFor(ic, b, ADMIN).get_presence_verifiers()).map((p) => p.toText())).toEqual([VERIFIER.toText(), second.toText()]);
    }
    expect(ok(await setSettings(ic, index, { capacity_users: 100, capacity_bytes: 1n << 40n }))).toBeNull();
    await ic.advanceTime(0);
    expect(ok(await actorFor(ic, bucketC, ADMIN).get_presence_verifiers()).map((p) => p.toText())).toEqual([VERIFIER.toText()]);
  });

  it('lookup_bucket answers the server (a presence verifier), the controllers and the principal itself; nobody else', async () => {
    const look = (caller: Principal, who: Principal) => callIndex<[Principal] | []>(ic, index, caller, 'lookup_bucket', [IDL.Principal], [who], IDL.Opt(IDL.Principal), true);
    expect((await look(VERIFIER, users[3])).map((p) => p.toText())).toEqual([assigned[3].toText()]);
    expect((await look(ADMIN, users[0])).map((p) => p.toText())).toEqual([assigned[0].toText()]);
    expect((await look(users[0], users[0])).map((p) => p.toText())).toEqual([assigned[0].toText()]);
    expect(await look(users[0], users[3])).toEqual([]);
    expect(await look(VERIFIER, principal(123456))).toEqual([]);
  });

  it('a rolling upgrade in the middle of uploads: every bucket gets the new module, batch by batch, resuming after an index upgrade; every upload commits', async () => {
    const owners: Array<[Principal, Principal]> = [
      [users[0], assigned[0]],
      [users[3], assigned[3]],
      [user6, bucketC],
    ];
    const data = owners.map((_, i) => seededBytes(2 * MiB + 1000 * (i + 1), 100 + i));
    const sessions: string[] = [];
    for (const [i, [u, b]] of owners.entries()) {
      const a = actorFor(ic, b, u);
      const memoryId = newId();
      ok(await a.upsert_metadata(memoryId, { Image: null }, metadata(`upload ${i}`), `k-${memoryId}`));
      const s = ok(await a.begin_asset_upload(memoryId, sha(data[i]), 3, BigInt(data[i].length)));
      ok(await a.put_chunk(s.session_id, 0, data[i].subarray(0, MiB)));
      sessions.push(s.session_id);
    }
    const v2 = addMetadata(bucketWasm, 'forever:rollout', 'v2');
    expect(await uploadModule(ic, index, v2)).toEqual({ Ok: null });
    const started = await upgradeBuckets(ic, index, 1);
    expect(started).toMatchObject({ Ok: { batch_size: 1, total: 3 } });
    // The first batch (bucket A) runs on the index's timer.
    const first = await until(ic, index, (s) => s.upgraded >= 1, 0);
    expect(first.upgraded).toBe(1);
    expect(hex(ic.moduleHash(assigned[0])!)).toBe(hex(sha(v2)));
    expect(hex(ic.moduleHash(assigned[3])!)).toBe(hex(sha(bucketWasm)));
    // In the middle: a chunk into the upgraded bucket and into one still on the old module.
    for (const [i, [u, b]] of owners.entries()) ok(await actorFor(ic, b, u).put_chunk(sessions[i], 1, data[i].subarray(MiB, 2 * MiB)));
    // The index itself is upgraded between two batches: the rollout goes on from its record.
    await ic.installCode(index, indexWasm(), { mode: 'upgrade', arg: new Uint8Array(IDL.encode([IDL.Opt(Settings)], [[]])), sender: ADMIN });
    const done = await until(ic, index, (s) => 'Done' in s.state, 1000);
    expect(done).toMatchObject({ upgraded: 3, total: 3, state: { Done: null } });
    for (const [u, b] of owners) {
      expect(hex(ic.moduleHash(b)!)).toBe(hex(sha(v2)));
      expect(ic.controllers(b).map((p) => p.toText()).sort()).toEqual([index.toText(), ADMIN.toText()].sort());
      // Still answering to the index: its users are admitted, others are not.
      expect(await actorFor(ic, b, principal(888)).get_usage()).toEqual({ Err: { WrongBucket: null } });
      expect('Ok' in (await actorFor(ic, b, u).get_usage())).toBe(true);
    }
    for (const [i, [u, b]] of owners.entries()) {
      const a = actorFor(ic, b, u);
      ok(await a.put_chunk(sessions[i], 2, data[i].subarray(2 * MiB)));
      const asset = ok(await a.commit_asset(sessions[i], sha(data[i])));
      expect(asset.size).toBe(BigInt(data[i].length));
      expect(hex(ok(await a.read_chunk(asset.memory_id, 2)) as Uint8Array)).toBe(hex(data[i].subarray(2 * MiB)));
    }
  });

  it('a bucket whose upgrade fails stops the rollout: it runs its old module, the others are left as they were', async () => {
    const before = [assigned[0], assigned[3], bucketC].map((b) => hex(ic.moduleHash(b)!));
    // The module as azle built it, before its native SHA-256: its post_upgrade traps.
    const failing = new Uint8Array(readFileSync(unpatchedWasmPath()));
    expect(await uploadModule(ic, index, failing)).toEqual({ Ok: null });
    expect(await upgradeBuckets(ic, index, 1)).toMatchObject({ Ok: { state: { Running: null } } });
    const failed = await until(ic, index, (s) => !('Running' in s.state), 1000);
    expect(failed.state).toMatchObject({ Failed: { bucket: assigned[0], reason: expect.stringMatching(/trap|violated|SHA-256/i) } });
    expect(failed.upgraded).toBe(0);
    expect([assigned[0], assigned[3], bucketC].map((b) => hex(ic.moduleHash(b)!))).toEqual(before);
    // Bucket A runs (its old module), with its data.
    expect(ok(await actorFor(ic, assigned[0], users[0]).get_usage()).memories).toBeGreaterThan(0n);
    // Time passing does not move a stopped rollout on.
    await ic.advanceTime(5000);
    expect([assigned[3], bucketC].map((b) => hex(ic.moduleHash(b)!))).toEqual(before.slice(1));
    // A good module rolled out next reaches every bucket, the one that failed included.
    const v3 = addMetadata(bucketWasm, 'forever:rollout', 'v3');
    expect(await uploadModule(ic, index, v3)).toEqual({ Ok: null });
    expect(await upgradeBuckets(ic, index, 2)).toMatchObject({ Ok: { state: { Running: null } } });
    expect(await until(ic, index, (s) => !('Running' in s.state), 1000)).toMatchObject({ upgraded: 3, state: { Done: null } });
    expect([assigned[0], assigned[3], bucketC].map((b) => hex(ic.moduleHash(b)!))).toEqual([hex(sha(v3)), hex(sha(v3)), hex(sha(v3))]);
    expect(ok(await actorFor(ic, assigned[0], users[0]).get_usage()).memories).toBeGreaterThan(0n);
  });
});
