// The engine's decisions, against an in-memory canister double with injected
// faults (the local-IC suite runs the same engine against the real canister).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { enqueue } from '../../src/lib/upload/runtime/enqueue';
import { AuthRequiredError, CanisterError, HttpStatusError } from '../../src/lib/upload/core/errors';
import type { EdgeRecorder } from '../../src/lib/upload/core/ports';
import type { EngineEvent } from '../../src/lib/upload/runtime/engine';
import { FakeCanister } from './support/fake-canister';
import { FAST, freshStore, makeEngine, ManualClock, randomBlob, RecordingRecorder } from './support/engine-harness';

const sha = async (b: Blob) => createHash('sha256').update(new Uint8Array(await b.arrayBuffer())).digest('hex');
const networkDown = () => new TypeError('Failed to fetch');

describe('upload engine (canister double)', () => {
  it('stores a file: metadata, chunks, commit, presence, edges; drops the bytes; reports progress', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const recorder = new RecordingRecorder();
    const events: EngineEvent[] = [];
    const blob = randomBlob(200_000, 'image/png');
    const item = await enqueue(store, { blob, name: 'a.png' });
    const report = await makeEngine({ store, canister, recorder, events }).drain();

    expect(report.recorded).toEqual([item.id]);
    const stored = await store.get(item.id);
    expect(stored?.state).toBe('recorded');
    expect(stored?.hasBytes).toBe(false);
    expect(await store.bytes(item.id)).toBeUndefined();
    expect(stored?.owner).toBe('principal-a');
    expect(canister.assets.get(item.id)).toEqual({ sha256: await sha(blob), size: 200_000 });
    expect(canister.putChunkIndices().sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    expect(recorder.batches).toHaveLength(1);
    expect(recorder.batches[0].memory).toMatchObject({ id: item.id, memoryType: 'Image', title: 'a.png' });
    expect(recorder.batches[0].edges.map((e) => [e.artifact, e.backend, e.present, e.contentHash])).toEqual([
      ['metadata', 'icp', true, null],
      ['asset', 'icp', true, await sha(blob)],
    ]);
    const states = events.filter((e) => e.type === 'state').map((e) => (e.type === 'state' ? e.item.state : ''));
    expect(states).toEqual(expect.arrayContaining(['hashing', 'metadata', 'uploading', 'committing', 'verifying', 'recorded']));
    const last = events.filter((e) => e.type === 'progress').at(-1);
    expect(last?.type === 'progress' && last.progress).toMatchObject({ bytesSent: 200_000, totalBytes: 200_000, chunksSent: 4, totalChunks: 4 });
    store.close();
  });

  it('resumes an interrupted upload without re-sending the chunks the canister has', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const blob = randomBlob(10 * 64 * 1024 + 5);
    const item = await enqueue(store, { blob, name: 'big.bin' });
    const stop = new AbortController();
    canister.onPutChunk = () => {
      if (canister.putChunkIndices().length === 5) stop.abort(new Error('tab closed'));
    };
    await makeEngine({ store, canister, config: { chunkConcurrency: 1 } }).drain(stop.signal);
    const mid = await store.get(item.id);
    expect(mid?.state).toBe('uploading');
    const sentBefore = canister.putChunkIndices();
    const had = [...[...canister.sessions.values()][0].chunks.keys()];
    const missing = [...Array(11).keys()].filter((i) => !had.includes(i));
    canister.onPutChunk = undefined;

    // A new engine (a restarted tab or the service worker) over the same queue.
    const report = await makeEngine({ store, canister }).drain();
    expect(report.recorded).toEqual([item.id]);
    const sentAfter = canister.putChunkIndices().slice(sentBefore.length);
    // Only the chunks the canister did not have went out again.
    expect(missing.length).toBeGreaterThan(0);
    expect(missing.length).toBeLessThan(11);
    expect(sentAfter.sort((a, b) => a - b)).toEqual(missing);
    expect(canister.assets.get(item.id)?.sha256).toBe(await sha(blob));
    store.close();
  });

  it('retries transient failures within the run, and permanent ones not at all', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    canister.fail('putChunk', networkDown, 2);
    canister.fail('upsertMetadata', () => Object.assign(new Error('503'), { kind: 'Protocol', cause: { kind: 'Protocol', code: { status: 503 } } }), 1);
    const ok = await enqueue(store, { blob: randomBlob(100_000), name: 'ok.bin' });
    expect((await makeEngine({ store, canister }).drain()).recorded).toEqual([ok.id]);
    expect(canister.calls.filter((c) => c.method === 'upsertMetadata')).toHaveLength(2);

    const bad = await enqueue(store, { blob: randomBlob(1000), name: 'bad.bin' });
    canister.fail('commitAsset', () => new CanisterError('InvalidHash'), 1);
    const commitsBefore = canister.calls.filter((c) => c.method === 'commitAsset').length;
    const report = await makeEngine({ store, canister }).drain();
    expect(report.failed).toEqual([bad.id]);
    const failed = await store.get(bad.id);
    expect(failed).toMatchObject({ state: 'failed', attempts: 1, lastError: { category: 'permanent', code: 'InvalidHash' } });
    expect(failed?.hasBytes).toBe(true);
    expect(canister.calls.filter((c) => c.method === 'commitAsset').length - commitsBefore).toBe(1);
    // Its session was cancelled so it does not hold one of the three slots.
    expect(canister.calls.at(-1)?.method).toBe('cancelUpload');
    expect(canister.sessions.size).toBe(0);
    store.close();
  });

  it('waits with a persisted next-retry time when in-run retries run out, then finishes', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const clock = new ManualClock();
    canister.fail('commitAsset', networkDown, 4); // 1 attempt + 3 in-run retries
    const item = await enqueue(store, { blob: randomBlob(70_000), name: 'x.bin' });
    const first = await makeEngine({ store, canister, clock }).drain();
    expect(first.waiting).toEqual([item.id]);
    const waiting = await store.get(item.id);
    // Unreachable: a wait, not one of the item's attempts.
    expect(waiting).toMatchObject({ state: 'waiting-retry', resumeAt: 'committing', attempts: 0, waits: 1, lastError: { code: 'Network', category: 'transient' } });
    expect(first.nextWakeAt).toBe(waiting?.nextRetryAt);
    expect(waiting!.nextRetryAt!).toBeGreaterThan(clock.now());

    // Not due yet: a drain leaves it alone.
    expect((await makeEngine({ store, canister, clock }).drain()).recorded).toEqual([]);
    clock.t = waiting!.nextRetryAt!;
    const second = await makeEngine({ store, canister, clock }).drain();
    expect(second.recorded).toEqual([item.id]);
    // Resumed at commit: no chunk was sent twice.
    expect(canister.putChunkIndices().sort()).toEqual([0, 1]);
    store.close();
  });

  it('fails an item after the item-level attempts are used up', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const clock = new ManualClock();
    // A canister that answers but keeps failing (not an unreachable one: that only waits).
    canister.fail('upsertMetadata', () => new CanisterError('Internal', 'instruction limit'), 1_000);
    const item = await enqueue(store, { blob: randomBlob(10), name: 'x.bin' });
    for (let i = 0; i < 4; i++) {
      const r = await makeEngine({ store, canister, clock }).drain();
      if (r.nextWakeAt) clock.t = r.nextWakeAt;
    }
    expect(await store.get(item.id)).toMatchObject({ state: 'failed', attempts: 4 });
    store.close();
  });

  it('opens the circuit after repeated failures and stops calling until it half-opens', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const clock = new ManualClock();
    canister.fail('upsertMetadata', networkDown, 1_000);
    await enqueue(store, { blob: randomBlob(10), name: 'x.bin' });
    const engine = makeEngine({ store, canister, clock, config: { breaker: { failureThreshold: 2, openMs: 60_000 } } });
    const r = await engine.drain();
    // Two calls failed, the third attempt hit the open breaker and the item waits for it.
    expect(canister.calls.filter((c) => c.method === 'upsertMetadata')).toHaveLength(2);
    expect(r.nextWakeAt).toBeGreaterThanOrEqual(clock.now() + 50_000);
  });

  it('parks items when no identity is available and resumes them after sign-in', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const item = await enqueue(store, { blob: randomBlob(1000), name: 'x.bin' });
    const parked = await makeEngine({
      store,
      canister,
      sessions: async () => {
        throw new AuthRequiredError('delegation expired');
      },
    }).drain();
    expect(parked.parked).toEqual([item.id]);
    expect(await store.get(item.id)).toMatchObject({ state: 'needs-sign-in', lastError: { category: 'auth' } });
    expect(canister.calls).toHaveLength(0);
    expect((await makeEngine({ store, canister }).drain()).recorded).toEqual([item.id]);
  });

  it('leaves items queued and asks to be woken when the agent cannot even be set up (offline)', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const clock = new ManualClock();
    const item = await enqueue(store, { blob: randomBlob(10), name: 'x.bin' });
    const r = await makeEngine({
      store,
      canister,
      clock,
      sessions: async () => {
        throw networkDown();
      },
    }).drain();
    expect(r.nextWakeAt).toBeGreaterThan(clock.now());
    expect(await store.get(item.id)).toMatchObject({ state: 'queued', attempts: 0 });
  });

  it('parks an item when a call is refused for an expired delegation mid-upload', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    canister.fail('putChunk', () => Object.assign(new Error('Invalid delegation: delegation expired'), { kind: 'Protocol', cause: { kind: 'Protocol', code: { status: 400 } } }), 1);
    const item = await enqueue(store, { blob: randomBlob(150_000), name: 'x.bin' });
    await makeEngine({ store, canister, config: { chunkConcurrency: 1 } }).drain();
    expect(await store.get(item.id)).toMatchObject({ state: 'needs-sign-in', resumeAt: 'uploading' });
    expect((await makeEngine({ store, canister }).drain()).recorded).toEqual([item.id]);
  });

  it('treats AlreadyExists as success', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();

    // A commit whose answer was lost: the canister already has the asset, and
    // begin_asset_upload says so; the queued bytes go as after a commit.
    const cBlob = randomBlob(1000);
    const c = await enqueue(store, { blob: cBlob, name: 'c.bin' });
    canister.assets.set(c.id, { sha256: await sha(cBlob), size: 1000 });
    const before = canister.calls.length;
    expect((await makeEngine({ store, canister }).drain()).recorded).toEqual([c.id]);
    expect(canister.calls.slice(before).map((x) => x.method)).not.toContain('putChunk');
    expect(canister.calls.slice(before).map((x) => x.method)).toContain('beginAssetUpload');
    expect(await store.get(c.id)).toMatchObject({ hasBytes: false });
    expect(await store.bytes(c.id)).toBeUndefined();
  });

  /** Wraps beginAssetUpload: fails the test's expectations if two sessions for the same bytes are ever live at once. */
  function watchSameBytesOverlap(canister: FakeCanister): { overlaps: number } {
    const seen = { overlaps: 0 };
    const orig = canister.beginAssetUpload.bind(canister);
    canister.beginAssetUpload = async (memoryId, sha256, ...rest) => {
      if ([...canister.sessions.values()].some((x) => x.sha256 === sha256 && x.memoryId !== memoryId)) seen.overlaps += 1;
      return orig(memoryId, sha256, ...rest);
    };
    return seen;
  }

  it('stores a copy of a queued file once: the copy waits for its twin and is recorded as it once it committed', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const overlap = watchSameBytesOverlap(canister);
    const events: EngineEvent[] = [];
    const blob = randomBlob(300_000);
    const a = await enqueue(store, { blob, name: 'a.bin', metadata: { title: 'first' } });
    const b = await enqueue(store, { blob: new Blob([await blob.arrayBuffer()]), name: 'copy of a.bin', metadata: { title: 'second' } });
    // Every state a page is told about must be true of the canister: an item
    // shown recorded has its memory (its own, or its twin's for a copy) with
    // metadata and asset there at that moment (checked as each event arrives).
    const shownRecordedEarly: string[] = [];
    const recorder = new RecordingRecorder();
    events.push = (...es: EngineEvent[]) => {
      for (const e of es) {
        const memory = e.type === 'state' ? (e.item.duplicateOf ?? e.item.id) : '';
        if (e.type === 'state' && e.item.state === 'recorded' && !(canister.assets.has(memory) && canister.metadata.has(memory))) shownRecordedEarly.push(e.item.id);
      }
      return Array.prototype.push.apply(events, es);
    };
    const engine = makeEngine({ store, canister, recorder, events, config: { maxFiles: 3 } });
    const r = await engine.drain();
    expect(shownRecordedEarly).toEqual([]);
    // One drain: the copy waited, was woken when its twin committed, and ran again.
    expect(r.recorded.sort()).toEqual([a.id, b.id].sort());
    const items = await Promise.all([store.get(a.id), store.get(b.id)]);
    const copy = items.find((i) => i?.duplicateOf !== null)!;
    const orig = items.find((i) => i?.duplicateOf === null)!;
    expect(copy.duplicateOf).toBe(orig.id);
    const waited = events.filter((e) => e.type === 'state' && e.item.id === copy.id && e.item.state === 'waiting-retry');
    expect(waited.map((e) => e.type === 'state' && e.item.lastError?.code)).toContain('WaitingForTwin');
    // Waiting for a twin is not a failed attempt.
    expect(copy.attempts).toBe(0);
    // One memory and one asset for these bytes; the copy dropped its bytes only once its twin committed.
    expect(canister.assets.size).toBe(1);
    expect(canister.assets.get(orig.id)?.sha256).toBe(await sha(blob));
    expect(canister.metadata.has(copy.id)).toBe(false);
    expect(overlap.overlaps).toBe(0);
    expect(recorder.batches.map((x) => x.memory.id)).toEqual([orig.id]);
    expect(items.map((i) => i?.hasBytes)).toEqual([false, false]);
    store.close();
  });

  it('keeps a copy’s bytes while its twin is in flight and stores them when the twin fails for good', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const overlap = watchSameBytesOverlap(canister);
    const blob = randomBlob(200_000);
    const a = await enqueue(store, { blob, name: 'a.bin' });
    const b = await enqueue(store, { blob: new Blob([await blob.arrayBuffer()]), name: 'b.bin' });
    // The first commit is the twin's (the copy waits before beginning): it fails permanently.
    canister.fail('commitAsset', () => new CanisterError('InvalidHash'), 1);
    let copyBytesWhileTwinFailing: number | undefined;
    const origCancel = canister.cancelUpload.bind(canister);
    canister.cancelUpload = async (sessionId) => {
      const copy = canister.sessions.get(sessionId)?.memoryId === a.id ? b.id : a.id;
      copyBytesWhileTwinFailing = (await store.bytes(copy))?.size;
      return origCancel(sessionId);
    };
    const r = await makeEngine({ store, canister, config: { maxFiles: 2 } }).drain();
    const items = await Promise.all([store.get(a.id), store.get(b.id)]);
    const copy = items.find((i) => i?.duplicateOf !== null)!;
    const orig = items.find((i) => i?.duplicateOf === null)!;
    expect(orig).toMatchObject({ state: 'failed', lastError: { code: 'InvalidHash' }, hasBytes: true });
    expect(copyBytesWhileTwinFailing).toBe(200_000);
    // The copy goes on with its own bytes, in the same drain.
    expect(r.recorded).toEqual([copy.id]);
    expect(copy).toMatchObject({ state: 'recorded', hasBytes: false });
    expect(canister.assets.get(copy.id)?.sha256).toBe(await sha(blob));
    expect(canister.assets.has(orig.id)).toBe(false);
    expect(overlap.overlaps).toBe(0);
    store.close();
  });

  it('runs at most as many files at once as the canister has live sessions', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    let inFlight = 0;
    let peak = 0;
    const orig = canister.beginAssetUpload.bind(canister);
    canister.beginAssetUpload = async (...args) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      return orig(...args);
    };
    const origCommit = canister.commitAsset.bind(canister);
    canister.commitAsset = async (...args) => {
      await origCommit(...args);
      inFlight -= 1;
    };
    for (let i = 0; i < 7; i++) await enqueue(store, { blob: randomBlob(130_000), name: `f${i}` });
    const r = await makeEngine({ store, canister, config: { maxFiles: 10 } }).drain();
    expect(r.recorded).toHaveLength(7);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
  });
});

describe('upload engine: recoverability', () => {
  it('records a committed item the user retries after the server refused its edges (its bytes are gone, the asset is stored)', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    let refuse = true;
    const recorder: EdgeRecorder = {
      record: async () => {
        if (refuse) throw new HttpStatusError(400, 'storage edges: 400 VALIDATION_FAILED');
      },
    };
    const item = await enqueue(store, { blob: randomBlob(100_000), name: 'a.bin' });
    const first = await makeEngine({ store, canister, recorder }).drain();
    expect(first.failed).toEqual([item.id]);
    expect(await store.get(item.id)).toMatchObject({ state: 'failed', hasBytes: false, lastError: { code: 'Http400' } });
    expect(canister.assets.has(item.id)).toBe(true);

    // What the page's Retry button does.
    await store.update(item.id, (cur) => ({ ...cur, state: 'queued', resumeAt: null, attempts: 0, nextRetryAt: null }));
    refuse = false;
    const second = await makeEngine({ store, canister, recorder }).drain();
    expect(second.recorded).toEqual([item.id]);
    expect(await store.get(item.id)).toMatchObject({ state: 'recorded', lastError: null });
    // Stored once: no second session, no chunk sent again.
    expect(canister.calls.filter((c) => c.method === 'putChunk')).toHaveLength(2);
    store.close();
  });

  it('never gives up on an item while the canister cannot be reached, and stores it once the connection is back', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const clock = new ManualClock();
    // 10 drains of 1 attempt + 3 in-run retries each: far more than itemBackoff.maxAttempts (4).
    canister.fail('upsertMetadata', networkDown, 40);
    const item = await enqueue(store, { blob: randomBlob(1000), name: 'x.bin' });
    for (let i = 0; i < 10; i++) {
      const r = await makeEngine({ store, canister, clock }).drain();
      expect(r.failed).toEqual([]);
      expect(r.nextWakeAt).not.toBeNull();
      // The delay keeps growing to the cap, no further.
      expect(r.nextWakeAt! - clock.now()).toBeLessThanOrEqual(FAST.itemBackoff!.capMs);
      clock.t = r.nextWakeAt!;
    }
    expect(await store.get(item.id)).toMatchObject({ state: 'waiting-retry', lastError: { code: 'Network' } });
    expect((await makeEngine({ store, canister, clock }).drain()).recorded).toEqual([item.id]);
    store.close();
  });

  it('keeps an item waiting (not failed) while every canister upload slot is taken', async () => {
    const store = await freshStore();
    const canister = new FakeCanister();
    const clock = new ManualClock();
    canister.fail('beginAssetUpload', () => new CanisterError('TooManyUploads', { active: 3, max: 3 }), 40);
    const item = await enqueue(store, { blob: randomBlob(1000), name: 'x.bin' });
    for (let i = 0; i < 10; i++) {
      const r = await makeEngine({ store, canister, clock }).drain();
      expect(r.failed).toEqual([]);
      clock.t = r.nextWakeAt!;
    }
    expect((await makeEngine({ store, canister, clock }).drain()).recorded).toEqual([item.id]);
    store.close();
  });
});
