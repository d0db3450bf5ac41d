// Stable memory's undo log on its own: a message that rewrites many blocks
// (more than the undo arena holds at first, so it grows) of existing and new
// pages rolls back to the exact bytes before it, and a committed message
// reports exactly the blocks it wrote.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BLOCK, StableMemory, WASM_PAGE } from '../../canister/local/runtime/stable-memory';

const image = (m: StableMemory): Buffer => {
  const out = Buffer.alloc(m.sizeBytes);
  m.read(out, 0, 0, m.sizeBytes);
  return out;
};

describe('StableMemory undo', () => {
  it('rolls back a multi-MiB rewrite of old and new pages, twice in a row, to the bytes before', () => {
    const m = new StableMemory();
    m.grow(64); // 4 MiB
    const first = new Uint8Array(randomBytes(2 * WASM_PAGE));
    m.write(first, 0, WASM_PAGE, first.length); // pages 1 and 2 exist, the rest read as zeros
    const before = image(m);
    for (let round = 0; round < 2; round++) {
      m.begin();
      m.grow(16);
      const data = new Uint8Array(randomBytes(3 * 1024 * 1024 + 123));
      m.write(data, 0, 1000, data.length); // unaligned, across existing and new pages
      for (let i = 0; i < 500; i++) m.write(data, i, i * 7919, 1); // many small writes to blocks already saved
      expect(image(m).equals(before)).toBe(false);
      m.rollback();
      expect(m.sizePages).toBe(64);
      expect(image(m).equals(before)).toBe(true);
    }
  });

  it('reports the blocks a committed message wrote, and the next message undoes only its own', () => {
    const m = new StableMemory();
    m.grow(2);
    m.begin();
    m.write(new Uint8Array(BLOCK + 2).fill(1), 0, BLOCK - 1, BLOCK + 2);
    expect(m.commit()).toEqual({ blocks: [0, 1, 2], sizeChanged: false });
    const committed = image(m);
    m.begin();
    m.write(new Uint8Array(5 * BLOCK).fill(2), 0, 0, 5 * BLOCK);
    m.rollback();
    expect(image(m).equals(committed)).toBe(true);
  });
});
