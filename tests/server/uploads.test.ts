// The blob copy and its retry queue, usage and quotas, on both engines.
// Store failures are injected at the blob store boundary; the worker is driven
// with runOnce() under a test clock, so retries happen without sleeping.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { UploadQueueWorker } from '../../server/blob-copy/worker.js';
import { incrementStorageUsage } from '../../server/services/usage.js';
import { ENGINES } from './support/database.js';
import { FailingBlobStore } from './support/failing-store.js';
import { startTestServer, type TestServer } from './support/server.js';

type Json = Record<string, any>;
const body = async (r: Response): Promise<Json> => (await r.json()) as Json;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.each(ENGINES)('upload_file, queue and usage on %s', (engine) => {
  let s: TestServer;
  let store: FailingBlobStore;
  let clock = new Date('2026-03-15T12:00:00.000Z');
  let worker: UploadQueueWorker;

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'forever-blobs-'));
    store = new FailingBlobStore(dir);
    s = await startTestServer(engine, {
      blobStore: store,
      now: () => clock,
      maxUploadBytes: 256 * 1024,
      quotas: { maxBytes: 50 * 1024 * 1024, storeForeverOpsPerMonth: 3 },
      queue: { enabled: false, maxRetries: 3, baseDelayMs: 1000, maxDelayMs: 60_000 },
    });
    worker = new UploadQueueWorker({ ctx: s.deps, blobStore: store, queue: s.deps.queue, random: () => 0.5 });
  });
  afterAll(async () => s?.close());

  const advance = (ms: number) => {
    clock = new Date(clock.getTime() + ms);
  };

  async function newUser(): Promise<{ cookie: string; userId: string }> {
    const cookie = await s.signIn(`user-${uuidv7()}`);
    const me = await body(await s.request('/api/auth/me', { cookie }));
    return { cookie, userId: me.user_id };
  }
  async function newMemory(cookie: string): Promise<string> {
    const id = uuidv7();
    const r = await s.request(`/api/memories/${id}`, { method: 'PUT', cookie, json: { memory_type: 'image' } });
    expect(r.status).toBe(201);
    return id;
  }
  const upload = (cookie: string, memoryId: string, bytes: Uint8Array, extra = '') =>
    s.request(`/api/upload_file?memory_id=${memoryId}${extra}`, {
      method: 'POST',
      cookie,
      body: new Uint8Array(bytes),
      headers: { 'content-type': 'application/octet-stream' },
    });
  const usage = async (cookie: string) => body(await s.request('/api/usage', { cookie }));
  const edge = (userId: string, memoryId: string) =>
    s.deps.db.selectFrom('storage_edges').selectAll().where('user_id', '=', userId).where('memory_id', '=', memoryId).where('backend', '=', 'blob').executeTakeFirst();

  it('stores bytes content-addressed, counts usage once, and is idempotent', async () => {
    const { cookie, userId } = await newUser();
    const id = await newMemory(cookie);
    const bytes = randomBytes(10_000);
    const r = await upload(cookie, id, bytes, `&content_hash=${sha(bytes)}`);
    expect(r.status).toBe(201);
    const b = await body(r);
    expect(b).toMatchObject({ status: 'stored', storage_status: 'stored', content_hash: sha(bytes), byte_size: 10_000, created: true });
    expect(Buffer.from((await store.get(sha(bytes)))!)).toEqual(bytes);
    expect(await edge(userId, id)).toMatchObject({ present: 1, sync_state: 'idle', content_hash: sha(bytes), size: 10_000 });
    const again = await upload(cookie, id, bytes);
    expect(again.status).toBe(200);
    expect((await body(again)).created).toBe(false);
    expect(await usage(cookie)).toMatchObject({ total_bytes: 10_000, total_sources: 1, pending_bytes: 0 });
    // Presence shows the blob copy.
    const p = await body(await s.request(`/api/memories/${id}/presence`, { cookie }));
    expect(p).toMatchObject({ asset_blob: true, overall_status: 'web2_only' });
  });

  it('rejects bad uploads with typed errors and writes nothing', async () => {
    const { cookie, userId } = await newUser();
    const id = await newMemory(cookie);
    const bytes = randomBytes(100);
    const cases: Array<[Promise<Response>, number, string]> = [
      [upload(cookie, id, bytes, `&content_hash=${'0'.repeat(64)}`), 400, 'INVALID_HASH'],
      [upload(cookie, id, bytes, '&content_hash=zz'), 400, 'INVALID_ARGUMENT'],
      [upload(cookie, 'not-a-uuid', bytes), 400, 'INVALID_ARGUMENT'],
      [upload(cookie, uuidv7(), bytes), 404, 'NOT_FOUND'],
      [upload(cookie, id, bytes, '&bucket=../etc'), 400, 'INVALID_ARGUMENT'],
      [upload(cookie, id, randomBytes(256 * 1024 + 1)), 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [p, status, code] of cases) {
      const r = await p;
      expect(r.status).toBe(status);
      expect((await body(r)).error.code).toBe(code);
    }
    // A streamed body without Content-Length is cut off at the limit too.
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(randomBytes(64 * 1024));
        c.close();
      },
    });
    const streamed = await s.request(`/api/upload_file?memory_id=${id}`, {
      method: 'POST',
      cookie,
      body: stream,
      headers: { 'content-type': 'application/octet-stream' },
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await edge(userId, id)).toBeUndefined();
    expect(await usage(cookie)).toMatchObject({ total_bytes: 0, total_sources: 0 });
    // Another user's memory id is not found for this user.
    const other = await newUser();
    const r = await upload(other.cookie, id, bytes);
    expect(r.status).toBe(404);
  });

  it('defers to the queue on store failure (202), then the worker stores and cleans up', async () => {
    const { cookie, userId } = await newUser();
    const id = await newMemory(cookie);
    const bytes = randomBytes(20_000);
    store.failures = 1;
    const r = await upload(cookie, id, bytes);
    expect(r.status).toBe(202);
    const b = await body(r);
    expect(b).toMatchObject({ status: 'pending_retry', storage_status: 'pending_retry' });
    expect(b.queue_id).toMatch(/^[0-9a-f-]{36}$/);
    const row = await s.deps.db.selectFrom('upload_queue').selectAll().where('id', '=', b.queue_id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'pending', retry_count: 0, content_hash: sha(bytes), byte_size: 20_000, user_id: userId, max_retries: 3 });
    expect(path.dirname(row.temp_file_path)).toBe(s.deps.queue.dir);
    expect(Buffer.from(fs.readFileSync(row.temp_file_path))).toEqual(bytes);
    expect((fs.statSync(row.temp_file_path).mode & 0o777).toString(8)).toBe('600');
    expect(await store.has(sha(bytes))).toBe(false);
    // Status endpoint: pending, and the temp path is never exposed.
    const status = await s.request(`/api/upload_queue/${b.queue_id}`, { cookie });
    const st = await body(status);
    expect(st).toMatchObject({ queue_id: b.queue_id, status: 'pending', storage_status: 'pending_retry' });
    expect(JSON.stringify(st)).not.toContain(s.deps.queue.dir);
    // Sending the same bytes again while queued reports the same queue item.
    const dup = await upload(cookie, id, bytes);
    expect(dup.status).toBe(202);
    expect((await body(dup)).queue_id).toBe(b.queue_id);
    expect(await usage(cookie)).toMatchObject({ total_bytes: 20_000, total_sources: 1, pending_bytes: 20_000 });
    // Not due yet: the worker leaves it alone.
    expect(await worker.runOnce()).toBe(0);
    advance(1000);
    expect(await worker.runOnce()).toBe(1);
    const done = await body(await s.request(`/api/upload_queue/${b.queue_id}`, { cookie }));
    expect(done).toMatchObject({ status: 'stored', storage_status: 'stored', next_retry_at: null });
    expect(fs.existsSync(row.temp_file_path)).toBe(false);
    expect(Buffer.from((await store.get(sha(bytes)))!)).toEqual(bytes);
    expect(await edge(userId, id)).toMatchObject({ present: 1, sync_state: 'idle' });
    expect(await usage(cookie)).toMatchObject({ total_bytes: 20_000, total_sources: 1, pending_bytes: 0 });
    const metrics = await (await s.request('/metrics')).text();
    expect(metrics).toMatch(/storage_queue_processed_total\{status="stored"\} 1/);
    expect(metrics).toMatch(/storage_upload_failure_total\{bucket="memories",reason="unavailable"\} 1/);
    expect(metrics).toMatch(/storage_queue_depth 0/);
    // Another user cannot see the queue item.
    const other = await newUser();
    expect((await s.request(`/api/upload_queue/${b.queue_id}`, { cookie: other.cookie })).status).toBe(404);
  });

  it('joins concurrent identical deferred uploads into one queue item', async () => {
    const { cookie, userId } = await newUser();
    const id = await newMemory(cookie);
    const bytes = randomBytes(3000);
    store.failures = Infinity;
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => upload(cookie, id, bytes)));
      expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
      const queueIds = new Set(await Promise.all(results.map(async (r) => (await body(r)).queue_id)));
      expect(queueIds.size).toBe(1);
      const rows = await s.deps.db.selectFrom('upload_queue').selectAll().where('user_id', '=', userId).execute();
      expect(rows).toHaveLength(1);
      expect(fs.readdirSync(s.deps.queue.dir).filter((f) => f.startsWith(rows[0].id))).toEqual([`${rows[0].id}.bin`]);
      expect(await usage(cookie)).toMatchObject({ total_bytes: 3000, total_sources: 1 });
      store.failures = 0;
      advance(60_000);
      expect(await worker.runOnce()).toBe(1);
      expect(await usage(cookie)).toMatchObject({ total_bytes: 3000, total_sources: 1, pending_bytes: 0 });
    } finally {
      store.failures = 0;
    }
  });

  it('retries with exponential backoff and marks an exhausted item failed, releasing its bytes', async () => {
    const { cookie, userId } = await newUser();
    const id = await newMemory(cookie);
    const bytes = randomBytes(5000);
    store.failures = Infinity;
    try {
      const b = await body(await upload(cookie, id, bytes));
      const get = () => s.deps.db.selectFrom('upload_queue').selectAll().where('id', '=', b.queue_id).executeTakeFirstOrThrow();
      const gaps: number[] = [];
      let row = await get();
      gaps.push(Date.parse(row.next_retry_at) - clock.getTime());
      for (let attempt = 1; attempt <= 3; attempt++) {
        clock = new Date(row.next_retry_at);
        expect(await worker.runOnce()).toBe(1);
        row = await get();
        if (row.status === 'pending') gaps.push(Date.parse(row.next_retry_at) - clock.getTime());
      }
      // Retry n waits base * 2^(n-1), half of it jittered: the first (scheduled
      // by the request) in [500, 1000]; the worker's with random = 0.5: 1500, 3000.
      expect(gaps[0]).toBeGreaterThanOrEqual(500);
      expect(gaps[0]).toBeLessThanOrEqual(1000);
      expect(gaps.slice(1)).toEqual([1500, 3000]);
      expect(row).toMatchObject({ status: 'failed', retry_count: 3 });
      expect(row.error_message).toContain('blob store failed');
      expect(await edge(userId, id)).toMatchObject({ present: 0, sync_state: 'failed' });
      expect(await usage(cookie)).toMatchObject({ total_bytes: 0, total_sources: 0, pending_bytes: 0 });
      expect((await body(await s.request(`/api/upload_queue/${b.queue_id}`, { cookie }))).storage_status).toBe('failed');
      // A later upload of the same bytes starts afresh.
      store.failures = 0;
      const again = await upload(cookie, id, bytes);
      expect(again.status).toBe(201);
      expect(await usage(cookie)).toMatchObject({ total_bytes: 5000, total_sources: 1 });
    } finally {
      store.failures = 0;
    }
  });

  it('refuses an upload past the byte quota with STORAGE_QUOTA_EXCEEDED and writes nothing', async () => {
    const small = await startTestServer(engine, { quotas: { maxBytes: 1000 } });
    try {
      const cookie = await small.signIn('quota-user');
      const mk = async () => {
        const id = uuidv7();
        await small.request(`/api/memories/${id}`, { method: 'PUT', cookie, json: { memory_type: 'image' } });
        return id;
      };
      const up = (id: string, n: number) =>
        small.request(`/api/upload_file?memory_id=${id}`, { method: 'POST', cookie, body: randomBytes(n), headers: { 'content-type': 'application/octet-stream' } });
      expect((await up(await mk(), 600)).status).toBe(201);
      const second = await mk();
      const r = await up(second, 401);
      expect(r.status).toBe(403);
      expect((await body(r)).error.code).toBe('STORAGE_QUOTA_EXCEEDED');
      const edges = await small.deps.db.selectFrom('storage_edges').select('memory_id').where('memory_id', '=', second).execute();
      expect(edges).toEqual([]);
      expect((await body(await small.request('/api/usage', { cookie }))).total_bytes).toBe(600);
      expect((await up(second, 400)).status).toBe(201);
      expect(await (await small.request('/metrics')).text()).toMatch(/quota_exceeded_total\{kind="bytes"\} 1/);
    } finally {
      await small.close();
    }
  });

  it('gives the exact total for 100 concurrent usage increments', async () => {
    const { userId } = await newUser();
    await Promise.all(Array.from({ length: 100 }, (_, i) => incrementStorageUsage(s.deps, s.deps.db, userId, i + 1, 1, null)));
    const row = await s.deps.db.selectFrom('storage_usage').selectAll().where('user_id', '=', userId).executeTakeFirstOrThrow();
    expect(row.total_bytes).toBe(5050);
    expect(row.total_sources).toBe(100);
  });

  it('counts 100 concurrent uploads exactly', async () => {
    const { cookie } = await newUser();
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push(await newMemory(cookie));
    const sizes = ids.map((_, i) => 100 + i);
    const results = await Promise.all(ids.map((id, i) => upload(cookie, id, randomBytes(sizes[i]))));
    expect(results.map((r) => r.status)).toEqual(ids.map(() => 201));
    expect(await usage(cookie)).toMatchObject({ total_bytes: sizes.reduce((a, b) => a + b, 0), total_sources: 100 });
  });

  it('counts Store Forever operations per month, idempotent by id, up to the quota', async () => {
    const { cookie } = await newUser();
    const memoryId = await newMemory(cookie);
    const op = (id: string) => s.request('/api/usage/store_forever', { method: 'POST', cookie, json: { id, memory_id: memoryId } });
    const first = uuidv7();
    expect((await op(first)).status).toBe(201);
    expect((await op(first)).status).toBe(200);
    expect((await op(uuidv7())).status).toBe(201);
    expect((await op(uuidv7())).status).toBe(201);
    const over = await op(uuidv7());
    expect(over.status).toBe(403);
    expect((await body(over)).error.code).toBe('STORAGE_QUOTA_EXCEEDED');
    expect(await usage(cookie)).toMatchObject({ store_forever_ops_month: 3, store_forever_ops_limit_month: 3, billing_month: '2026-03' });
    expect((await s.request('/api/usage/store_forever', { method: 'POST', cookie, json: { id: 'x' } })).status).toBe(400);
    expect((await s.request('/api/usage/store_forever', { method: 'POST', cookie, json: { id: uuidv7() } })).status).toBe(400);
    const foreign = await s.request('/api/usage/store_forever', { method: 'POST', cookie, json: { id: uuidv7(), memory_id: uuidv7() } });
    expect(foreign.status).toBe(404);
    expect((await s.request('/api/usage/store_forever', { method: 'POST', cookie, json: { id: uuidv7(), gallery_id: uuidv7() } })).status).toBe(404);
    // A new month starts a new count.
    const saved = clock;
    clock = new Date('2026-04-01T00:00:01.000Z');
    try {
      expect((await op(uuidv7())).status).toBe(201);
      expect(await usage(cookie)).toMatchObject({ store_forever_ops_month: 1, billing_month: '2026-04' });
    } finally {
      clock = saved;
    }
  });
});
