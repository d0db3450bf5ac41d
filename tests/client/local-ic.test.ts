// The upload engine against the real back end: the azle-built `forever`
// canister in the local IC behind its HTTP interface, the Hono server for the
// storage edges, @dfinity/agent signing with a delegation read from (fake)
// IndexedDB where the auth client keeps it.
import { createHash, randomBytes } from 'node:crypto';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idlFactory } from '../../src/declarations/forever/forever.did.js';
import { createBrowserEngine } from '../../src/lib/upload/runtime/browser-engine';
import type { EngineConfig } from '../../src/lib/upload/runtime/engine';
import { enqueue } from '../../src/lib/upload/runtime/enqueue';
import { inlineHasher } from '../../src/lib/upload/adapters/hasher';
import type { QueueStore } from '../../src/lib/upload/adapters/queue-store';
import { freshStore } from './support/engine-harness';
import { cookieFetch, signIn, startLocalStack, type LocalStack } from './support/local-stack';

const MiB = 1024 * 1024;
const FAST: Partial<EngineConfig> = { callRetry: { retries: 3, baseMs: 5, capMs: 20 }, itemBackoff: { baseMs: 50, capMs: 200, maxAttempts: 5 }, progressIntervalMs: 0 };

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack();
}, 180_000);
afterAll(async () => stack?.close());

/** A fetch that lets tests break IC requests: `breakNext(n, kind)` fails the next n calls to put_chunk-bearing call endpoints. */
function faultyFetch(base: typeof fetch) {
  const faults = { network: 0, status503: 0 };
  const calls: string[] = [];
  const f: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (/\/api\/v[23]\/canister\/[^/]+\/call$/.test(url)) {
      calls.push(url);
      if (faults.network > 0) {
        faults.network -= 1;
        throw new TypeError('fetch failed');
      }
      if (faults.status503 > 0) {
        faults.status503 -= 1;
        return new Response('overloaded', { status: 503 });
      }
    }
    return base(input, init);
  };
  return { fetch: f, faults, calls };
}

function engineFor(store: QueueStore, f: typeof fetch, config: Partial<EngineConfig> = {}) {
  return createBrowserEngine({ config: stack.config, store, hasher: inlineHasher, fetch: f, engineConfig: { ...FAST, ...config } });
}

const service = idlFactory({ IDL }) as IDL.ServiceClass;
/** A query straight to the local IC as `principal` (what the canister says, not what the client believes). */
async function queryAs<T>(principal: string, name: string, args: unknown[]): Promise<T> {
  const f = service._fields.find(([n]) => n === name)![1];
  const r = await stack.ic.query(Principal.fromText(stack.canisterId), name, new Uint8Array(IDL.encode(f.argTypes, args)), { caller: Principal.fromText(principal) });
  if (r.status !== 'replied') throw new Error(r.rejectMessage);
  return IDL.decode(f.retTypes, r.reply)[0] as T;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function edges(f: typeof fetch, memoryId: string) {
  const res = await f(`${stack.origin}/api/storage/edges?memory_id=${memoryId}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { edges: { artifact: string; backend: string; present: boolean; content_hash: string | null }[] }).edges;
}

describe('upload engine against the local IC', () => {
  it('stores a file end to end: canister asset with the right hash, edges on the server', async () => {
    const principal = await signIn();
    const store = await freshStore();
    const f = cookieFetch();
    const bytes = randomBytes(2 * MiB + 12_345);
    const item = await enqueue(store, { blob: new Blob([bytes], { type: 'image/jpeg' }), name: 'photo.jpg' });
    const report = await engineFor(store, f).drain();
    expect(report.recorded).toEqual([item.id]);
    const done = await store.get(item.id);
    expect(done).toMatchObject({ state: 'recorded', owner: principal, sha256: sha(bytes), chunkCount: 3, chunkPuts: 3, hasBytes: false });
    const e = await edges(f, item.id);
    expect(e.filter((x) => x.backend === 'icp' && x.present).map((x) => x.artifact).sort()).toEqual(['asset', 'metadata']);
    expect(e.find((x) => x.artifact === 'asset')?.content_hash).toBe(sha(bytes));
  });

  it('resumes an interrupted upload without re-sending the chunks the canister received', async () => {
    await signIn();
    const store = await freshStore();
    const base = cookieFetch();
    const bytes = randomBytes(6 * MiB + 1);
    const item = await enqueue(store, { blob: new Blob([bytes]), name: 'video.bin' });
    // Stop the first drain (a closed tab) after three chunks were confirmed.
    const stop = new AbortController();
    const first = createBrowserEngine({
      config: stack.config,
      store,
      hasher: inlineHasher,
      fetch: base,
      engineConfig: { ...FAST, chunkConcurrency: 1 },
      onEvent: (e) => {
        if (e.type === 'progress' && e.progress.chunksSent >= 3) stop.abort(new Error('tab closed'));
      },
    });
    await first.drain(stop.signal);
    const mid = await store.get(item.id);
    expect(mid?.state).toBe('uploading');
    expect(mid?.receivedChunks.length).toBeGreaterThanOrEqual(3);
    expect(mid!.receivedChunks.length).toBeLessThan(7);
    const putsBefore = mid!.chunkPuts;

    const counted = faultyFetch(base);
    const report = await engineFor(store, counted.fetch).drain();
    expect(report.recorded).toEqual([item.id]);
    const done = await store.get(item.id);
    // Every chunk went out exactly once over both runs.
    expect(done?.chunkPuts).toBe(7);
    // Second run: begin, the missing chunks, commit — nothing for the chunks the canister had.
    expect(done!.chunkPuts - putsBefore).toBe(7 - mid!.receivedChunks.length);
    expect(done?.sha256).toBe(sha(bytes));
  });

  it('retries transient failures (network, 503) and does not retry permanent ones', async () => {
    await signIn();
    const store = await freshStore();
    const faulty = faultyFetch(cookieFetch());
    const ok = await enqueue(store, { blob: new Blob([randomBytes(3 * MiB)]), name: 'ok.bin' });
    const engine = engineFor(store, faulty.fetch);
    // Three failures in a row (the first calls of the run), then the fourth attempt passes: retried inside the run.
    faulty.faults.network = 2;
    faulty.faults.status503 = 1;
    const report = await engine.drain();
    expect(report.recorded).toEqual([ok.id]);
    expect(faulty.faults).toEqual({ network: 0, status503: 0 });
    expect((await store.get(ok.id))?.attempts).toBe(0);

    // More failures than the in-run retries: the item waits with a persisted retry time, then completes.
    const later = await enqueue(store, { blob: new Blob([randomBytes(MiB + 3)]), name: 'later.bin' });
    faulty.faults.status503 = 5;
    const waiting = await engineFor(store, faulty.fetch).drain();
    expect(waiting.waiting).toEqual([later.id]);
    expect(await store.get(later.id)).toMatchObject({ state: 'waiting-retry', attempts: 1, lastError: { code: 'Http5xx' } });
    const due = waiting.nextWakeAt! - Date.now();
    // The persisted retry time is the wake-up: nothing else to wait for.
    await new Promise((r) => setTimeout(r, Math.max(0, due)));
    const finished = await engineFor(store, faulty.fetch).drain();
    expect(finished.recorded).toEqual([later.id]);

    // Permanent: the canister refuses a hash that does not match the bytes (InvalidHash at commit).
    const bad = await enqueue(store, { blob: new Blob([randomBytes(MiB + 1)]), name: 'bad.bin' });
    await store.update(bad.id, (cur) => ({ ...cur, sha256: '00'.repeat(32), state: 'queued' }));
    const callsBefore = faulty.calls.length;
    const r2 = await engineFor(store, faulty.fetch).drain();
    expect(r2.failed).toEqual([bad.id]);
    const failed = await store.get(bad.id);
    expect(failed).toMatchObject({ state: 'failed', attempts: 1, lastError: { category: 'permanent', code: 'InvalidHash' } });
    // metadata, begin, 2 chunks, one commit, cancel: no call was repeated.
    expect(faulty.calls.length - callsBefore).toBe(6);
  });

  it('stores an identical file once: one asset on the canister', async () => {
    const principal = await signIn();
    const store = await freshStore();
    const f = cookieFetch();
    const bytes = randomBytes(MiB + 7);
    const a = await enqueue(store, { blob: new Blob([bytes]), name: 'a.bin' });
    const b = await enqueue(store, { blob: new Blob([bytes]), name: 'a copy.bin' });
    const report = await engineFor(store, f).drain();
    expect(report.recorded.sort()).toEqual([a.id, b.id].sort());
    const items = await Promise.all([store.get(a.id), store.get(b.id)]);
    const dup = items.find((i) => i?.duplicateOf !== null);
    const orig = items.find((i) => i?.duplicateOf === null);
    expect(dup?.duplicateOf).toBe(orig?.id);
    // The copy is recorded as its twin's memory, which holds the asset.
    const presence = await queryAs<{ Ok: { metadata_present: boolean; asset_present: boolean } }>(principal, 'get_memory_presence', [orig!.id]);
    expect(presence.Ok).toMatchObject({ metadata_present: true, asset_present: true });
    expect(dup?.state).toBe('recorded');
    // Storing the same memory again (a re-run after its record was lost) is AlreadyExists, i.e. success.
    const again = await enqueue(store, { blob: new Blob([bytes]), name: 'a.bin', id: `${orig!.id}` }).catch(() => null);
    expect(again?.state).toBe('recorded');
    const store2 = await freshStore();
    await enqueue(store2, { blob: new Blob([bytes]), name: 'a.bin', id: orig!.id });
    const puts = faultyFetch(f);
    const r3 = await engineFor(store2, puts.fetch).drain();
    expect(r3.recorded).toEqual([orig!.id]);
    expect((await store2.get(orig!.id))?.chunkPuts).toBe(0);
    // The canister holds one asset (and one memory) for these bytes.
    const usage = await queryAs<{ Ok: { assets: bigint; memories: bigint } }>(principal, 'get_usage', []);
    expect(usage.Ok).toMatchObject({ assets: 1n, memories: 1n });
  });

  it('parks items when the delegation expired and resumes them after sign-in', async () => {
    await signIn(1);
    const store = await freshStore();
    const f = cookieFetch();
    const item = await enqueue(store, { blob: new Blob([randomBytes(1000)]), name: 'x.bin' });
    const parked = await engineFor(store, f).drain();
    expect(parked.parked).toEqual([item.id]);
    expect(await store.get(item.id)).toMatchObject({ state: 'needs-sign-in', lastError: { category: 'auth' } });
    await signIn();
    const resumed = await engineFor(store, f).drain();
    expect(resumed.recorded).toEqual([item.id]);
  });
});
