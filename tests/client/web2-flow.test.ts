// The product flow against the real back end (the local IC with the
// azle-built canister, the Hono server with its blob copy and upload queue):
// Web2-only adds, Store Forever later (from this browser's queued bytes and
// from the server's blob copy, whose hash is checked before any chunk), the
// server's 202 pending_retry, cancel and remove, and the real reason of a
// refusal.
import { createHash, randomBytes } from 'node:crypto';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES } from '../../contract';
import { idlFactory } from '../../src/declarations/forever/forever.did.js';
import { createForeverActor, foreverCanister } from '../../src/lib/upload/adapters/forever-canister';
import { inlineHasher } from '../../src/lib/upload/adapters/hasher';
import type { QueueStore } from '../../src/lib/upload/adapters/queue-store';
import { loadStoredIdentity } from '../../src/lib/upload/adapters/stored-identity';
import { describeItem } from '../../src/lib/upload/core/describe-item';
import { createBrowserEngine } from '../../src/lib/upload/runtime/browser-engine';
import type { EngineConfig } from '../../src/lib/upload/runtime/engine';
import { enqueue } from '../../src/lib/upload/runtime/enqueue';
import { addFiles, addNote, cancelItem, RefusedError, storeForever } from '../../src/lib/upload/runtime/queue-actions';
import { DirectoryBlobStore } from '../../server/blob-copy/directory-store.js';
import { BlobStoreError } from '../../server/blob-copy/blob-store.js';
import { freshStore } from './support/engine-harness';
import { cookieFetch, signIn, startLocalStack, type LocalStack } from './support/local-stack';

const MiB = 1024 * 1024;
const FAST: Partial<EngineConfig> = { callRetry: { retries: 2, baseMs: 5, capMs: 20 }, itemBackoff: { baseMs: 20, capMs: 100, maxAttempts: 5 }, progressIntervalMs: 0 };

/** The blob store's disk, with a switch that makes every write fail (as a full or read-only disk does). */
let blobWritesFail = false;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({
    server: (dir) => {
      const real = new DirectoryBlobStore(`${dir}/blobs`);
      return {
        blobStore: {
          put: (sha256, bytes) => (blobWritesFail ? Promise.reject(new BlobStoreError('io', 'EACCES: the blob directory is not writable')) : real.put(sha256, bytes)),
          get: (sha256) => real.get(sha256),
          has: (sha256) => real.has(sha256),
          size: (sha256) => real.size(sha256),
          stream: (sha256, start, end) => real.stream(sha256, start, end),
          delete: (sha256) => real.delete(sha256),
        },
        queue: { pollIntervalMs: 25, baseDelayMs: 20, maxDelayMs: 100, maxRetries: 50 },
      };
    },
  });
}, 180_000);
afterAll(async () => stack?.close());

const engineFor = (store: QueueStore, f: typeof fetch) => createBrowserEngine({ config: stack.config, store, hasher: inlineHasher, fetch: f, engineConfig: FAST });

const service = idlFactory({ IDL }) as IDL.ServiceClass;
async function queryAs<T>(principal: string, name: string, args: unknown[]): Promise<T> {
  const f = service._fields.find(([n]) => n === name)![1];
  const r = await stack.ic.query(Principal.fromText(stack.canisterId), name, new Uint8Array(IDL.encode(f.argTypes, args)), { caller: Principal.fromText(principal) });
  if (r.status !== 'replied') throw new Error(r.rejectMessage);
  return IDL.decode(f.retTypes, r.reply)[0] as T;
}
type Presence = { Ok: { metadata_present: boolean; asset_present: boolean; sha256: [] | [Uint8Array] } } | { Err: Record<string, unknown> };
const presence = (principal: string, id: string) => queryAs<Presence>(principal, 'get_memory_presence', [id]);
const usage = async (principal: string) => ((await queryAs<{ Ok: { active_uploads: number } }>(principal, 'get_usage', [])).Ok);

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function edges(f: typeof fetch, memoryId: string) {
  const res = await f(`${stack.origin}/api/storage/edges?memory_id=${memoryId}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { edges: { artifact: string; backend: string; present: boolean; content_hash: string | null }[] }).edges;
}

/** Drains until `done` holds, for waits that end on the server's own schedule (its upload queue). */
async function drainUntil(store: QueueStore, f: typeof fetch, id: string, state: string): Promise<void> {
  await expect
    .poll(
      async () => {
        await engineFor(store, f).drain();
        return (await store.get(id))?.state;
      },
      { timeout: 30_000, interval: 50 },
    )
    .toBe(state);
}

describe('the product flow against the local IC and the server', () => {
  it('adds a file Web2-only: record and blob copy on the server, nothing on the canister, bytes kept for Store Forever later', async () => {
    const principal = await signIn();
    const store = await freshStore();
    const f = cookieFetch();
    const bytes = randomBytes(300_000);
    const file = new File([bytes], 'beach.jpg', { type: 'image/jpeg' });
    const { queued, refused } = await addFiles(store, { files: [file], storeForever: false, owner: principal, titles: new Map([[file, 'At the beach']]) });
    expect(refused).toEqual([]);
    const id = queued[0].id;
    const report = await engineFor(store, f).drain();
    expect(report.saved).toEqual([id]);
    const item = (await store.get(id))!;
    expect(item).toMatchObject({ state: 'saved', hasBytes: true, sha256: sha(bytes), chunkPuts: 0, web2: { memory: true, blob: 'stored' } });
    expect(describeItem(item)).toMatchObject({ label: 'Saved (Web2 only)', tone: 'web2' });

    const res = await f(`${stack.origin}/api/memories/${id}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { memory: { title: string; memory_type: string } }).memory).toMatchObject({ title: 'At the beach', memory_type: 'image' });
    expect((await edges(f, id)).filter((e) => e.backend === 'blob' && e.present).map((e) => e.content_hash)).toEqual([sha(bytes)]);
    const p = await presence(principal, id);
    expect('Ok' in p && p.Ok.metadata_present).toBe(false);

    // Store Forever later, with the bytes this browser still has: no second blob copy, the canister gets the file.
    expect(await storeForever(store, [{ id, sha256: item.sha256, size: item.size, name: item.name, mimeType: item.mimeType, memoryType: 'image', title: 'At the beach', owner: principal }])).toEqual({ queued: [id], refused: [] });
    const forever = await engineFor(store, f).drain();
    expect(forever.recorded).toEqual([id]);
    expect(await store.get(id)).toMatchObject({ state: 'recorded', hasBytes: false });
    const stored = await presence(principal, id);
    expect('Ok' in stored && stored.Ok.asset_present && Buffer.from(stored.Ok.sha256[0]!).toString('hex')).toBe(sha(bytes));
    expect((await edges(f, id)).filter((e) => e.backend === 'icp' && e.present).map((e) => e.artifact).sort()).toEqual(['asset', 'metadata']);
    // The server kept the user's title (the edges did not rewrite the record).
    expect(((await (await f(`${stack.origin}/api/memories/${id}`)).json()) as { memory: { title: string } }).memory.title).toBe('At the beach');
  });

  it('stores forever a memory only the blob copy has, re-hashing it first; a copy that does not match is refused before any chunk', async () => {
    const userKey = (await import('@dfinity/identity')).Ed25519KeyIdentity.generate();
    const principal = await signIn(30 * 60_000, userKey);
    const first = await freshStore();
    const f = cookieFetch();
    const good = randomBytes(1 * MiB + 77);
    const other = randomBytes(50_000);
    const added = await addFiles(first, { files: [new File([good], 'film.bin'), new File([other], 'other.bin')], storeForever: false, owner: principal });
    await engineFor(first, f).drain();
    const [a, b] = added.queued.map((q) => q.id);

    // Another browser of the same user: no queued bytes at all.
    const second = await freshStore();
    const f2 = cookieFetch();
    const memory = (id: string, sha256: string, size: number, name: string) => ({ id, sha256, size, name, mimeType: 'application/octet-stream', memoryType: 'document' as const, title: name, owner: principal });
    const wrong = sha(randomBytes(8));
    const result = await storeForever(second, [memory(a, sha(good), good.length, 'film.bin'), memory(b, wrong, other.length, 'other.bin')]);
    expect(result.queued).toEqual([a, b]);
    const report = await engineFor(second, f2).drain();
    expect(report.recorded).toEqual([a]);
    expect(report.failed).toEqual([b]);

    const ok = await presence(principal, a);
    expect('Ok' in ok && ok.Ok.asset_present && Buffer.from(ok.Ok.sha256[0]!).toString('hex')).toBe(sha(good));
    const refused = (await second.get(b))!;
    expect(refused).toMatchObject({ state: 'failed', chunkPuts: 0, sessionId: null, lastError: { code: 'HashMismatch', category: 'permanent' } });
    expect(describeItem(refused).label).toMatch(/^Failed: the server's copy of this file does not match its recorded SHA-256/);
    // Nothing reached the canister for it: not even its metadata.
    const none = await presence(principal, b);
    expect('Ok' in none && none.Ok.metadata_present).toBe(false);
  });

  it('shows "Saved, will retry" while the server retries its blob copy (202 pending_retry), then ends saved once the store recovers', async () => {
    const principal = await signIn();
    const store = await freshStore();
    const f = cookieFetch();
    const bytes = randomBytes(120_000);
    blobWritesFail = true;
    let id: string;
    try {
      ({ id } = (await addFiles(store, { files: [new File([bytes], 'later.bin')], storeForever: false, owner: principal })).queued[0]);
      await engineFor(store, f).drain();
      const waiting = (await store.get(id))!;
      expect(waiting).toMatchObject({ state: 'waiting-retry', resumeAt: 'web2-confirm', attempts: 0, web2: { memory: true, blob: 'pending_retry' }, lastError: { code: 'Web2Pending' } });
      expect(describeItem(waiting)).toMatchObject({ label: 'Saved, will retry', tone: 'web2' });
    } finally {
      blobWritesFail = false;
    }
    await drainUntil(store, f, id, 'saved');
    expect((await store.get(id))?.web2).toMatchObject({ blob: 'stored', queueId: null });
    expect((await edges(f, id)).filter((e) => e.backend === 'blob' && e.present).map((e) => e.content_hash)).toEqual([sha(bytes)]);
  });

  it('fails an item with the refuser’s own reason (the server’s error.message, the canister’s InvalidArgument text), and removing it frees its bytes', async () => {
    const principal = await signIn();
    const store = await freshStore();
    const f = cookieFetch();
    // Past the validation (as an item of an older version could be): the back end decides, and says why.
    const viaServer = await enqueue(store, { blob: new Blob([randomBytes(1000)]), name: 'long.txt', owner: principal, metadata: { title: 'x'.repeat(600) }, web2: true });
    const canisterOnly = await enqueue(store, { blob: new Blob([randomBytes(1000)]), name: 'long2.txt', owner: principal, metadata: { title: 'y'.repeat(600) } });
    await engineFor(store, f).drain();
    for (const [item, code] of [
      [viaServer, 'InvalidArgument'],
      [canisterOnly, 'InvalidArgument'],
    ] as const) {
      const failed = (await store.get(item.id))!;
      expect(failed).toMatchObject({ state: 'failed', lastError: { code } });
      const words = describeItem(failed);
      expect(words.tone).toBe('failed');
      expect(words.label).toMatch(/^Failed: .*title/i);
      expect(words.label).not.toMatch(/too large, empty or malformed|will not be retried/);
      expect(words.label).toBe(`Failed: ${failed.lastError!.reason}`);
      await store.remove(item.id);
      expect(await store.get(item.id)).toBeUndefined();
      expect(await store.bytes(item.id)).toBeUndefined();
    }
  });

  it('cancels an upload mid-way: the canister session is cancelled and the item is gone; cancelling again is fine', async () => {
    const principal = await signIn();
    const store = await freshStore();
    const f = cookieFetch();
    const bytes = randomBytes(5 * MiB);
    const { id } = (await addFiles(store, { files: [new File([bytes], 'big.bin')], storeForever: true, owner: principal })).queued[0];
    const stop = new AbortController();
    let chunks = 0;
    const counting: typeof fetch = async (input, init) => {
      const res = await f(input, init);
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (/\/call$/.test(url) && (await store.get(id))?.state === 'uploading' && ++chunks >= 3) stop.abort(new Error('tab closed'));
      return res;
    };
    await createBrowserEngine({ config: stack.config, store, hasher: inlineHasher, fetch: counting, engineConfig: { ...FAST, chunkConcurrency: 1 } }).drain(stop.signal);
    const mid = (await store.get(id))!;
    expect(mid.state).toBe('uploading');
    expect(mid.sessionId).not.toBeNull();
    expect((await usage(principal)).active_uploads).toBe(1);

    const canister = async () => foreverCanister(await createForeverActor(await loadStoredIdentity(), { host: stack.config.icHost, canisterId: stack.canisterId, fetchRootKey: true }));
    await cancelItem(store, id, canister);
    expect(await store.get(id)).toBeUndefined();
    expect(await store.bytes(id)).toBeUndefined();
    expect((await usage(principal)).active_uploads).toBe(0);
    await expect(cancelItem(store, id, canister)).resolves.toBeUndefined();
  });

  it('queues only what can succeed and names each cause; a note is stored as Markdown', async () => {
    const principal = await signIn();
    const store = await freshStore();
    const f = cookieFetch();
    const unicode = `${'é'.repeat(125)}.jpg`; // 250 + 4 = 254 bytes: accepted
    const tooLongName = `${'a'.repeat(252)}.jpg`; // 256 bytes
    const okFile = new File(['fine'], unicode, { type: 'image/jpeg' });
    const titled = new File(['titled'], 'titled.txt');
    const huge = new File([new Uint8Array(MAX_FILE_BYTES + 1)], 'huge.bin');
    const result = await addFiles(store, {
      files: [new File([], 'empty.txt'), huge, new File(['x'], tooLongName), titled, okFile],
      storeForever: true,
      owner: principal,
      titles: new Map([[titled, 't'.repeat(600)]]),
    });
    expect(result.queued.map((q) => q.name)).toEqual([unicode]);
    expect(Object.fromEntries(result.refused.map((r) => [r.name, r.reason]))).toEqual({
      'empty.txt': expect.stringMatching(/empty/),
      'huge.bin': expect.stringMatching(/more than the 104857600 bytes/),
      [tooLongName]: expect.stringMatching(/file name is longer than 255 bytes/),
      'titled.txt': expect.stringMatching(/title is longer than 512 bytes/),
    });
    expect((await store.list()).map((i) => i.name)).toEqual([unicode]);

    await expect(addNote(store, { title: 'n'.repeat(513), text: 'hello', storeForever: true, owner: principal })).rejects.toThrow(RefusedError);
    const note = await addNote(store, { title: 'Shopping list', text: '# Milk\n- eggs', storeForever: true, owner: principal });
    expect(note).toMatchObject({ name: 'Shopping list.md', mimeType: 'text/markdown', memoryType: 'Note' });
    const report = await engineFor(store, f).drain();
    expect(report.recorded.sort()).toEqual([note.id, result.queued[0].id].sort());
    const res = await f(`${stack.origin}/api/memories/${note.id}`);
    expect(((await res.json()) as { memory: { memory_type: string; title: string } }).memory).toMatchObject({ memory_type: 'note', title: 'Shopping list' });
  });
});
