// The queue's IndexedDB layout: the file's bytes live in their own object
// store, written once at enqueue and deleted once, so the many small writes of
// an upload (one per confirmed chunk) never make the browser copy the Blob.
import { openDB } from 'idb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { enqueue } from '../../src/lib/upload/runtime/enqueue';
import { newQueueItem } from '../../src/lib/upload/core/queue-item';
import { CanisterError } from '../../src/lib/upload/core/errors';
import { QueueStore } from '../../src/lib/upload/adapters/queue-store';
import { FakeCanister } from './support/fake-canister';
import { freshStore, makeEngine, randomBlob } from './support/engine-harness';

const bytesOf = async (b: Blob | undefined) => (b ? Buffer.from(await b.arrayBuffer()).toString('hex') : undefined);

/** Every write (put/add/delete) to an object store, by store name, with whether its value holds a Blob. */
function spyOnWrites() {
  const writes: { store: string; op: string; hasBlob: boolean }[] = [];
  const proto = IDBObjectStore.prototype as unknown as Record<'put' | 'add' | 'delete', (...a: unknown[]) => unknown>;
  for (const op of ['put', 'add', 'delete'] as const) {
    const original = proto[op];
    vi.spyOn(proto, op).mockImplementation(function (this: IDBObjectStore, ...args: unknown[]) {
      const value = args[0];
      const hasBlob = op !== 'delete' && (value instanceof Blob || (typeof value === 'object' && value !== null && Object.values(value).some((v) => v instanceof Blob)));
      writes.push({ store: this.name, op, hasBlob });
      return original.apply(this, args);
    });
  }
  return writes;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('queue store: bytes kept apart from the item record', () => {
  it('writes the bytes once at enqueue; chunk progress rewrites only the small item record; the commit deletes them', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const blob = randomBlob(10 * 64 * 1024 + 5);
    const writes = spyOnWrites();
    const item = await enqueue(store, { blob, name: 'big.bin' });
    expect(item.hasBytes).toBe(true);
    expect(await bytesOf(await store.bytes(item.id))).toBe(await bytesOf(blob));
    const atEnqueue = writes.length;

    const report = await makeEngine({ store, canister, config: { chunkConcurrency: 2 } }).drain();
    expect(report.recorded).toEqual([item.id]);
    const duringUpload = writes.slice(atEnqueue);
    // 11 chunks: at least one item write per confirmed chunk...
    expect(duringUpload.filter((w) => w.store === 'items' && w.op === 'put').length).toBeGreaterThanOrEqual(11);
    // ...none of them carrying the Blob, and the bytes store only deleted once (after the commit).
    expect(duringUpload.filter((w) => w.hasBlob)).toEqual([]);
    expect(duringUpload.filter((w) => w.store === 'bytes')).toEqual([{ store: 'bytes', op: 'delete', hasBlob: false }]);
    // At enqueue: the bytes (a Blob) in 'bytes', the record without it in 'items'.
    expect(writes.slice(0, atEnqueue).filter((w) => w.op !== 'delete')).toEqual([
      { store: 'items', op: 'add', hasBlob: false },
      { store: 'bytes', op: 'put', hasBlob: true },
    ]);
    expect(await store.get(item.id)).toMatchObject({ state: 'recorded', hasBytes: false });
    expect(await store.bytes(item.id)).toBeUndefined();
    store.close();
  });

  it('keeps the bytes of a failed item (the user may retry) and deletes them when the item is removed', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    canister.fail('commitAsset', () => new CanisterError('InvalidHash'), 1);
    const item = await enqueue(store, { blob: randomBlob(1000), name: 'x.bin' });
    expect((await makeEngine({ store, canister }).drain()).failed).toEqual([item.id]);
    expect(await store.get(item.id)).toMatchObject({ state: 'failed', hasBytes: true });
    expect(await store.bytes(item.id)).toBeInstanceOf(Blob);
    await store.remove(item.id);
    expect(await store.get(item.id)).toBeUndefined();
    expect(await store.bytes(item.id)).toBeUndefined();
    await store.remove(item.id); // idempotent
    store.close();
  });

  it('keeps the bytes of a duplicate until its twin committed, then drops them (one asset)', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const blob = randomBlob(1000);
    const a = await enqueue(store, { blob, name: 'a.bin' });
    const b = await enqueue(store, { blob: new Blob([await blob.arrayBuffer()]), name: 'b.bin' });
    // Hash both without uploading: recordHash marks the later one a duplicate, bytes kept.
    const id = (await store.recordHash(a.id, 'ab'.repeat(32), (cur, twin) => ({ ...cur, sha256: 'ab'.repeat(32), duplicateOf: twin?.id ?? null }))).id;
    expect(id).toBe(a.id);
    expect(await store.recordHash(b.id, 'ab'.repeat(32), (cur, twin) => ({ ...cur, sha256: 'ab'.repeat(32), duplicateOf: twin?.id ?? null }))).toMatchObject({ duplicateOf: a.id, hasBytes: true });
    expect((await store.bytes(b.id))?.size).toBe(1000);
    await store.update(a.id, (cur) => ({ ...cur, sha256: null }));
    await store.update(b.id, (cur) => ({ ...cur, sha256: null, duplicateOf: null }));
    // One file at a time, so b is hashed after a committed: recorded as a, bytes dropped.
    await makeEngine({ store, canister, config: { maxFiles: 1 } }).drain();
    expect(await store.get(b.id)).toMatchObject({ duplicateOf: a.id, hasBytes: false, state: 'recorded' });
    expect(await store.bytes(b.id)).toBeUndefined();
    expect(canister.assets.has(b.id)).toBe(false);
    expect(canister.assets.size).toBe(1);
    store.close();
  });

  it('enqueueing the same id twice keeps the first bytes', async () => {
    const store = await freshStore();
    const first = randomBlob(100);
    const item = await enqueue(store, { blob: first, name: 'a.bin' });
    await enqueue(store, { blob: randomBlob(100), name: 'a.bin', id: item.id });
    expect(await bytesOf(await store.bytes(item.id))).toBe(await bytesOf(first));
    store.close();
  });
});

describe('queue store: upgrade from version 1 (bytes inside the item record)', () => {
  it('moves every queued Blob into the bytes store; an item whose bytes were dropped stays without; the upload then completes', async () => {
    const name = `queue-v1-${process.pid}-${Date.now()}`;
    // The version-1 schema exactly as it shipped.
    const v1 = await openDB(name, 1, {
      upgrade(db) {
        const items = db.createObjectStore('items', { keyPath: 'id' });
        items.createIndex('by-state', 'state');
        items.createIndex('by-created', 'createdAt');
        items.createIndex('by-sha256', 'sha256');
        db.createObjectStore('meta');
      },
    });
    const blob = randomBlob(200_000);
    const { hasBytes: _a, ...queued } = newQueueItem({ blob, name: 'queued.bin', now: 1 });
    const { hasBytes: _b, ...done } = newQueueItem({ blob: randomBlob(10), name: 'done.bin', now: 2 });
    await v1.put('items', { ...queued, blob });
    await v1.put('items', { ...done, state: 'recorded', blob: null });
    await v1.put('meta', { canisterId: 'x' }, 'config');
    v1.close();

    const store = await QueueStore.open(name);
    const migrated = await store.get(queued.id);
    expect(migrated).toMatchObject({ id: queued.id, state: 'queued', hasBytes: true });
    expect(migrated && 'blob' in migrated).toBe(false);
    expect(await bytesOf(await store.bytes(queued.id))).toBe(await bytesOf(blob));
    expect(await store.get(done.id)).toMatchObject({ state: 'recorded', hasBytes: false });
    expect(await store.bytes(done.id)).toBeUndefined();
    expect(await store.getMeta('config')).toEqual({ canisterId: 'x' });
    expect((await store.list()).map((i) => i.id)).toEqual([queued.id, done.id]);

    const canister = new FakeCanister();
    expect((await makeEngine({ store, canister }).drain()).recorded).toEqual([queued.id]);
    expect(canister.assets.get(queued.id)?.size).toBe(200_000);
    store.close();
  });
});
