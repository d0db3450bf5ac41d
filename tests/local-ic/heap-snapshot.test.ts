// The heap snapshot on its own, over a plain WebAssembly.Memory: commits of a
// heap that grows message after message (its buffer keeps room and is
// reallocated only now and then), rollbacks, and the deltas a query replica
// follows, checked byte for byte against the live heap.
import { describe, expect, it } from 'vitest';
import { HeapSnapshot } from '../../canister/local/runtime/heap-snapshot';

const PAGE = 65536;

function randomWrites(mem: WebAssembly.Memory, n: number, seed: number): void {
  const view = new Uint8Array(mem.buffer);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    view[x % view.length] = x >>> 24;
  }
}

const bytes = (mem: WebAssembly.Memory) => Buffer.from(new Uint8Array(mem.buffer));

describe('HeapSnapshot', () => {
  it('commits a heap that grows by a page or more each message, and a query replica following its deltas holds the same bytes', () => {
    const mem = new WebAssembly.Memory({ initial: 2, maximum: 400 });
    const global = new WebAssembly.Global({ value: 'i32', mutable: true }, 7);
    const snap = new HeapSnapshot(mem, [global]);
    const replicaMem = new WebAssembly.Memory({ initial: 1, maximum: 400 });
    const replicaGlobal = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
    const replica = new HeapSnapshot(replicaMem, [replicaGlobal]);
    replica.loadDelta(replicaMem, [replicaGlobal], snap.takeDelta()!);
    expect(bytes(replicaMem).equals(bytes(mem))).toBe(true);

    for (let m = 0; m < 40; m++) {
      mem.grow(1 + (m % 3) * 8); // 1, 9 or 17 pages: growths inside and beyond the spare room
      randomWrites(mem, 50, m + 1);
      global.value = m;
      snap.commit(mem, [global]);
      const delta = snap.takeDelta()!;
      expect(delta.full).toBe(false);
      // Only changed pages travel: at most the grown pages plus the 50 written ones.
      expect(delta.pages.length).toBeLessThanOrEqual(17 + 50);
      replica.loadDelta(replicaMem, [replicaGlobal], delta);
      expect(replicaMem.buffer.byteLength).toBe(mem.buffer.byteLength);
      expect(bytes(replicaMem).equals(bytes(mem))).toBe(true);
      expect(replicaGlobal.value).toBe(m);
    }
    expect(snap.byteLength).toBe(mem.buffer.byteLength);
  });

  it('rolls back writes to the committed bytes, also after the heap grew and was committed', () => {
    const mem = new WebAssembly.Memory({ initial: 3, maximum: 100 });
    const global = new WebAssembly.Global({ value: 'i64', mutable: true }, 5n);
    const snap = new HeapSnapshot(mem, [global]);
    mem.grow(20);
    randomWrites(mem, 200, 9);
    snap.commit(mem, [global]);
    const committed = Buffer.from(bytes(mem));

    randomWrites(mem, 500, 10);
    global.value = 99n;
    expect(bytes(mem).equals(committed)).toBe(false);
    expect(snap.restore(mem, [global])).toBe(true);
    expect(bytes(mem).equals(committed)).toBe(true);
    expect(global.value).toBe(5n);

    // A message that grew memory cannot be undone in place: a fresh memory gets the committed heap.
    mem.grow(1);
    expect(snap.restore(mem, [global])).toBe(false);
    const fresh = new WebAssembly.Memory({ initial: 3, maximum: 100 });
    snap.restoreInto(fresh, [global]);
    expect(fresh.buffer.byteLength).toBe(committed.length);
    expect(bytes(fresh).equals(committed)).toBe(true);
  });

  it('a page written back to its committed value is not in the delta; every page is in the first', () => {
    const mem = new WebAssembly.Memory({ initial: 4 });
    const snap = new HeapSnapshot(mem, []);
    const first = snap.takeDelta()!;
    expect(first.full).toBe(true);
    expect(first.pages.map(([i]) => i)).toEqual([0, 1, 2, 3]);
    const view = new Uint8Array(mem.buffer);
    view[2 * PAGE + 5] = 1;
    view[3 * PAGE] = 1;
    view[3 * PAGE] = 0;
    snap.commit(mem, []);
    expect(snap.takeDelta()!.pages.map(([i]) => i)).toEqual([2]);
    snap.commit(mem, []);
    expect(snap.takeDelta()).toBeUndefined();
  });
});
