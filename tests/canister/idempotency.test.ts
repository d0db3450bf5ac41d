// Every write may be retried: the same metadata, begin, chunk or commit sent
// again succeeds once and reports the existing record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { err, ok } from './support/actor';
import { chunksOf, type Forever, metadata, MiB, newId, principal, seededBytes, sha256, startForever, storeFile } from './support/forever';

let f: Forever;
const alice = () => f.actor(principal(11));

beforeAll(async () => {
  f = await startForever();
});
afterAll(async () => {
  await f?.close();
});

describe('idempotent writes', () => {
  it('the same metadata twice creates one memory', async () => {
    const id = newId();
    expect(ok(await alice().upsert_metadata(id, { Image: null }, metadata('x'), 'key-1'))).toEqual({ memory_id: id, created: true });
    expect(ok(await alice().upsert_metadata(id, { Image: null }, metadata('x'), 'key-1'))).toEqual({ memory_id: id, created: false });
    // A new key with the same id updates in place, still one memory.
    expect(ok(await alice().upsert_metadata(id, { Image: null }, metadata('renamed'), 'key-2'))).toEqual({ memory_id: id, created: false });
    expect(ok(await alice().get_memory(id)).metadata.title).toBe('renamed');
    // An old request replayed after the update does not roll the title back.
    ok(await alice().upsert_metadata(id, { Image: null }, metadata('x'), 'key-1'));
    expect(ok(await alice().get_memory(id)).metadata.title).toBe('renamed');
    expect(ok(await alice().get_usage()).memories).toBe(1n);
    // A key reused for another memory is refused.
    expect(err(await alice().upsert_metadata(newId(), { Image: null }, metadata('y'), 'key-1'))).toHaveProperty('InvalidArgument');
  });

  it('begin twice returns the same session with the chunks it already holds (resume)', async () => {
    const id = newId();
    ok(await alice().upsert_metadata(id, { Video: null }, metadata(), `m-${id}`));
    const data = seededBytes(3 * MiB, 21);
    const hash = sha256(data);
    const chunks = chunksOf(data, MiB);
    const s1 = ok(await alice().begin_asset_upload(id, hash, 3, BigInt(data.length)));
    ok(await alice().put_chunk(s1.session_id, 0, chunks[0]));
    ok(await alice().put_chunk(s1.session_id, 2, chunks[2]));
    const s2 = ok(await alice().begin_asset_upload(id, hash, 3, BigInt(data.length)));
    expect(s2.session_id).toBe(s1.session_id);
    expect(Array.from(s2.received_chunks)).toEqual([0, 2]);
    expect(s2.bytes_received).toBe(BigInt(2 * MiB));
    expect(ok(await alice().list_my_uploads())).toHaveLength(1);
    // A chunk re-sent with the same bytes succeeds and counts once.
    const again = ok(await alice().put_chunk(s1.session_id, 2, chunks[2]));
    expect(again.chunks_received).toBe(2);
    // Re-sent with other bytes it is refused.
    expect(err(await alice().put_chunk(s1.session_id, 0, chunks[1]))).toHaveProperty('InvalidArgument');
    ok(await alice().put_chunk(s1.session_id, 1, chunks[1]));
    const asset = ok(await alice().commit_asset(s1.session_id, hash));
    // Committing again reports the same asset.
    expect(ok(await alice().commit_asset(s1.session_id, hash))).toEqual(asset);
    // Beginning the committed file again says it already exists (success for the client).
    expect(err(await alice().begin_asset_upload(id, hash, 3, BigInt(data.length)))).toEqual({ AlreadyExists: null });
    // And a put on the committed session too.
    expect(err(await alice().put_chunk(s1.session_id, 0, chunks[0]))).toEqual({ AlreadyExists: null });
    expect(ok(await alice().get_usage()).used_bytes).toBe(BigInt(3 * MiB));
  });

  it('cancel is idempotent and frees the session', async () => {
    const data = seededBytes(5000, 22);
    const id = newId();
    ok(await alice().upsert_metadata(id, { Audio: null }, metadata(), `m-${id}`));
    const s = ok(await alice().begin_asset_upload(id, sha256(data), 1, 5000n));
    ok(await alice().put_chunk(s.session_id, 0, data));
    expect(ok(await alice().cancel_upload(s.session_id))).toBeNull();
    expect(ok(await alice().cancel_upload(s.session_id))).toBeNull();
    expect(ok(await alice().cancel_upload(newId()))).toBeNull();
    expect(err(await alice().put_chunk(s.session_id, 0, data))).toEqual({ NotFound: null });
    expect(ok(await alice().list_my_uploads())).toEqual([]);
    const stats = ok(await f.admin.get_stats());
    expect(stats.sessions_freeing).toBe(0n);
    // A new upload of the same file starts afresh and commits.
    await storeFile(alice(), data, { memoryId: id });
  });

  it('stores a gallery twice as one', async () => {
    const g = { id: newId(), title: 'G', description: [] as [], memory_ids: [newId()] };
    expect(ok(await alice().store_gallery(g)).created).toBe(true);
    expect(ok(await alice().store_gallery(g)).created).toBe(false);
    expect(ok(await alice().list_galleries([], [])).items.filter((x) => x.id === g.id)).toHaveLength(1);
  });

  it('proves a nonce once: the same principal may retry, another may not', async () => {
    const nonce = 'retry-nonce-0123456789';
    const r1 = ok(await alice().prove_principal(nonce));
    expect(ok(await alice().prove_principal(nonce))).toEqual(r1);
    expect(err(await f.actor(principal(12)).prove_principal(nonce))).toEqual({ Unauthorized: null });
  });
});
