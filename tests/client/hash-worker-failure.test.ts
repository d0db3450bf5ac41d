// A hash worker that cannot be created or does not load (its script 404s
// after a deploy) is the page's fault: items wait and retry. A Blob that can
// no longer be read (NotReadableError: the file is gone) fails the item.
import { describe, expect, it } from 'vitest';
import { enqueue } from '../../src/lib/upload/runtime/enqueue';
import { classifyError, HasherUnavailableError, userMessage } from '../../src/lib/upload/core/errors';
import { inlineHasher, reusableHasher, WorkerHasher, type Hasher } from '../../src/lib/upload/adapters/hasher';
import { FakeCanister } from './support/fake-canister';
import { freshStore, makeEngine, ManualClock, randomBlob } from './support/engine-harness';

/** Stands in for a Worker whose script failed to load: the browser fires `error` (a plain Event) and never answers. */
class DeadWorker {
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  posted: unknown[] = [];
  terminated = false;
  postMessage(msg: unknown): void {
    this.posted.push(msg);
  }
  terminate(): void {
    this.terminated = true;
  }
  failToLoad(): void {
    let prevented = false;
    this.onerror?.({ message: undefined, preventDefault: () => (prevented = true) } as unknown as ErrorEvent);
    expect(prevented).toBe(true);
  }
}

const loadFailure = () => new HasherUnavailableError('hash worker failed: it did not load');

describe('hash worker unavailable', () => {
  it('is transient (a wait, with a message that says reload), while an unreadable Blob is permanent', () => {
    const c = classifyError(loadFailure());
    expect(c).toMatchObject({ category: 'transient', code: 'HasherUnavailable' });
    expect(userMessage(c)).toMatch(/reload the page/);
    // The same error after crossing a postMessage boundary (name kept, class lost).
    expect(classifyError(Object.assign(new Error('x'), { name: 'HasherUnavailableError' })).code).toBe('HasherUnavailable');
    const gone = classifyError(new DOMException('The requested file could not be read', 'NotReadableError'));
    expect(gone).toMatchObject({ category: 'permanent', code: 'FileUnreadable' });
    expect(userMessage(gone)).toMatch(/pick it again/);
  });

  it('WorkerHasher: a load failure rejects the pending job and every later one instead of leaving them hanging', async () => {
    const worker = new DeadWorker();
    const hasher = new WorkerHasher(worker as unknown as Worker);
    const pending = hasher.sha256(new Blob(['a']));
    worker.failToLoad();
    await expect(pending).rejects.toBeInstanceOf(HasherUnavailableError);
    expect(worker.terminated).toBe(true);
    // A job after the failure is not posted to the dead worker (it would never answer).
    const posted = worker.posted.length;
    await expect(hasher.sha256(new Blob(['b']))).rejects.toMatchObject({ name: 'HasherUnavailableError' });
    expect(worker.posted).toHaveLength(posted);
  });

  it('WorkerHasher.create: a Worker the browser refuses to create gives a hasher whose jobs wait', async () => {
    const g = globalThis as { Worker?: unknown };
    const saved = g.Worker;
    g.Worker = class {
      constructor() {
        throw new DOMException('Script at /hash.worker.js cannot be accessed', 'SecurityError');
      }
    };
    try {
      const hasher = WorkerHasher.create();
      await expect(hasher.sha256(new Blob(['a']))).rejects.toMatchObject({ name: 'HasherUnavailableError', message: expect.stringMatching(/cannot be accessed/) });
    } finally {
      g.Worker = saved;
    }
  });

  it('engine: the item waits for a retry (keeping its bytes and attempts), then is stored once a hasher works', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const clock = new ManualClock();
    const broken: Hasher = { sha256: () => Promise.reject(loadFailure()) };
    const item = await enqueue(store, { blob: randomBlob(70_000), name: 'x.bin' });
    const first = await makeEngine({ store, canister, clock, hasher: broken }).drain();
    expect(first.failed).toEqual([]);
    expect(first.waiting).toEqual([item.id]);
    const waiting = await store.get(item.id);
    expect(waiting).toMatchObject({ state: 'waiting-retry', resumeAt: 'hashing', attempts: 0, waits: 1, hasBytes: true, lastError: { category: 'transient', code: 'HasherUnavailable' } });
    expect(first.nextWakeAt).toBe(waiting?.nextRetryAt);

    clock.t = waiting!.nextRetryAt!;
    const second = await makeEngine({ store, canister, clock, hasher: inlineHasher }).drain();
    expect(second.recorded).toEqual([item.id]);
    store.close();
  });

  it('engine: a Blob that cannot be read fails the item for good', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const unreadable: Hasher = { sha256: () => Promise.reject(new DOMException('The requested file could not be read', 'NotReadableError')) };
    const item = await enqueue(store, { blob: randomBlob(1_000), name: 'gone.bin' });
    const report = await makeEngine({ store, canister, hasher: unreadable }).drain();
    expect(report.failed).toEqual([item.id]);
    expect(await store.get(item.id)).toMatchObject({ state: 'failed', lastError: { category: 'permanent', code: 'FileUnreadable' } });
    store.close();
  });
});

describe("the page's hasher across drains", () => {
  it('creates one worker for every job, and replaces it only after it became unavailable', async () => {
    const created: Array<{ error: Error | null }> = [];
    const hasher = reusableHasher(() => {
      const h: { error: Error | null } = { error: null };
      created.push(h);
      return { sha256: (b: Blob) => (h.error ? Promise.reject(h.error) : inlineHasher.sha256(b)) };
    });
    const blob = randomBlob(1000);
    const first = await hasher.sha256(blob);
    expect(await hasher.sha256(blob)).toBe(first);
    expect(created).toHaveLength(1);
    // The worker dies: that job waits for a retry, and the next job gets a new worker.
    created[0].error = loadFailure();
    await expect(hasher.sha256(blob)).rejects.toBeInstanceOf(HasherUnavailableError);
    expect(await hasher.sha256(blob)).toBe(first);
    expect(created).toHaveLength(2);
    // A file that cannot be read is the file's fault: the worker stays.
    created[1].error = new DOMException('The requested file could not be read', 'NotReadableError');
    await expect(hasher.sha256(blob)).rejects.toThrow(/could not be read/);
    created[1].error = null;
    expect(await hasher.sha256(blob)).toBe(first);
    expect(created).toHaveLength(2);
  });
});
