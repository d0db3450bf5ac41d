// Upgrades keep everything: an upload interrupted by an upgrade resumes (its
// running hash lives in stable memory) and commits with the right hash, and
// every stored memory, gallery and chunk reads back the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blob, err, ok } from './support/actor';
import { chunksOf, type Forever, metadata, MiB, newId, principal, seededBytes, sha256, startForever, storeFile } from './support/forever';

let f: Forever;
const alice = () => f.actor(principal(51));

beforeAll(async () => {
  f = await startForever();
});
afterAll(async () => {
  await f?.close();
});

describe('upgrade', () => {
  it('resumes an upload across an upgrade and keeps every stored memory intact', async () => {
    const files = [seededBytes(5000, 51), seededBytes(MiB + 3, 52)];
    const stored = [];
    for (const data of files) stored.push({ ...(await storeFile(alice(), data)), data });
    const galleryId = newId();
    ok(await alice().store_gallery({ id: galleryId, title: 'kept', description: [], memory_ids: stored.map((s) => s.memoryId) }));
    ok(await alice().prove_principal('upgrade-nonce-0123456789'));

    // An upload in the middle: chunks 0 and 1 hashed, chunk 3 waiting out of order.
    const data = seededBytes(4 * MiB - 100, 53);
    const chunks = chunksOf(data, MiB);
    const id = newId();
    ok(await alice().upsert_metadata(id, { Video: null }, metadata(), 'k-up'));
    const s = ok(await alice().begin_asset_upload(id, sha256(data), 4, BigInt(data.length)));
    for (const i of [0, 1, 3]) ok(await alice().put_chunk(s.session_id, i, chunks[i]));
    const before = ok(await f.admin.get_stats());

    await f.upgrade();

    expect(ok(await f.admin.get_stats())).toEqual(before);
    const resumed = ok(await alice().begin_asset_upload(id, sha256(data), 4, BigInt(data.length)));
    expect(resumed.session_id).toBe(s.session_id);
    expect(Array.from(resumed.received_chunks)).toEqual([0, 1, 3]);
    ok(await alice().put_chunk(s.session_id, 2, chunks[2]));
    expect(ok(await alice().commit_asset(s.session_id, sha256(data))).size).toBe(BigInt(data.length));

    for (const { memoryId, data: bytes } of [...stored, { memoryId: id, data }]) {
      const m = ok(await alice().get_memory(memoryId));
      const asset = m.asset[0]!;
      expect(Buffer.from(asset.sha256 as Uint8Array).equals(Buffer.from(sha256(bytes)))).toBe(true);
      const parts = [];
      for (let i = 0; i < asset.chunk_count; i++) parts.push(blob(ok(await alice().read_chunk(memoryId, i))));
      expect(Buffer.concat(parts).equals(Buffer.from(bytes))).toBe(true);
    }
    expect(ok(await alice().get_gallery(galleryId)).memory_ids).toEqual(stored.map((x) => x.memoryId));
    expect((await f.actor(principal(1)).nonce_principal('upgrade-nonce-0123456789'))[0]?.toText()).toBe(principal(51).toText());
    expect(ok(await f.admin.check_invariants()).violations).toEqual([]);
  });

  it('keeps the expiry sweep running after an upgrade (timers are restarted)', async () => {
    const id = newId();
    ok(await alice().upsert_metadata(id, { Image: null }, metadata(), 'k-exp'));
    const s = ok(await alice().begin_asset_upload(id, sha256(new Uint8Array(100)), 1, 100n));
    ok(await alice().put_chunk(s.session_id, 0, new Uint8Array(100)));
    await f.upgrade();
    await f.ic.advanceTime(31 * 60 * 1000);
    expect(err(await alice().put_chunk(s.session_id, 0, new Uint8Array(100)))).toEqual({ UploadExpired: null });
    const stats = ok(await f.admin.get_stats());
    expect(stats.live_sessions).toBe(0n);
    expect(stats.sessions_freeing).toBe(0n);
    expect(ok(await f.admin.check_invariants()).violations).toEqual([]);
  });
});
