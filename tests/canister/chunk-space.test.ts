// The chunk space (raw stable memory for chunk bytes, next to azle's maps):
// freed slots are reused, so storing, deleting and storing again does not
// grow stable memory; an expired upload's slots are reused the same way; the
// maps growing past the chunk space move its frames without losing a byte,
// also across an upgrade; the invariants hold throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blob, ok } from './support/actor';
import { chunksOf, type Forever, metadata, MiB, newId, principal, seededBytes, sha256, startForever, storeFile } from './support/forever';

let f: Forever;
const dana = () => f.actor(principal(61));

beforeAll(async () => {
  f = await startForever();
});
afterAll(async () => {
  await f?.close();
});

async function readBack(memoryId: string): Promise<Buffer> {
  const asset = ok(await dana().get_memory(memoryId)).asset[0]!;
  const parts = [];
  for (let i = 0; i < asset.chunk_count; i++) parts.push(blob(ok(await dana().read_chunk(memoryId, i))));
  return Buffer.concat(parts);
}

async function invariantsHold(): Promise<void> {
  expect(ok(await f.admin.check_invariants()).violations).toEqual([]);
}

const PNG_HEAD = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('chunk space', () => {
  it('reuses the slots a deleted memory freed: storing again does not grow stable memory', async () => {
    const empty = ok(await f.admin.get_stats());
    const first = await storeFile(dana(), seededBytes(3 * MiB + 777, 61));
    const stored = ok(await f.admin.get_stats());
    expect(stored.chunk_space_bytes).toBeGreaterThan(empty.chunk_space_bytes);
    expect(stored.stable_memory_bytes).toBeGreaterThan(empty.stable_memory_bytes);
    await invariantsHold();

    expect(ok(await dana().delete_memory(first.memoryId))).toEqual({ deleted: true, freed_bytes: BigInt(3 * MiB + 777) });
    await invariantsHold();
    const data = seededBytes(3 * MiB + 777, 62);
    const second = await storeFile(dana(), data);
    const again = ok(await f.admin.get_stats());
    expect(again.chunk_space_bytes).toBe(stored.chunk_space_bytes);
    expect(again.stable_memory_bytes).toBe(stored.stable_memory_bytes);
    expect((await readBack(second.memoryId)).equals(Buffer.from(data))).toBe(true);
    await invariantsHold();
  });

  it('reuses the slots of an upload the sweeper expired', async () => {
    const data = seededBytes(2 * MiB, 63);
    const chunks = chunksOf(data, MiB);
    const id = newId();
    ok(await dana().upsert_metadata(id, { Video: null }, metadata(), 'k-expire'));
    const s = ok(await dana().begin_asset_upload(id, sha256(data), 2, BigInt(data.length)));
    ok(await dana().put_chunk(s.session_id, 1, chunks[1]));
    ok(await dana().put_chunk(s.session_id, 0, chunks[0]));
    const before = ok(await f.admin.get_stats());
    await f.ic.advanceTime(31 * 60 * 1000);
    expect(ok(await f.admin.get_stats()).chunks).toBe(before.chunks - 2n);
    await invariantsHold();
    const other = await storeFile(dana(), seededBytes(2 * MiB, 64));
    const after = ok(await f.admin.get_stats());
    expect(after.chunk_space_bytes).toBe(before.chunk_space_bytes);
    expect(after.stable_memory_bytes).toBe(before.stable_memory_bytes);
    expect((await readBack(other.memoryId)).equals(Buffer.from(seededBytes(2 * MiB, 64)))).toBe(true);
    await invariantsHold();
  });

  it('moves its frames out of the way when the maps grow past it, keeping every byte across an upgrade', async () => {
    const data = seededBytes(5 * MiB + 3, 65);
    const file = await storeFile(dana(), data);
    const before = ok(await f.admin.get_stats());
    // 300 thumbnails of 64 KiB: the maps need at least two more 8 MiB buckets, past the spare slot, where frames are.
    const thumb = new Uint8Array(64 * 1024);
    thumb.set(PNG_HEAD);
    for (let i = 0; i < 300; i++) {
      const id = newId();
      ok(await dana().upsert_metadata(id, { Image: null }, metadata(`t${i}`), `k-thumb-${i}`));
      thumb[100] = i & 0xff;
      thumb[101] = i >> 8;
      ok(await dana().set_thumbnail(id, thumb));
    }
    const grown = ok(await f.admin.get_stats());
    expect(grown.chunk_space_bytes).toBe(before.chunk_space_bytes);
    // About 19 MiB more for the maps: one bucket takes the spare slot, the next one a frame's slot
    // (the frame moves to the end), so stable memory grows while the chunk space does not.
    expect(grown.stable_memory_bytes - before.stable_memory_bytes).toBeGreaterThanOrEqual(8n * BigInt(MiB));
    expect((await readBack(file.memoryId)).equals(Buffer.from(data))).toBe(true);
    await invariantsHold();

    await f.upgrade();
    // The sweep that post_upgrade starts may give the maps their spare slot back (a frame moves to the end).
    const { stable_memory_bytes: after, ...rest } = ok(await f.admin.get_stats());
    const { stable_memory_bytes: was, ...kept } = grown;
    expect(rest).toEqual(kept);
    expect(after).toBeGreaterThanOrEqual(was);
    expect((await readBack(file.memoryId)).equals(Buffer.from(data))).toBe(true);
    const later = seededBytes(MiB + 1, 66);
    const next = await storeFile(dana(), later);
    expect((await readBack(next.memoryId)).equals(Buffer.from(later))).toBe(true);
    await invariantsHold();
  });
});
