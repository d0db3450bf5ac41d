// The chunk slots' bookkeeping without azle: slots by 4 KiB class, freed
// slots reused before the end moves, chunks of the old map read and freed,
// and the invariant check finding overlaps, gaps and broken stacks.
import { describe, expect, it } from 'vitest';
import { MemoryChunkSpace } from '../../canister/src/chunk-space';
import { decodeSlot, getChunk, hasChunk, putChunk, removeChunk, type Slot, spaceEnd, spaceViolations } from '../../canister/src/chunk-slots';
import { State } from '../../canister/src/state';
import { chunkKey, memoryTables } from '../../canister/src/store';

const blob = (n: number): Uint8Array => new Uint8Array(16).fill(n);
const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function used(st: State): Slot[] {
  return st.t.chunkSlots.items().map(([, v]) => decodeSlot(v));
}

describe('chunk slots', () => {
  it('stores chunks in 4 KiB classes and reuses freed slots before the end moves', () => {
    const st = new State(memoryTables(), new MemoryChunkSpace());
    const a = bytes(10_000, 1); // class 3 (12 KiB)
    const b = bytes(4096, 2); // class 1
    const c = bytes(1, 3); // class 1
    putChunk(st, blob(1), 0, a);
    putChunk(st, blob(1), 1, b);
    putChunk(st, blob(2), 0, c);
    expect(spaceEnd(st)).toBe(5 * 4096);
    expect(getChunk(st, blob(1), 0)).toEqual(a);
    expect(getChunk(st, blob(1), 1)).toEqual(b);
    expect(getChunk(st, blob(2), 0)).toEqual(c);
    expect(spaceViolations(st, used(st))).toEqual([]);

    removeChunk(st, blob(1), 0);
    removeChunk(st, blob(2), 0);
    expect(hasChunk(st, blob(1), 0)).toBe(false);
    expect(spaceViolations(st, used(st))).toEqual([]);
    // Same classes again: the freed slots, no growth.
    putChunk(st, blob(3), 0, bytes(9000, 4));
    putChunk(st, blob(3), 1, bytes(100, 5));
    expect(spaceEnd(st)).toBe(5 * 4096);
    expect(getChunk(st, blob(3), 0)).toEqual(bytes(9000, 4));
    expect(getChunk(st, blob(1), 1)).toEqual(b);
    expect(spaceViolations(st, used(st))).toEqual([]);
    // A class with no free slot takes new space at the end.
    putChunk(st, blob(3), 2, bytes(8192, 6));
    expect(spaceEnd(st)).toBe(7 * 4096);
    expect(spaceViolations(st, used(st))).toEqual([]);
  });

  it('reads and frees chunks stored in the old map', () => {
    const st = new State(memoryTables(), new MemoryChunkSpace());
    const old = bytes(5000, 7);
    st.t.chunks.insert(chunkKey(blob(9), 0), old);
    expect(hasChunk(st, blob(9), 0)).toBe(true);
    expect(getChunk(st, blob(9), 0)).toEqual(old);
    removeChunk(st, blob(9), 0);
    expect(st.t.chunks.len()).toBe(0);
    expect(spaceEnd(st)).toBe(0);
  });

  it('finds overlapping slots, gaps and broken free stacks', () => {
    const st = new State(memoryTables(), new MemoryChunkSpace());
    putChunk(st, blob(1), 0, bytes(4096, 1));
    putChunk(st, blob(1), 1, bytes(4096, 2));
    const slots = used(st);
    // The same slot claimed twice.
    expect(spaceViolations(st, [...slots, slots[0]]).some((v) => v.includes('overlaps'))).toBe(true);
    // A slot forgotten: a gap.
    expect(spaceViolations(st, [slots[1]]).some((v) => v.includes('gap'))).toBe(true);
    // A freed slot counted by its stack but missing from it.
    removeChunk(st, blob(1), 1);
    st.t.regions.remove(st.t.regions.keys().find((k) => k[0] === 2)!);
    expect(spaceViolations(st, used(st)).some((v) => v.includes('free slots of class 1'))).toBe(true);
  });
});
