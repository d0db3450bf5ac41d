// The queue actions behind UploadClient on a (fake) IndexedDB queue, with the
// engine against the canister double where a run is needed: removing an item
// while it uploads, Store Forever's refusals, retry of a waiting item.
import { describe, expect, it } from 'vitest';
import { enqueue } from '../../src/lib/upload/runtime/enqueue';
import { addFiles, retryItem, storeForever } from '../../src/lib/upload/runtime/queue-actions';
import { FakeCanister } from './support/fake-canister';
import { freshStore, makeEngine, randomBlob } from './support/engine-harness';

const memory = (id: string, sha256: string | null, size = 10) => ({ id, sha256, size, name: 'a.bin', mimeType: 'application/octet-stream', memoryType: 'document' as const, title: 'a', owner: 'principal-a' });

describe('queue actions', () => {
  it('an item removed while it uploads stops there: the drain ends cleanly and its canister session is cancelled', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const item = await enqueue(store, { blob: randomBlob(8 * 64 * 1024), name: 'gone.bin' });
    canister.onPutChunk = (index) => {
      if (index === 2) void store.remove(item.id);
    };
    const report = await makeEngine({ store, canister, config: { chunkConcurrency: 1 } }).drain();
    expect(report.recorded).toEqual([]);
    expect(report.failed).toEqual([]);
    expect(await store.get(item.id)).toBeUndefined();
    expect(canister.sessions.size).toBe(0);
    expect(canister.assets.size).toBe(0);
    store.close();
  });

  it('refuses to store forever what is stored already or what has no recorded hash, and queues the rest', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const done = await enqueue(store, { blob: randomBlob(1000), name: 'done.bin', owner: 'principal-a' });
    await makeEngine({ store, canister }).drain();
    expect((await store.get(done.id))?.state).toBe('recorded');
    const fresh = '01a23328-5fab-717d-9bda-b7b4943bb2b1';
    const r = await storeForever(store, [memory(done.id, 'ab'.repeat(32)), memory('01a23328-5fab-717d-9bda-b7b4943bb2b0', null), memory(fresh, 'cd'.repeat(32))]);
    expect(r.queued).toEqual([fresh]);
    expect(r.refused.map((x) => x.reason)).toEqual(['it is stored forever already', expect.stringMatching(/no recorded SHA-256/)]);
    expect(await store.get(fresh)).toMatchObject({ state: 'queued', hasBytes: false, source: 'server', expectedSha256: 'cd'.repeat(32), memoryType: 'Document' });
    // Asking twice queues it once.
    expect((await storeForever(store, [memory(fresh, 'cd'.repeat(32))])).queued).toEqual([fresh]);
    expect((await store.list()).filter((i) => i.id === fresh)).toHaveLength(1);
    store.close();
  });

  it('stores a Web2-only item forever from its queued bytes without asking the server again', async () => {
    const store = await freshStore();
    const file = new File([new Uint8Array(3000).fill(7)], 'kept.bin');
    const { queued } = await addFiles(store, { files: [file], storeForever: false, owner: 'principal-a' });
    const id = queued[0].id;
    // Without a server port the Web2 steps are skipped: the item ends saved after hashing.
    const canister = new FakeCanister();
    expect((await makeEngine({ store, canister }).drain()).saved).toEqual([id]);
    const saved = (await store.get(id))!;
    expect(saved).toMatchObject({ state: 'saved', hasBytes: true });
    expect(canister.metadata.size).toBe(0);
    expect((await storeForever(store, [memory(id, saved.sha256, saved.size)])).queued).toEqual([id]);
    expect((await store.get(id))?.state).toBe('metadata');
    expect((await makeEngine({ store, canister }).drain()).recorded).toEqual([id]);
    expect(canister.assets.get(id)?.sha256).toBe(saved.sha256);
    store.close();
  });

  it('retry makes a waiting item due now and a failed one start over', async () => {
    const store = await freshStore();
    const a = await enqueue(store, { blob: randomBlob(10), name: 'a' });
    const b = await enqueue(store, { blob: randomBlob(10), name: 'b' });
    await store.update(a.id, (cur) => ({ ...cur, state: 'waiting-retry', resumeAt: 'uploading', nextRetryAt: 9e15 }));
    await store.update(b.id, (cur) => ({ ...cur, state: 'failed', attempts: 4 }));
    await retryItem(store, a.id, 1234);
    await retryItem(store, b.id);
    await retryItem(store, 'not-there');
    expect(await store.get(a.id)).toMatchObject({ state: 'waiting-retry', nextRetryAt: 1234 });
    expect(await store.get(b.id)).toMatchObject({ state: 'queued', attempts: 0 });
    store.close();
  });
});
