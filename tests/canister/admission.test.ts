// A bucket installed with an index serves only the principals the index
// admitted: every owner-facing method, queries too, answers WrongBucket to
// anyone else and changes nothing; admit_owner and evict_owner are for the
// index and the controllers, and idempotent. The init argument also sets the
// presence verifiers. (Without an index every existing canister test runs
// unchanged: that is the standalone form.)
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foreverTypes } from '../../canister/src/candid';
import { CANISTER_ERRORS } from '../../contract/errors';
import { init as initFactory } from '../../src/declarations/forever/forever.did.js';
import { err, type ForeverActor, ok } from './support/actor';
import { ADMIN, type Forever, metadata, newId, principal, seededBytes, sha256, startForever, storeFile } from './support/forever';
import { snapshot } from './support/state';

const INDEX = principal(4242);
const VERIFIER = principal(4343);
const alice = principal(41);
const mallory = principal(42);
const bob = principal(43);

const initArg = (index: Principal[], verifiers: Principal[]): Uint8Array =>
  new Uint8Array(IDL.encode(initFactory({ IDL }), [[{ index, presence_verifiers: verifiers }]]));

/** Every owner-facing method, called as `a` with arguments that would succeed or fail on their own merits. */
function ownerCalls(a: ForeverActor, memoryId: string, sessionId: string): Array<[string, () => Promise<unknown>]> {
  const g = { id: newId(), title: 'g', description: [] as [], memory_ids: [] as string[] };
  return [
    ['upsert_metadata', () => a.upsert_metadata(newId(), { Note: null }, metadata('x'), `k-${newId()}`)],
    ['get_memory', () => a.get_memory(memoryId)],
    ['list_memories', () => a.list_memories([], [])],
    ['get_memory_presence', () => a.get_memory_presence(memoryId)],
    ['get_memory_list_presence', () => a.get_memory_list_presence([memoryId], [], [])],
    ['delete_memory', () => a.delete_memory(memoryId)],
    ['set_thumbnail', () => a.set_thumbnail(memoryId, new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))],
    ['get_thumbnail', () => a.get_thumbnail(memoryId)],
    ['begin_asset_upload', () => a.begin_asset_upload(memoryId, sha256(new Uint8Array(10)), 1, 10n)],
    ['put_chunk', () => a.put_chunk(sessionId, 0, new Uint8Array(10))],
    ['commit_asset', () => a.commit_asset(sessionId, sha256(new Uint8Array(10)))],
    ['cancel_upload', () => a.cancel_upload(sessionId)],
    ['get_upload_progress', () => a.get_upload_progress(sessionId)],
    ['list_my_uploads', () => a.list_my_uploads()],
    ['read_chunk', () => a.read_chunk(memoryId, 0)],
    ['store_gallery', () => a.store_gallery(g)],
    ['get_gallery', () => a.get_gallery(g.id)],
    ['list_galleries', () => a.list_galleries([], [])],
    ['prove_principal', () => a.prove_principal(`nonce-${newId().replace(/-/g, '')}`)],
    ['get_usage', () => a.get_usage()],
  ];
}

describe('a bucket installed with an index', () => {
  let f: Forever;
  let aliceMemory: string;
  let aliceSession: string;

  beforeAll(async () => {
    f = await startForever({ arg: initArg([INDEX], [VERIFIER]) });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('WrongBucket is a canister error every tier knows: the contract names exactly the Candid Error cases', () => {
    expect(CANISTER_ERRORS).toContain('WrongBucket');
    const cases = (foreverTypes(IDL).Error as unknown as { _fields: Array<[string, unknown]> })._fields.map(([name]) => name);
    expect([...cases].sort()).toEqual([...CANISTER_ERRORS].sort());
  });

  it('refuses everyone until the index admits them', async () => {
    expect(err(await f.actor(alice).get_usage())).toEqual({ WrongBucket: null });
    expect(err(await f.actor(alice).upsert_metadata(newId(), { Note: null }, metadata(), 'k1'))).toEqual({ WrongBucket: null });
    expect(err(await f.actor(Principal.anonymous()).list_memories([], []))).toEqual({ WrongBucket: null });
  });

  it('admit_owner: only the index or a controller; idempotent', async () => {
    expect(err(await f.actor(mallory).admit_owner(mallory))).toEqual({ Unauthorized: null });
    expect(err(await f.actor(Principal.anonymous()).admit_owner(alice))).toEqual({ Unauthorized: null });
    expect(err(await f.actor(INDEX).admit_owner(Principal.anonymous()))).toMatchObject({ InvalidArgument: expect.any(String) });
    expect(ok(await f.actor(INDEX).admit_owner(alice))).toBeNull();
    expect(ok(await f.actor(INDEX).admit_owner(alice))).toBeNull();
    expect(ok(await f.admin.admit_owner(bob))).toBeNull();
    expect(ok(await f.actor(INDEX).is_admitted(alice))).toBe(true);
    expect(ok(await f.actor(INDEX).is_admitted(mallory))).toBe(false);
    expect(err(await f.actor(mallory).is_admitted(alice))).toEqual({ Unauthorized: null });
  });

  it('an admitted owner works as on a standalone bucket', async () => {
    const a = f.actor(alice);
    aliceMemory = (await storeFile(a, seededBytes(3000, 7))).memoryId;
    expect(ok(await a.get_memory(aliceMemory)).asset).toHaveLength(1);
    const id = newId();
    ok(await a.upsert_metadata(id, { Image: null }, metadata(), `k-${id}`));
    aliceSession = ok(await a.begin_asset_upload(id, sha256(new Uint8Array(10)), 1, 10n)).session_id;
    expect(ok(await f.actor(bob).get_usage()).memories).toBe(0n);
  });

  it('every owner-facing method, update or query, answers WrongBucket to a caller not admitted and changes nothing', async () => {
    const before = await snapshot(f, f.actor(alice));
    const calls = ownerCalls(f.actor(mallory), aliceMemory, aliceSession);
    // Pinned: a new owner-facing method must be added here.
    expect(calls).toHaveLength(20);
    for (const [name, run] of calls) {
      expect({ name, result: await run() }).toEqual({ name, result: { Err: { WrongBucket: null } } });
    }
    expect(await snapshot(f, f.actor(alice))).toBe(before);
    // The public and the controllers' methods are not owner-facing.
    expect(await f.actor(mallory).get_limits()).toMatchObject({ chunk_size: expect.any(Number) });
    expect(ok(await f.admin.get_stats()).memories).toBeGreaterThan(0n);
  });

  it('the presence verifiers come from the init argument', async () => {
    expect(ok(await f.admin.get_presence_verifiers()).map((p) => p.toText())).toEqual([VERIFIER.toText()]);
    const presence = ok(await f.actor(VERIFIER).verify_presence(alice, [aliceMemory]));
    expect(presence[0]).toMatchObject({ asset_present: true });
    // About an owner this bucket does not keep: WrongBucket (ask the index), not "absent"; a non-verifier learns nothing.
    expect(err(await f.actor(VERIFIER).verify_presence(mallory, [aliceMemory]))).toEqual({ WrongBucket: null });
    expect(err(await f.actor(mallory).verify_presence(mallory, [aliceMemory]))).toEqual({ Unauthorized: null });
  });

  it('evict_owner: only the index or a controller; idempotent; the data stays for a move to delete', async () => {
    expect(err(await f.actor(alice).evict_owner(alice))).toEqual({ Unauthorized: null });
    const stats = ok(await f.admin.get_stats());
    expect(ok(await f.actor(INDEX).evict_owner(alice))).toBeNull();
    expect(ok(await f.actor(INDEX).evict_owner(alice))).toBeNull();
    expect(err(await f.actor(alice).get_memory(aliceMemory))).toEqual({ WrongBucket: null });
    expect(err(await f.actor(alice).put_chunk(aliceSession, 0, new Uint8Array(10)))).toEqual({ WrongBucket: null });
    expect(err(await f.actor(VERIFIER).verify_presence(alice, [aliceMemory]))).toEqual({ WrongBucket: null });
    expect(ok(await f.admin.get_stats())).toEqual(stats);
    // Admitted again (a move back): the data is there.
    ok(await f.admin.admit_owner(alice));
    expect(ok(await f.actor(alice).get_memory(aliceMemory)).id).toBe(aliceMemory);
  });

  it('an upgrade keeps the index and the admissions; an empty upgrade argument changes neither', async () => {
    await f.upgrade();
    expect(err(await f.actor(mallory).get_usage())).toEqual({ WrongBucket: null });
    expect(ok(await f.actor(alice).get_usage()).memories).toBe(2n);
    expect(ok(await f.actor(INDEX).is_admitted(alice))).toBe(true);
  });

  it('a malformed init argument does not install', async () => {
    const id = await f.ic.createCanister({ controllers: [ADMIN] });
    // (A well-formed value of another type is not malformed: Candid reads a mismatched `opt` as null.)
    const bad = new Uint8Array([0x44, 0x49, 0x44, 0x4c, 0xff, 0xff, 0xff, 0x0f]);
    const { foreverWasm } = await import('./support/forever');
    await expect(f.ic.installCode(id, foreverWasm(), { mode: 'install', arg: bad, sender: ADMIN })).rejects.toThrow(/init argument/);
  });
});

describe('a bucket installed without an index (standalone)', () => {
  let f: Forever;
  beforeAll(async () => {
    f = await startForever();
  });
  afterAll(async () => {
    await f?.close();
  });

  it('serves every authenticated caller as its own owner; admission is for controllers only and changes nothing', async () => {
    const id = newId();
    ok(await f.actor(mallory).upsert_metadata(id, { Note: null }, metadata(), `k-${id}`));
    expect(ok(await f.admin.is_admitted(mallory))).toBe(true);
    expect(err(await f.actor(mallory).admit_owner(mallory))).toEqual({ Unauthorized: null });
    ok(await f.admin.evict_owner(mallory));
    expect(ok(await f.actor(mallory).get_memory(id)).id).toBe(id);
  });
});
