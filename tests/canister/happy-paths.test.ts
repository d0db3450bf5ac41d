// Happy paths through the local IC: small and chunked files (out of order, in
// parallel), exactly the 100 MiB limit, presence, read-back of every chunk,
// galleries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryPage } from '../../src/declarations/forever/forever.did';
import { blob, ok } from './support/actor';
import { type Forever, metadata, MiB, newId, principal, seededBytes, sha256, startForever, storeFile } from './support/forever';

let f: Forever;
const alice = () => f.actor(principal(1));

beforeAll(async () => {
  f = await startForever();
});
afterAll(async () => {
  await f?.close();
});

async function readBack(memoryId: string, chunkCount: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < chunkCount; i++) parts.push(blob(ok(await alice().read_chunk(memoryId, i))));
  return Buffer.concat(parts);
}

describe('storing files', () => {
  it('stores a one-chunk file and reports it present', async () => {
    const data = seededBytes(1000, 1);
    const { memoryId, hash } = await storeFile(alice(), data);
    const p = ok(await alice().get_memory_presence(memoryId));
    expect(p).toMatchObject({ memory_id: memoryId, metadata_present: true, asset_present: true, size: [1000n] });
    expect(Buffer.from(p.sha256[0] as Uint8Array).equals(Buffer.from(hash))).toBe(true);
    expect(p.owner[0]?.toText()).toBe(principal(1).toText());
    expect((await readBack(memoryId, 1)).equals(Buffer.from(data))).toBe(true);
    const m = ok(await alice().get_memory(memoryId));
    expect(m.asset[0]).toMatchObject({ size: 1000n, chunk_count: 1, chunk_size: MiB });
  });

  it('stores a 3 MiB file sent in 1 MiB chunks out of order and in parallel', async () => {
    const data = seededBytes(3 * MiB, 2);
    const { memoryId } = await storeFile(alice(), data, { order: [2, 0, 1], parallel: 3 });
    expect((await readBack(memoryId, 3)).equals(Buffer.from(data))).toBe(true);
    const usage = ok(await alice().get_usage());
    expect(usage.used_bytes).toBe(BigInt(3 * MiB + 1000));
    expect(usage.active_uploads).toBe(0);
  });

  it('accepts a file of exactly 100 MiB and reads every chunk back', async () => {
    const size = 100 * MiB;
    const data = seededBytes(size, 3);
    const { memoryId } = await storeFile(alice(), data, { parallel: 4 });
    const p = ok(await alice().get_memory_presence(memoryId));
    expect(p.size).toEqual([BigInt(size)]);
    for (let i = 0; i < 100; i++) {
      const chunk = ok(await alice().read_chunk(memoryId, i));
      expect(Buffer.from(chunk).equals(Buffer.from(data.subarray(i * MiB, (i + 1) * MiB))), `chunk ${i}`).toBe(true);
    }
    const inv = ok(await f.admin.check_invariants());
    expect(inv.violations).toEqual([]);
  }, 600_000);
});

describe('presence and galleries', () => {
  it('answers presence for many memories, paginated (default 20, at most 100)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const id = newId();
      ids.push(id);
      ok(await alice().upsert_metadata(id, { Note: null }, metadata(`note ${i}`), `k-${id}`));
    }
    const unknown = newId();
    const first = ok(await alice().get_memory_list_presence([...ids, unknown], [], []));
    expect(first.items).toHaveLength(20);
    expect(first.items.every((p) => p.metadata_present && !p.asset_present)).toBe(true);
    const second = ok(await alice().get_memory_list_presence([...ids, unknown], first.next_cursor, []));
    expect(second.items).toHaveLength(6);
    expect(second.items[5]).toMatchObject({ memory_id: unknown, metadata_present: false, owner: [] });
    expect(second.next_cursor).toEqual([]);
    const all = ok(await alice().get_memory_list_presence(ids, [], [100]));
    expect(all.items).toHaveLength(25);
    expect(await alice().get_memory_list_presence(ids, [], [101])).toMatchObject({ Err: { InvalidArgument: expect.any(String) } });
  });

  it('lists the caller’s memories page by page', async () => {
    const seen: string[] = [];
    let cursor: [] | [string] = [];
    do {
      const page: MemoryPage = ok(await alice().list_memories(cursor, [10]));
      seen.push(...page.items.map((m) => m.id));
      cursor = page.next_cursor;
    } while (cursor.length);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(Number(ok(await alice().get_usage()).memories));
  });

  it('stores a gallery with its memory ids and lists it', async () => {
    const memories = [newId(), newId()];
    const gallery = { id: newId(), title: 'Summer', description: ['At the lake'] as [string], memory_ids: memories };
    expect(ok(await alice().store_gallery(gallery))).toEqual({ gallery_id: gallery.id, created: true });
    const stored = ok(await alice().get_gallery(gallery.id));
    expect(stored).toMatchObject({ id: gallery.id, title: 'Summer', description: ['At the lake'], memory_ids: memories });
    const page = ok(await alice().list_galleries([], []));
    expect(page.items.map((g) => g.id)).toContain(gallery.id);
  });

  it('tells the server who proved a nonce, until it expires', async () => {
    const nonce = 'n0nce-for-sign-in-' + newId().slice(0, 8);
    const receipt = ok(await alice().prove_principal(nonce));
    expect(receipt.principal.toText()).toBe(principal(1).toText());
    const anonymousServer = f.actor(principal(999));
    expect((await anonymousServer.nonce_principal(nonce))[0]?.toText()).toBe(principal(1).toText());
    await f.ic.advanceTime(5 * 60 * 1000 + 1);
    expect(await anonymousServer.nonce_principal(nonce)).toEqual([]);
  });

  it('hashes what it stores: the presence hash is the SHA-256 of the bytes', async () => {
    const data = seededBytes(2 * MiB + 17, 4);
    const { memoryId } = await storeFile(alice(), data, { order: [1, 2, 0] });
    const p = ok(await alice().get_memory_presence(memoryId));
    expect(Buffer.from(p.sha256[0] as Uint8Array).toString('hex')).toBe(Buffer.from(sha256(data)).toString('hex'));
  });
});
