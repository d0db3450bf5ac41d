// Authorization: a principal sees and changes only its own data and sessions,
// the anonymous principal writes nothing, administration is for controllers,
// and presence verification answers only controllers and named verifiers.
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { err, ok } from './support/actor';
import { type Forever, metadata, newId, principal, seededBytes, sha256, startForever, storeFile } from './support/forever';
import { snapshot } from './support/state';

let f: Forever;
const alice = () => f.actor(principal(31));
const mallory = () => f.actor(principal(32));
const anonymous = () => f.actor(Principal.anonymous());
let stored: { memoryId: string };
let liveSession: string;
let galleryId: string;

beforeAll(async () => {
  f = await startForever();
  stored = await storeFile(alice(), seededBytes(4000, 41));
  const id = newId();
  ok(await alice().upsert_metadata(id, { Image: null }, metadata(), 'k'));
  liveSession = ok(await alice().begin_asset_upload(id, sha256(new Uint8Array(10)), 1, 10n)).session_id;
  galleryId = newId();
  ok(await alice().store_gallery({ id: galleryId, title: 'private', description: [], memory_ids: [stored.memoryId] }));
});
afterAll(async () => {
  await f?.close();
});

describe('another principal', () => {
  it('cannot read, list or see the presence of someone else’s memories and galleries', async () => {
    expect(err(await mallory().get_memory(stored.memoryId))).toEqual({ NotFound: null });
    expect(err(await mallory().read_chunk(stored.memoryId, 0))).toEqual({ NotFound: null });
    expect(ok(await mallory().list_memories([], [])).items).toEqual([]);
    expect(ok(await mallory().get_memory_presence(stored.memoryId))).toMatchObject({ metadata_present: false, asset_present: false, owner: [] });
    expect(err(await mallory().get_gallery(galleryId))).toEqual({ NotFound: null });
    expect(ok(await mallory().list_galleries([], [])).items).toEqual([]);
  });

  it('cannot put, commit, cancel or inspect someone else’s session, and nothing changes', async () => {
    const before = await snapshot(f, alice());
    expect(err(await mallory().put_chunk(liveSession, 0, new Uint8Array(10)))).toEqual({ Unauthorized: null });
    expect(err(await mallory().commit_asset(liveSession, sha256(new Uint8Array(10))))).toEqual({ Unauthorized: null });
    expect(err(await mallory().cancel_upload(liveSession))).toEqual({ Unauthorized: null });
    expect(err(await mallory().get_upload_progress(liveSession))).toEqual({ Unauthorized: null });
    expect(ok(await mallory().list_my_uploads())).toEqual([]);
    expect(await snapshot(f, alice())).toBe(before);
    expect(ok(await alice().get_upload_progress(liveSession)).session_id).toBe(liveSession);
  });

  it('writing the same ids creates its own records, never touching the owner’s', async () => {
    ok(await mallory().upsert_metadata(stored.memoryId, { Note: null }, metadata('mine now?'), 'k'));
    expect(ok(await alice().get_memory(stored.memoryId)).metadata.title).toBe('A memory');
    expect(ok(await mallory().get_memory(stored.memoryId)).owner.toText()).toBe(principal(32).toText());
  });
});

describe('the anonymous principal', () => {
  it('cannot write anything', async () => {
    const before = await snapshot(f, alice());
    expect(err(await anonymous().upsert_metadata(newId(), { Image: null }, metadata(), 'k'))).toEqual({ Unauthorized: null });
    expect(err(await anonymous().begin_asset_upload(newId(), sha256(new Uint8Array(1)), 1, 1n))).toEqual({ Unauthorized: null });
    expect(err(await anonymous().put_chunk(liveSession, 0, new Uint8Array(10)))).toEqual({ Unauthorized: null });
    expect(err(await anonymous().commit_asset(liveSession, sha256(new Uint8Array(10))))).toEqual({ Unauthorized: null });
    expect(err(await anonymous().cancel_upload(liveSession))).toEqual({ Unauthorized: null });
    expect(err(await anonymous().store_gallery({ id: newId(), title: 'x', description: [], memory_ids: [] }))).toEqual({ Unauthorized: null });
    expect(err(await anonymous().prove_principal('anonymous-nonce-123456'))).toEqual({ Unauthorized: null });
    expect(await snapshot(f, alice())).toBe(before);
  });
});

describe('administration', () => {
  it('refuses every admin method to non-controllers', async () => {
    const limits = await f.admin.get_limits();
    for (const who of [alice(), anonymous()]) {
      expect(err(await who.set_limits({ ...limits, max_live_sessions: 50 }))).toEqual({ Unauthorized: null });
      expect(err(await who.set_quota(who.caller, [1n << 40n]))).toEqual({ Unauthorized: null });
      expect(err(await who.set_presence_verifiers([who.caller]))).toEqual({ Unauthorized: null });
      expect(err(await who.get_presence_verifiers())).toEqual({ Unauthorized: null });
      expect(err(await who.get_stats())).toEqual({ Unauthorized: null });
      expect(err(await who.check_invariants())).toEqual({ Unauthorized: null });
      expect(err(await who.last_call_profile())).toEqual({ Unauthorized: null });
    }
    expect(await f.admin.get_limits()).toEqual(limits);
  });

  it('lets the controller change limits within bounds', async () => {
    const limits = await f.admin.get_limits();
    expect(err(await f.admin.set_limits({ ...limits, chunk_size: 2 * 1024 * 1024 }))).toHaveProperty('InvalidArgument');
    expect(ok(await f.admin.set_limits({ ...limits, max_live_sessions: 4 })).max_live_sessions).toBe(4);
    ok(await f.admin.set_limits(limits));
  });
});

describe('presence verification for the server', () => {
  it('answers only controllers and the verifiers the controller names, each item naming its owner', async () => {
    const server = f.actor(principal(99));
    expect(err(await server.verify_presence(principal(31), [stored.memoryId]))).toEqual({ Unauthorized: null });
    expect(err(await anonymous().verify_presence(principal(31), [stored.memoryId]))).toEqual({ Unauthorized: null });
    ok(await f.admin.set_presence_verifiers([principal(99)]));
    const items = ok(await server.verify_presence(principal(31), [stored.memoryId, newId()]));
    expect(items[0]).toMatchObject({ memory_id: stored.memoryId, metadata_present: true, asset_present: true, size: [4000n] });
    expect(items[0].owner[0]?.toText()).toBe(principal(31).toText());
    expect(items[1]).toMatchObject({ metadata_present: false, owner: [] });
    expect(ok(await f.admin.verify_presence(principal(32), [stored.memoryId]))[0].owner[0]?.toText()).toBe(principal(32).toText());
    expect(err(await server.verify_presence(principal(31), Array.from({ length: 101 }, () => newId())))).toHaveProperty('InvalidArgument');
  });
});
