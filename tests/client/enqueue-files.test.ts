// Queueing a multi-file pick: one file refused (quota, empty, too large) must
// not keep the others from being queued, nor the queued ones from draining.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { enqueue } from '../../src/lib/upload/runtime/enqueue';
import { StorageQuotaError } from '../../src/lib/upload/adapters/browser-storage';
import { enqueueFiles } from '../../src/lib/upload/core/enqueue-files';
import { freshStore, randomBlob } from './support/engine-harness';

const file = (name: string, size: number) => Object.assign(randomBlob(size), { name });

describe('enqueueFiles', () => {
  it('queues every file it can, reports each failure with its file name, and starts one drain for what was queued', async () => {
    const store = await freshStore();
    // Room for the first file and the small last one, not for the big middle one.
    let free = 17 * 1024 * 1024;
    const storage = {
      estimate: async () => ({ usage: 0, quota: free }),
    };
    let drains = 0;
    const files = [file('a.jpg', 500_000), file('big.mov', 5_000_000), file('empty.txt', 0), file('c.txt', 10)];
    const result = await enqueueFiles(
      files,
      async (f) => {
        const item = await enqueue(store, { blob: f, name: f.name }, storage);
        free -= f.size;
        return item;
      },
      async () => {
        drains += 1;
      },
    );
    expect(result.queued.map((i) => i.name)).toEqual(['a.jpg', 'c.txt']);
    expect(result.failed.map((f) => [f.name, f.error.name])).toEqual([
      ['big.mov', 'StorageQuotaError'],
      ['empty.txt', 'EmptyFileError'],
    ]);
    expect(result.failed[0].error).toBeInstanceOf(StorageQuotaError);
    expect(result.failed[0].message).toMatch(/^big\.mov: Not enough browser storage/);
    expect(result.failed[1].message).toMatch(/^empty\.txt: .*empty/);
    expect(drains).toBe(1);
    expect((await store.list()).map((i) => i.name)).toEqual(['a.jpg', 'c.txt']);
    store.close();
  });

  it('starts no drain when nothing was queued, and a failing drain request does not hide the queued files', async () => {
    let drains = 0;
    const none = await enqueueFiles([file('x', 1)], async () => Promise.reject(new Error('IndexedDB is closed')), async () => {
      drains += 1;
    });
    expect(none.queued).toEqual([]);
    expect(none.failed.map((f) => f.message)).toEqual(['x: IndexedDB is closed']);
    expect(drains).toBe(0);

    const store = await freshStore();
    const some = await enqueueFiles([file('y', 1)], (f) => enqueue(store, { blob: f, name: f.name }), async () => {
      throw new Error('no service worker');
    });
    expect(some.queued.map((i) => i.name)).toEqual(['y']);
    expect(some.drainError?.message).toBe('no service worker');
    store.close();
  });
});
