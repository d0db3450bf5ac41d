// Content addressing per owner, deleting memories and thumbnails: the same
// bytes under a second memory of the same owner commit without a chunk and
// without raising usage; another owner's identical file is stored on its
// own; deleting one of two memories with the same bytes keeps the other
// readable, deleting both frees the bytes (usage back where it was, the
// invariants hold); a thumbnail is the owner's, typed by its bytes.
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_THUMBNAIL_BYTES } from '../../contract';
import { blob, err, type ForeverActor, ok } from './support/actor';
import { type Forever, metadata, MiB, newId, principal, seededBytes, sha256, startForever, storeFile } from './support/forever';
import { snapshot } from './support/state';

let f: Forever;
const alice = () => f.actor(principal(61));
const bob = () => f.actor(principal(62));

beforeAll(async () => {
  f = await startForever();
});
afterAll(async () => {
  await f?.close();
});

async function readAll(actor: ForeverActor, memoryId: string): Promise<Buffer> {
  const m = ok(await actor.get_memory(memoryId));
  const parts: Uint8Array[] = [];
  for (let i = 0; i < m.asset[0]!.chunk_count; i++) parts.push(blob(ok(await actor.read_chunk(memoryId, i))));
  return Buffer.concat(parts);
}

async function invariants(): Promise<void> {
  expect(ok(await f.admin.check_invariants()).violations).toEqual([]);
}

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0]);

describe('the same bytes, stored once per owner', () => {
  const data = seededBytes(2 * MiB + 5, 71);
  let first: string;
  let second: string;
  let usageBefore: Awaited<ReturnType<ForeverActor['get_usage']>>;
  let statsBefore: Awaited<ReturnType<Forever['admin']['get_stats']>>;

  it('commits a second memory of the same owner with zero chunks and usage unchanged', async () => {
    usageBefore = await alice().get_usage();
    statsBefore = await f.admin.get_stats();
    first = (await storeFile(alice(), data)).memoryId;
    const afterFirst = ok(await alice().get_usage());
    expect(afterFirst.used_bytes).toBe(ok(usageBefore).used_bytes + BigInt(data.length));
    const chunksAfterFirst = ok(await f.admin.get_stats()).chunks;

    second = newId();
    ok(await alice().upsert_metadata(second, { Image: null }, metadata('copy'), `meta-${second}`));
    // The answer a client already takes as "stored, nothing to send".
    expect(err(await alice().begin_asset_upload(second, sha256(data), 3, BigInt(data.length)))).toEqual({ AlreadyExists: null });
    const usage = ok(await alice().get_usage());
    expect(usage.used_bytes).toBe(afterFirst.used_bytes);
    expect(usage.assets).toBe(afterFirst.assets + 1n);
    expect(usage.active_uploads).toBe(0);
    const stats = ok(await f.admin.get_stats());
    expect(stats.chunks).toBe(chunksAfterFirst);
    expect(stats.stored_bytes).toBe(ok(statsBefore).stored_bytes + BigInt(data.length));
    const m = ok(await alice().get_memory(second));
    expect(Buffer.from(blob(m.asset[0]!.sha256)).equals(Buffer.from(sha256(data)))).toBe(true);
    expect((await readAll(alice(), second)).equals(Buffer.from(data))).toBe(true);
    // Asking again is the same success, and still nothing is sent or counted.
    expect(err(await alice().begin_asset_upload(second, sha256(data), 3, BigInt(data.length)))).toEqual({ AlreadyExists: null });
    expect(ok(await alice().get_usage()).used_bytes).toBe(afterFirst.used_bytes);
    await invariants();
  });

  it('stores another owner’s identical file separately', async () => {
    const stored = ok(await f.admin.get_stats()).stored_bytes;
    const { memoryId } = await storeFile(bob(), data);
    expect(ok(await bob().get_usage()).used_bytes).toBe(BigInt(data.length));
    expect(ok(await f.admin.get_stats()).stored_bytes).toBe(stored + BigInt(data.length));
    expect((await readAll(bob(), memoryId)).equals(Buffer.from(data))).toBe(true);
    ok(await bob().delete_memory(memoryId));
    await invariants();
  });

  it('keeps the other memory readable when one of the two is deleted', async () => {
    const before = ok(await alice().get_usage());
    expect(ok(await alice().delete_memory(first))).toEqual({ deleted: true, freed_bytes: 0n });
    expect(err(await alice().get_memory(first))).toEqual({ NotFound: null });
    const after = ok(await alice().get_usage());
    expect(after.used_bytes).toBe(before.used_bytes);
    expect(after.memories).toBe(before.memories - 1n);
    expect(after.assets).toBe(before.assets - 1n);
    expect((await readAll(alice(), second)).equals(Buffer.from(data))).toBe(true);
    await invariants();
  });

  it('frees the bytes when both are deleted: usage returns to its value before', async () => {
    expect(ok(await alice().delete_memory(second))).toEqual({ deleted: true, freed_bytes: BigInt(data.length) });
    expect(ok(await alice().get_usage())).toEqual(ok(usageBefore));
    const stats = ok(await f.admin.get_stats());
    expect(stats.stored_bytes).toBe(ok(statsBefore).stored_bytes);
    expect(stats.chunks).toBe(ok(statsBefore).chunks);
    expect(stats.assets).toBe(ok(statsBefore).assets);
    expect(stats.sessions_freeing).toBe(0n);
    await invariants();
    // Stored again afterwards, the bytes are uploaded again (nothing stale points at them).
    const again = await storeFile(alice(), data);
    expect((await readAll(alice(), again.memoryId)).equals(Buffer.from(data))).toBe(true);
    ok(await alice().delete_memory(again.memoryId));
    await invariants();
  });
});

describe('delete_memory', () => {
  it('is idempotent, owner-only, and drops the memory from galleries and uploads', async () => {
    const kept = await storeFile(alice(), seededBytes(3000, 72));
    const gone = await storeFile(alice(), seededBytes(4000, 73));
    const galleryId = newId();
    ok(await alice().store_gallery({ id: galleryId, title: 'g', description: [], memory_ids: [gone.memoryId, kept.memoryId] }));
    // Another principal's call is about its own namespace: nothing there, nothing changes.
    const state = await snapshot(f, alice());
    expect(ok(await bob().delete_memory(gone.memoryId))).toEqual({ deleted: false, freed_bytes: 0n });
    expect(err(await f.actor(Principal.anonymous()).delete_memory(gone.memoryId))).toEqual({ Unauthorized: null });
    expect(err(await alice().delete_memory('not-a-uuid'))).toMatchObject({ InvalidArgument: expect.any(String) });
    expect(await snapshot(f, alice())).toBe(state);

    expect(ok(await alice().delete_memory(gone.memoryId))).toEqual({ deleted: true, freed_bytes: 4000n });
    expect(ok(await alice().delete_memory(gone.memoryId))).toEqual({ deleted: false, freed_bytes: 0n });
    expect(ok(await alice().get_gallery(galleryId)).memory_ids).toEqual([kept.memoryId]);
    // The listing stays dense and complete.
    const listed = ok(await alice().list_memories([], [100])).items.map((m) => m.id);
    expect(listed).toContain(kept.memoryId);
    expect(listed).not.toContain(gone.memoryId);
    expect(BigInt(listed.length)).toBe(ok(await alice().get_usage()).memories);

    // A live upload for a deleted memory is cancelled with it.
    const pending = newId();
    ok(await alice().upsert_metadata(pending, { Video: null }, metadata(), `meta-${pending}`));
    const bytes = seededBytes(MiB + 10, 74);
    const s = ok(await alice().begin_asset_upload(pending, sha256(bytes), 2, BigInt(bytes.length)));
    ok(await alice().put_chunk(s.session_id, 0, bytes.subarray(0, MiB)));
    expect(ok(await alice().delete_memory(pending)).deleted).toBe(true);
    expect(ok(await alice().list_my_uploads())).toEqual([]);
    expect(err(await alice().put_chunk(s.session_id, 1, bytes.subarray(MiB)))).toEqual({ NotFound: null });
    await invariants();
  });
});

describe('thumbnails', () => {
  it('are set on their own, typed by their bytes, read by the owner only, and go with the memory', async () => {
    const id = newId();
    ok(await alice().upsert_metadata(id, { Image: null }, metadata(), `meta-${id}`));
    expect(ok(await alice().get_thumbnail(id))).toEqual([]);
    ok(await alice().set_thumbnail(id, PNG));
    const t = ok(await alice().get_thumbnail(id))[0]!;
    expect(t.mime_type).toBe('image/png');
    expect(Buffer.from(blob(t.bytes)).equals(Buffer.from(PNG))).toBe(true);
    expect(Buffer.from(blob(t.sha256)).equals(Buffer.from(sha256(PNG)))).toBe(true);
    ok(await alice().set_thumbnail(id, JPEG));
    expect(ok(await alice().get_thumbnail(id))[0]!.mime_type).toBe('image/jpeg');

    const state = await snapshot(f, alice());
    const big = new Uint8Array(MAX_THUMBNAIL_BYTES + 1);
    big.set(JPEG);
    expect(err(await alice().set_thumbnail(id, big))).toMatchObject({ InvalidArgument: expect.any(String) });
    expect(err(await alice().set_thumbnail(id, new Uint8Array(0)))).toMatchObject({ InvalidArgument: expect.any(String) });
    expect(err(await alice().set_thumbnail(id, new TextEncoder().encode('<svg></svg>')))).toMatchObject({ InvalidArgument: expect.any(String) });
    expect(err(await alice().set_thumbnail(newId(), PNG))).toEqual({ NotFound: null });
    expect(err(await bob().set_thumbnail(id, PNG))).toEqual({ NotFound: null });
    expect(err(await bob().get_thumbnail(id))).toEqual({ NotFound: null });
    expect(err(await f.actor(Principal.anonymous()).set_thumbnail(id, PNG))).toEqual({ Unauthorized: null });
    expect(await snapshot(f, alice())).toBe(state);
    expect(ok(await alice().get_thumbnail(id))[0]!.mime_type).toBe('image/jpeg');

    const full = new Uint8Array(MAX_THUMBNAIL_BYTES);
    full.set(PNG);
    ok(await alice().set_thumbnail(id, full));
    expect(blob(ok(await alice().get_thumbnail(id))[0]!.bytes).length).toBe(MAX_THUMBNAIL_BYTES);

    ok(await alice().delete_memory(id));
    expect(err(await alice().get_thumbnail(id))).toEqual({ NotFound: null });
    await invariants();
  });
});
