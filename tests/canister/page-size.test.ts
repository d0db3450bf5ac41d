// Pages must fit one reply: the IC refuses replies over 2 MiB and queries over
// 5 billion instructions, so a page that would carry more (galleries hold up
// to 10,000 memory ids each) must be cut short and continued with its cursor
// instead of trapping.
import { IDL } from '@dfinity/candid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GalleryPage } from '../../src/declarations/forever/forever.did';
import { foreverFuncs, ok } from './support/actor';
import { type Forever, newId, principal, startForever } from './support/forever';

const MAX_REPLY_BYTES = 2 * 1024 * 1024;
let f: Forever;
const carol = () => f.actor(principal(61));

beforeAll(async () => {
  f = await startForever();
});
afterAll(async () => {
  await f?.close();
});

describe('list_galleries', () => {
  it('keeps every page of the largest galleries within the reply limit and still lists them all', async () => {
    const galleries = 6;
    const full = 10_000; // LIMITS.galleryMemories
    const stored = new Map<string, string[]>();
    for (let g = 0; g < galleries; g++) {
      const memoryIds = Array.from({ length: full }, () => newId());
      const id = newId();
      ok(await carol().store_gallery({ id, title: `g${g}`, description: [], memory_ids: memoryIds }));
      stored.set(id, memoryIds);
    }
    const func = foreverFuncs.get('list_galleries')!;
    const seen = new Map<string, string[]>();
    let cursor: [] | [string] = [];
    for (let pages = 0; pages < galleries + 1; pages++) {
      const r = await carol().raw('list_galleries', new Uint8Array(IDL.encode(func.argTypes, [cursor, []])));
      if (r.status !== 'replied') throw new Error(`list_galleries rejected: ${r.rejectMessage}`);
      expect(r.reply.length).toBeLessThanOrEqual(MAX_REPLY_BYTES);
      const page = ok(IDL.decode(func.retTypes, r.reply)[0] as { Ok: GalleryPage } | { Err: unknown });
      expect(page.items.length).toBeGreaterThan(0);
      for (const g of page.items) seen.set(g.id, g.memory_ids);
      cursor = page.next_cursor;
      if (!cursor.length) break;
    }
    expect(cursor).toEqual([]);
    expect(seen).toEqual(stored);
  });
});
