// The library API on both engines, over the real app and database: editing a
// memory (folder included), the library list with presence and filters,
// deleting a memory (idempotent; edges, membership, usage and the blob copy
// follow), thumbnails, the blob copy's content with ranges, folders, and
// usage that counts what was stored.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { MAX_THUMBNAIL_BYTES, TEXT_LIMITS } from '../../contract/index.js';
import { ENGINES } from './support/database.js';
import { FailingBlobStore } from './support/failing-store.js';
import { seedMemories } from './support/seed.js';
import { startTestServer, type TestServer } from './support/server.js';

type Json = Record<string, any>;
const body = async (r: Response): Promise<Json> => (await r.json()) as Json;
// What a browser sends with a same-origin DELETE (the CSRF check wants it).
const SAME_ORIGIN = { origin: 'http://localhost' };
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe.each(ENGINES)('library API on %s', (engine) => {
  let s: TestServer;
  let store: FailingBlobStore;

  beforeAll(async () => {
    store = new FailingBlobStore(fs.mkdtempSync(path.join(os.tmpdir(), 'forever-library-blobs-')));
    s = await startTestServer(engine, { blobStore: store });
  });
  afterAll(async () => s?.close());

  async function newUser(): Promise<{ cookie: string; userId: string }> {
    const cookie = await s.signIn(`library-${uuidv7()}`);
    return { cookie, userId: (await body(await s.request('/api/auth/me', { cookie }))).user_id };
  }
  const put = (cookie: string, id: string, json: unknown) => s.request(`/api/memories/${id}`, { method: 'PUT', cookie, json });
  async function memory(cookie: string, json: Json = { memory_type: 'image', title: 't' }): Promise<string> {
    const id = uuidv7();
    expect((await put(cookie, id, json)).status).toBe(201);
    return id;
  }
  const upload = (cookie: string, id: string, bytes: Uint8Array) =>
    s.request(`/api/upload_file?memory_id=${id}`, { method: 'POST', cookie, body: new Uint8Array(bytes), headers: { 'content-type': 'application/octet-stream' } });
  const count = async (table: 'memories' | 'storage_edges' | 'gallery_memories' | 'memory_thumbnails' | 'folders', userId: string) =>
    Number((await s.deps.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n);

  describe('PUT /api/memories/:id', () => {
    it('edits title, description and metadata, and names the cause of a refusal', async () => {
      const { cookie } = await newUser();
      const id = await memory(cookie);
      const edited = await put(cookie, id, { memory_type: 'image', title: 'Beach', description: 'At dawn', metadata: { w: 3 } });
      expect(edited.status).toBe(200);
      expect((await body(edited)).memory).toMatchObject({ id, title: 'Beach', description: 'At dawn', metadata: { w: 3 }, folder_id: null });
      for (const [json, message] of [
        [{ memory_type: 'image', title: 'x'.repeat(TEXT_LIMITS.title + 1) }, 'title is longer than 512 bytes'],
        [{ memory_type: 'image', description: 'é'.repeat(TEXT_LIMITS.description / 2 + 1) }, 'description is longer than 8192 bytes'],
        [{ memory_type: 'image', folder_id: 'nope' }, 'folder_id: must be a lowercase UUID'],
        [{ memory_type: 'image', folder_id: uuidv7() }, undefined],
      ] as const) {
        const r = await put(cookie, id, json);
        const b = await body(r);
        if (message) expect({ status: r.status, ...b.error }).toEqual({ status: 400, code: 'INVALID_ARGUMENT', message });
        else expect({ status: r.status, code: b.error.code, message: b.error.message }).toEqual({ status: 404, code: 'NOT_FOUND', message: `folder not found: ${json.folder_id}` });
      }
      // Nothing changed by the refusals.
      expect((await body(await s.request(`/api/memories/${id}`, { cookie }))).memory).toMatchObject({ title: 'Beach', folder_id: null });
    });

    it('puts a memory in one folder, keeps it there when folder_id is absent, takes it out with null', async () => {
      const { cookie } = await newUser();
      const [f1, f2] = [uuidv7(), uuidv7()];
      for (const f of [f1, f2]) expect((await s.request(`/api/folders/${f}`, { method: 'PUT', cookie, json: { title: 'Trip' } })).status).toBe(201);
      const id = await memory(cookie, { memory_type: 'image', folder_id: f1 });
      expect((await body(await s.request(`/api/memories/${id}`, { cookie }))).memory.folder_id).toBe(f1);
      await put(cookie, id, { memory_type: 'image', title: 'again' });
      expect((await body(await s.request(`/api/memories/${id}`, { cookie }))).memory.folder_id).toBe(f1);
      await put(cookie, id, { memory_type: 'image', folder_id: f2 });
      const [one, two] = await Promise.all([f1, f2].map(async (f) => (await body(await s.request(`/api/folders/${f}`, { cookie }))).folder.memory_count));
      expect([one, two]).toEqual([0, 1]);
      await put(cookie, id, { memory_type: 'image', folder_id: null });
      expect((await body(await s.request(`/api/memories/${id}`, { cookie }))).memory.folder_id).toBeNull();
    });
  });

  describe('GET /api/memories (the library)', () => {
    it('lists each memory with its presence, thumbnail flag and folder, filtered by type and status', async () => {
      const { cookie, userId } = await newUser();
      const ids = Array.from({ length: 6 }, () => uuidv7()).sort();
      // complete, complete, metadata only, none, none, none
      await seedMemories(s.deps.db, userId, ids, (i) => (i < 2 ? 'complete' : i === 2 ? 'metadata_only' : 'none'));
      const note = await memory(cookie, { memory_type: 'note', title: 'n' });
      await s.deps.db.insertInto('storage_edges').values({ user_id: userId, memory_id: note, artifact: 'metadata', backend: 'icp', present: 1, location: null, content_hash: null, size: null, sync_state: 'idle', error: null, created_at: new Date().toISOString(), updated_at: new Date().toISOString() }).execute();
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
      expect((await s.request(`/api/memories/${ids[3]}/thumbnail`, { method: 'PUT', cookie, body: png, headers: { 'content-type': 'image/png' } })).status).toBe(201);

      const all = await body(await s.request('/api/memories?limit=100', { cookie }));
      expect(all.next_cursor).toBeNull();
      expect(all.memories.map((m: Json) => m.id)).toEqual([...ids, note]);
      const first = all.memories[0];
      expect(Object.keys(first).sort()).toEqual(['created_at', 'description', 'folder_id', 'has_thumbnail', 'id', 'memory_type', 'metadata', 'presence', 'title', 'updated_at']);
      // The same presence as the presence route.
      expect(first.presence).toEqual(await body(await s.request(`/api/memories/${ids[0]}/presence`, { cookie })));
      expect(all.memories.map((m: Json) => m.has_thumbnail)).toEqual([false, false, false, true, false, false, false]);

      const byStatus = async (q: string) => (await body(await s.request(`/api/memories?${q}`, { cookie }))).memories.map((m: Json) => m.id);
      expect(await byStatus('status=stored_forever')).toEqual([ids[0], ids[1], note]);
      expect(await byStatus('status=partially_stored')).toEqual([ids[2]]);
      expect(await byStatus('status=web2_only')).toEqual(ids.slice(3));
      expect(await byStatus('type=note')).toEqual([note]);
      expect(await byStatus('type=image&status=stored_forever')).toEqual([ids[0], ids[1]]);
      expect(await byStatus('order=desc&limit=2')).toEqual([note, ids[5]]);
      const p1 = await body(await s.request('/api/memories?status=web2_only&limit=2', { cookie }));
      const p2 = await body(await s.request(`/api/memories?status=web2_only&limit=2&cursor=${p1.next_cursor}`, { cookie }));
      expect([...p1.memories, ...p2.memories].map((m: Json) => m.id)).toEqual(ids.slice(3));
      expect(p2.next_cursor).toBeNull();
      for (const q of ['status=gone', 'type=gif', 'folder_id=x', 'order=up']) {
        const r = await s.request(`/api/memories?${q}`, { cookie });
        expect({ q, status: r.status, code: (await body(r)).error.code }).toEqual({ q, status: 400, code: 'INVALID_ARGUMENT' });
      }
    });

    it('pages through 10,000 memories with filters computed in SQL', async () => {
      const { cookie, userId } = await newUser();
      const ids = Array.from({ length: 10_000 }, () => uuidv7()).sort();
      await seedMemories(s.deps.db, userId, ids, (i) => (i % 4 === 0 ? 'complete' : i % 4 === 1 ? 'metadata_only' : 'none'));
      let cursor: string | null = null;
      let seen = 0;
      do {
        const page: Json = await body(await s.request(`/api/memories?status=stored_forever&limit=1000${cursor ? `&cursor=${cursor}` : ''}`, { cookie }));
        for (const m of page.memories) expect(m.presence.overall_status).toBe('stored_forever');
        seen += page.memories.length;
        cursor = page.next_cursor;
      } while (cursor);
      expect(seen).toBe(2500);
      const web2 = await body(await s.request(`/api/memories?status=web2_only&limit=1000&cursor=${ids[9000]}`, { cookie }));
      expect(web2.memories.length).toBe(500);
    });
  });

  describe('DELETE /api/memories/:id', () => {
    it('removes the Web2 side, lowers usage, frees the blob only when no other memory uses it; idempotent', async () => {
      const { cookie, userId } = await newUser();
      const bytes = randomBytes(3000);
      const [a, b] = [await memory(cookie), await memory(cookie)];
      expect((await upload(cookie, a, bytes)).status).toBe(201);
      // A second memory with the same bytes: counted for it, stored once.
      expect((await upload(cookie, b, bytes)).status).toBe(201);
      const gallery = uuidv7();
      expect((await s.request(`/api/galleries/${gallery}`, { method: 'PUT', cookie, json: { title: 'G', memory_ids: [a, b] } })).status).toBe(201);
      expect((await s.request(`/api/memories/${a}/thumbnail`, { method: 'PUT', cookie, body: new Uint8Array([1]), headers: { 'content-type': 'image/webp' } })).status).toBe(201);
      expect((await body(await s.request('/api/usage', { cookie }))).total_bytes).toBe(6000);

      const del = await s.request(`/api/memories/${a}`, { method: 'DELETE', cookie, headers: SAME_ORIGIN });
      expect(await body(del)).toEqual({ deleted: true });
      expect((await s.request(`/api/memories/${a}`, { cookie })).status).toBe(404);
      expect(await count('memory_thumbnails', userId)).toBe(0);
      expect((await body(await s.request(`/api/galleries/${gallery}`, { cookie }))).gallery.memory_count).toBe(1);
      const usage = await body(await s.request('/api/usage', { cookie }));
      expect([usage.total_bytes, usage.total_sources, usage.memory_count]).toEqual([3000, 1, 1]);
      // b still uses the hash: the blob stays and b's content is intact.
      expect(await store.has(sha(bytes))).toBe(true);
      expect(new Uint8Array(await (await s.request(`/api/memories/${b}/content`, { cookie })).arrayBuffer())).toEqual(new Uint8Array(bytes));

      expect(await body(await s.request(`/api/memories/${a}`, { method: 'DELETE', cookie, headers: SAME_ORIGIN }))).toEqual({ deleted: false });
      expect(await body(await s.request(`/api/memories/${b}`, { method: 'DELETE', cookie, headers: SAME_ORIGIN }))).toEqual({ deleted: true });
      expect(await store.has(sha(bytes))).toBe(false);
      expect(await count('storage_edges', userId)).toBe(0);
      expect(await count('gallery_memories', userId)).toBe(0);
      expect((await body(await s.request('/api/usage', { cookie }))).total_bytes).toBe(0);
    });

    it("reaches only the caller's memories", async () => {
      const alice = await newUser();
      const bob = await newUser();
      const id = await memory(alice.cookie);
      expect(await body(await s.request(`/api/memories/${id}`, { method: 'DELETE', cookie: bob.cookie, headers: SAME_ORIGIN }))).toEqual({ deleted: false });
      expect((await s.request(`/api/memories/${id}`, { cookie: alice.cookie })).status).toBe(200);
      expect((await s.request(`/api/memories/nope`, { method: 'DELETE', cookie: alice.cookie, headers: SAME_ORIGIN })).status).toBe(400);
    });
  });

  describe('thumbnails', () => {
    it('stores and serves one per memory with an ETag and a private cache; refuses wrong types and sizes', async () => {
      const { cookie } = await newUser();
      const id = await memory(cookie);
      const jpeg = new Uint8Array(randomBytes(MAX_THUMBNAIL_BYTES));
      const putThumb = (bytes: Uint8Array, type?: string) =>
        s.request(`/api/memories/${id}/thumbnail`, { method: 'PUT', cookie, body: new Uint8Array(bytes), headers: type ? { 'content-type': type } : {} });
      expect((await s.request(`/api/memories/${id}/thumbnail`, { cookie })).status).toBe(404);
      const first = await putThumb(jpeg, 'image/jpeg');
      expect(first.status).toBe(201);
      expect((await body(first)).thumbnail).toMatchObject({ memory_id: id, mime_type: 'image/jpeg', byte_size: MAX_THUMBNAIL_BYTES, etag: sha(jpeg) });
      expect((await putThumb(jpeg, 'image/jpeg')).status).toBe(200);
      const got = await s.request(`/api/memories/${id}/thumbnail`, { cookie });
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe('image/jpeg');
      expect(got.headers.get('etag')).toBe(`"${sha(jpeg)}"`);
      expect(got.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
      expect(new Uint8Array(await got.arrayBuffer())).toEqual(jpeg);
      expect((await s.request(`/api/memories/${id}/thumbnail`, { cookie, headers: { 'if-none-match': `"${sha(jpeg)}"` } })).status).toBe(304);

      const over = await putThumb(new Uint8Array(MAX_THUMBNAIL_BYTES + 1), 'image/jpeg');
      expect([over.status, (await body(over)).error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
      const svg = await putThumb(new Uint8Array([60, 115]), 'image/svg+xml');
      expect([svg.status, (await body(svg)).error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
      const empty = await putThumb(new Uint8Array(0), 'image/png');
      expect([empty.status, (await body(empty)).error.message]).toEqual([400, 'the thumbnail is empty']);
      const none = await s.request(`/api/memories/${uuidv7()}/thumbnail`, { method: 'PUT', cookie, body: new Uint8Array([1]), headers: { 'content-type': 'image/png' } });
      expect(none.status).toBe(404);
      // The refusals changed nothing.
      expect(new Uint8Array(await (await s.request(`/api/memories/${id}/thumbnail`, { cookie })).arrayBuffer())).toEqual(jpeg);
      const bob = await newUser();
      expect((await s.request(`/api/memories/${id}/thumbnail`, { cookie: bob.cookie })).status).toBe(404);
    });
  });

  describe('GET /api/memories/:id/content', () => {
    it('streams the blob copy with its type, length and hash, answers ranges with 206', async () => {
      const { cookie } = await newUser();
      const id = await memory(cookie, { memory_type: 'video', metadata: { mime_type: 'video/mp4', file_name: 'día 1.mp4' } });
      expect((await s.request(`/api/memories/${id}/content`, { cookie })).status).toBe(404);
      const bytes = new Uint8Array(randomBytes(100_000));
      expect((await upload(cookie, id, bytes)).status).toBe(201);
      const r = await s.request(`/api/memories/${id}/content`, { cookie });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('video/mp4');
      expect(r.headers.get('content-length')).toBe('100000');
      expect(r.headers.get('etag')).toBe(`"${sha(bytes)}"`);
      expect(r.headers.get('accept-ranges')).toBe('bytes');
      expect(r.headers.get('content-disposition')).toBe("inline; filename*=UTF-8''d%C3%ADa%201.mp4");
      const got = new Uint8Array(await r.arrayBuffer());
      expect(sha(got)).toBe(sha(bytes));

      const part = await s.request(`/api/memories/${id}/content`, { cookie, headers: { range: 'bytes=10-19' } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe('bytes 10-19/100000');
      expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.subarray(10, 20));
      const tail = await s.request(`/api/memories/${id}/content`, { cookie, headers: { range: 'bytes=-5' } });
      expect(new Uint8Array(await tail.arrayBuffer())).toEqual(bytes.subarray(99_995));
      const open = await s.request(`/api/memories/${id}/content`, { cookie, headers: { range: 'bytes=99990-' } });
      expect([open.status, open.headers.get('content-length')]).toEqual([206, '10']);
      const outside = await s.request(`/api/memories/${id}/content`, { cookie, headers: { range: 'bytes=100000-' } });
      expect([outside.status, outside.headers.get('content-range'), (await body(outside)).error.code]).toEqual([416, 'bytes */100000', 'RANGE_NOT_SATISFIABLE']);
      expect((await s.request(`/api/memories/${id}/content`, { cookie, headers: { 'if-none-match': `"${sha(bytes)}"` } })).status).toBe(304);
    });

    it('never serves bytes as a page of this origin, nor to another user', async () => {
      const { cookie } = await newUser();
      const id = await memory(cookie, { memory_type: 'document', metadata: { mime_type: 'text/html' } });
      expect((await upload(cookie, id, new TextEncoder().encode('<script>alert(1)</script>'))).status).toBe(201);
      const r = await s.request(`/api/memories/${id}/content`, { cookie });
      expect(r.headers.get('content-type')).toBe('application/octet-stream');
      expect(r.headers.get('content-security-policy')).toContain('sandbox');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      const bob = await newUser();
      expect((await s.request(`/api/memories/${id}/content`, { cookie: bob.cookie })).status).toBe(404);
    });
  });

  describe('folders', () => {
    it('creates, renames, lists with counts and presence, shows its memories, deletes keeping the memories', async () => {
      const { cookie, userId } = await newUser();
      const f = uuidv7();
      const created = await s.request(`/api/folders/${f}`, { method: 'PUT', cookie, json: { title: 'Summer' } });
      expect(created.status).toBe(201);
      const renamed = await s.request(`/api/folders/${f}`, { method: 'PUT', cookie, json: { title: 'Summer 2026' } });
      expect(renamed.status).toBe(200);
      expect((await body(renamed)).folder).toMatchObject({ id: f, title: 'Summer 2026', memory_count: 0 });
      const seeded = [uuidv7(), uuidv7()].sort();
      await seedMemories(s.deps.db, userId, seeded, (i) => (i === 0 ? 'complete' : 'none'));
      for (const id of seeded) expect((await put(cookie, id, { memory_type: 'image', folder_id: f })).status).toBe(200);
      const other = await memory(cookie);

      const list = await body(await s.request('/api/folders', { cookie }));
      expect(list.folders).toEqual([
        expect.objectContaining({
          id: f,
          title: 'Summer 2026',
          memory_count: 2,
          presence: { total_memories: 2, icp_complete_memories: 1, icp_any_memories: 1, icp_complete: false, icp_any: true, icp_complete_percentage: 50, storage_status: 'partially_stored' },
        }),
      ]);
      const detail = await body(await s.request(`/api/folders/${f}`, { cookie }));
      expect(detail.folder.id).toBe(f);
      expect(detail.presence.storage_status).toBe('partially_stored');
      expect(detail.memories.map((m: Json) => m.id)).toEqual(seeded);
      expect(detail.memories[0].presence.overall_status).toBe('stored_forever');
      expect((await body(await s.request(`/api/folders/${f}?status=web2_only`, { cookie }))).memories.map((m: Json) => m.id)).toEqual([seeded[1]]);
      expect((await body(await s.request(`/api/memories?folder_id=${f}`, { cookie }))).memories.map((m: Json) => m.id)).toEqual(seeded);

      expect(await body(await s.request(`/api/folders/${f}`, { method: 'DELETE', cookie, headers: SAME_ORIGIN }))).toEqual({ deleted: true, memories_released: 2 });
      expect(await body(await s.request(`/api/folders/${f}`, { method: 'DELETE', cookie, headers: SAME_ORIGIN }))).toEqual({ deleted: false, memories_released: 0 });
      expect((await s.request(`/api/folders/${f}`, { cookie })).status).toBe(404);
      expect(await count('memories', userId)).toBe(3);
      expect((await body(await s.request(`/api/memories/${seeded[0]}`, { cookie }))).memory.folder_id).toBeNull();
      expect((await body(await s.request(`/api/memories/${other}`, { cookie }))).memory.folder_id).toBeNull();
    });

    it('refuses bad input with the cause, and keeps folders per user', async () => {
      const { cookie, userId } = await newUser();
      for (const [id, json, message] of [
        ['nope', { title: 'x' }, 'id: must be a lowercase UUID'],
        [uuidv7(), { title: '' }, 'title is empty'],
        [uuidv7(), { title: 'x'.repeat(TEXT_LIMITS.title + 1) }, 'title is longer than 512 bytes'],
        [uuidv7(), { title: 'x', extra: 1 }, undefined],
      ] as const) {
        const r = await s.request(`/api/folders/${id}`, { method: 'PUT', cookie, json });
        const b = await body(r);
        expect([r.status, b.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
        if (message) expect(b.error.message).toBe(message);
      }
      expect(await count('folders', userId)).toBe(0);
      const f = uuidv7();
      await s.request(`/api/folders/${f}`, { method: 'PUT', cookie, json: { title: 'mine' } });
      const bob = await newUser();
      expect((await s.request(`/api/folders/${f}`, { cookie: bob.cookie })).status).toBe(404);
      expect((await body(await s.request('/api/folders', { cookie: bob.cookie }))).folders).toEqual([]);
      expect(await body(await s.request(`/api/folders/${f}`, { method: 'DELETE', cookie: bob.cookie, headers: SAME_ORIGIN }))).toEqual({ deleted: false, memories_released: 0 });
      expect((await put(bob.cookie, uuidv7(), { memory_type: 'image', folder_id: f })).status).toBe(404);
    });
  });

  describe('GET /api/usage', () => {
    it('counts the stored blob copy and, separately, the ICP bytes recorded through present icp asset edges', async () => {
      const { cookie, userId } = await newUser();
      const id = await memory(cookie);
      expect((await upload(cookie, id, randomBytes(1234))).status).toBe(201);
      const icp = await memory(cookie);
      const now = new Date().toISOString();
      const edge = (memory_id: string, present: number, size: number) => ({ user_id: userId, memory_id, artifact: 'asset' as const, backend: 'icp' as const, present, location: null, content_hash: null, size, sync_state: 'idle' as const, error: null, created_at: now, updated_at: now });
      await s.deps.db.insertInto('storage_edges').values([edge(icp, 1, 5000), edge(id, 0, 777)]).execute();
      const u = await body(await s.request('/api/usage', { cookie }));
      expect(u).toMatchObject({ total_bytes: 1234, blob_bytes: 1234, icp_bytes: 5000, icp_assets: 1, memory_count: 2, store_forever_ops_month: 0 });
      expect(u.quota_bytes).toBeGreaterThan(0);
      expect(u.store_forever_ops_limit_month).toBeGreaterThan(0);
    });
  });
});
