// The index canister forever_index on the local IC: it holds the bucket
// module (over 2 MiB, uploaded in chunks by a controller), places users in
// the first bucket with room, and creates a bucket through the management
// canister (create_canister, upload_chunk, install_chunked_code,
// clear_chunk_store) when none has room. With the capacity set to 3 users:
// users 1–3 land in bucket A, user 4 causes bucket B to be created.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalIC } from '../../canister/local/index';
import { buildCanister } from '../../canister/scripts/build';
import { init as initFactory } from '../../src/declarations/forever/forever.did.js';
import { actorFor, ok } from './support/actor';
import { ADMIN, foreverWasm, metadata, newId, principal } from './support/forever';

const MiB = 1024 * 1024;
/** The server's identity, passed by the index to every bucket it creates. */
const VERIFIER = principal(4343);
const sha = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const Settings = IDL.Record({
  capacity_users: IDL.Nat32,
  capacity_bytes: IDL.Nat64,
  bucket_controllers: IDL.Vec(IDL.Principal),
  bucket_cycles: IDL.Nat,
  presence_verifiers: IDL.Vec(IDL.Principal),
});
const IndexError = IDL.Variant({
  Unauthorized: IDL.Null,
  InvalidArgument: IDL.Text,
  NoBucketModule: IDL.Null,
  Busy: IDL.Null,
  CreateFailed: IDL.Text,
  AdmitFailed: IDL.Text,
});
const UnitResult = IDL.Variant({ Ok: IDL.Null, Err: IndexError });
const PrincipalResult = IDL.Variant({ Ok: IDL.Principal, Err: IndexError });
const BucketInfo = IDL.Record({ id: IDL.Principal, users: IDL.Nat32, bytes: IDL.Nat64 });

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

describe('forever_index places users in buckets it creates', () => {
  let ic: LocalIC;
  let index: Principal;
  const bucketWasm = foreverWasm();
  const users = [1, 2, 3, 4].map((n) => principal(500 + n));
  let assigned: Principal[] = [];

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
});
