// API tests over the real app and a real database, on both engines: every
// metadata route, its bad input (typed 4xx, nothing written), and isolation
// between principals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { TEXT_LIMITS } from '../../contract/index.js';
import { ENGINES } from './support/database.js';
import { ALICE, BOB, startTestServer, type TestServer } from './support/server.js';

type Json = Record<string, any>;
const body = async (r: Response): Promise<Json> => (await r.json()) as Json;

describe.each(ENGINES)('server API on %s', (engine) => {
  let s: TestServer;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    s = await startTestServer(engine);
    alice = await s.signIn(ALICE);
    bob = await s.signIn(BOB);
  });
  afterAll(async () => s?.close());

  const count = async (table: 'memories' | 'galleries' | 'storage_edges' | 'gallery_memories'): Promise<number> =>
    Number((await s.deps.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  const putMemory = (id: string, cookie = alice, json: unknown = { memory_type: 'image', title: 't' }) =>
    s.request(`/api/memories/${id}`, { method: 'PUT', cookie, json });

  it('answers /healthz', async () => {
    const r = await s.request('/healthz');
    expect(r.status).toBe(200);
    expect(await body(r)).toEqual({ status: 'ok', engine });
  });

  it('refuses every API route without a session (401, typed)', async () => {
    for (const [method, path] of [
      ['GET', '/api/memories'],
      ['PUT', `/api/memories/${uuidv7()}`],
      ['GET', '/api/galleries'],
      ['PUT', '/api/storage/edges'],
      ['GET', '/api/storage/edges'],
      ['POST', `/api/upload_file?memory_id=${uuidv7()}`],
      ['GET', `/api/upload_queue/${uuidv7()}`],
      ['GET', '/api/usage'],
      ['GET', '/api/auth/me'],
    ] as const) {
      const r = await s.request(path, { method });
      expect(r.status, `${method} ${path}`).toBe(401);
      expect((await body(r)).error.code).toBe('UNAUTHENTICATED');
    }
    const forged = await s.request('/api/memories', { cookie: 'forever_session=forged' });
    expect(forged.status).toBe(401);
  });

  it('creates a memory once and updates it idempotently by id', async () => {
    const id = uuidv7();
    const first = await putMemory(id, alice, { memory_type: 'image', title: 'Beach', metadata: { w: 10 } });
    expect(first.status).toBe(201);
    expect((await body(first)).created).toBe(true);
    const again = await putMemory(id, alice, { memory_type: 'image', title: 'Beach', metadata: { w: 10 } });
    expect(again.status).toBe(200);
    const b = await body(again);
    expect(b.created).toBe(false);
    expect(b.memory).toMatchObject({ id, memory_type: 'image', title: 'Beach', metadata: { w: 10 } });
    const got = await body(await s.request(`/api/memories/${id}`, { cookie: alice }));
    expect(got.memory.title).toBe('Beach');
    expect(got.presence.overall_status).toBe('web2_only');
    const conflict = await putMemory(id, alice, { memory_type: 'video' });
    expect(conflict.status).toBe(409);
    expect((await body(conflict)).error.code).toBe('CONFLICT');
  });

  it('rejects bad memory input with typed errors and writes nothing', async () => {
    const before = await count('memories');
    const cases: Array<[string, unknown, number, string]> = [
      ['NOT-A-UUID', { memory_type: 'image' }, 400, 'INVALID_ARGUMENT'],
      [uuidv4().toUpperCase(), { memory_type: 'image' }, 400, 'INVALID_ARGUMENT'],
      [uuidv7(), { memory_type: 'hologram' }, 400, 'INVALID_ARGUMENT'],
      [uuidv7(), { memory_type: 'image', extra: 1 }, 400, 'INVALID_ARGUMENT'],
      [uuidv7(), { memory_type: 'image', title: 'x'.repeat(TEXT_LIMITS.title + 1) }, 400, 'INVALID_ARGUMENT'],
    ];
    for (const [id, json, status, code] of cases) {
      const r = await putMemory(id, alice, json);
      expect(r.status, JSON.stringify(json)).toBe(status);
      expect((await body(r)).error.code).toBe(code);
    }
    const notJson = await s.request(`/api/memories/${uuidv7()}`, { method: 'PUT', cookie: alice, body: 'memory_type=image', headers: { 'content-type': 'text/plain', origin: 'http://localhost' } });
    expect(notJson.status).toBe(415);
    const malformed = await s.request(`/api/memories/${uuidv7()}`, { method: 'PUT', cookie: alice, body: '{"memory_type":', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect((await body(malformed)).error.code).toBe('BAD_REQUEST');
    const huge = await s.request(`/api/memories/${uuidv7()}`, {
      method: 'PUT',
      cookie: alice,
      json: { memory_type: 'note', metadata: { blob: 'x'.repeat(300 * 1024) } },
    });
    expect(huge.status).toBe(413);
    expect((await body(huge)).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await count('memories')).toBe(before);
  });

  it("hides another principal's memories and galleries (404, never 403)", async () => {
    const id = uuidv7();
    expect((await putMemory(id, alice)).status).toBe(201);
    const gid = uuidv7();
    expect((await s.request(`/api/galleries/${gid}`, { method: 'PUT', cookie: alice, json: { title: 'A', memory_ids: [id] } })).status).toBe(201);
    for (const path of [`/api/memories/${id}`, `/api/memories/${id}/presence`, `/api/galleries/${gid}`, `/api/galleries/${gid}/presence`, `/api/galleries/${gid}/memories`]) {
      const r = await s.request(path, { cookie: bob });
      expect(r.status, path).toBe(404);
      expect((await body(r)).error.code).toBe('NOT_FOUND');
    }
    // Bob cannot put Alice's memory into his gallery, nor edges on it.
    const edgesBefore = await count('storage_edges');
    const g = await s.request(`/api/galleries/${uuidv7()}`, { method: 'PUT', cookie: bob, json: { title: 'B', memory_ids: [id] } });
    expect(g.status).toBe(404);
    const e = await s.request('/api/storage/edges', { method: 'PUT', cookie: bob, json: { edges: [{ memory_id: id, artifact: 'metadata', backend: 'neon', present: true }] } });
    expect(e.status).toBe(404);
    expect(await count('storage_edges')).toBe(edgesBefore);
    const list = await body(await s.request('/api/memories?limit=1000', { cookie: bob }));
    expect(list.memories.map((m: Json) => m.id)).not.toContain(id);
    const batch = await body(await s.request('/api/memories/presence', { method: 'POST', cookie: bob, json: { ids: [id] } }));
    expect(batch.memories).toEqual([]);
  });

  it('lists memories with a cursor', async () => {
    const cookie = await s.signIn('2vxsx-fae-list-user');
    const ids = Array.from({ length: 5 }, () => uuidv7());
    for (const id of ids) expect((await putMemory(id, cookie)).status).toBe(201);
    const p1 = await body(await s.request('/api/memories?limit=3', { cookie }));
    expect(p1.memories.map((m: Json) => m.id)).toEqual([...ids].sort().slice(0, 3));
    const p2 = await body(await s.request(`/api/memories?limit=3&cursor=${p1.next_cursor}`, { cookie }));
    expect(p2.memories.map((m: Json) => m.id)).toEqual([...ids].sort().slice(3));
    expect(p2.next_cursor).toBeNull();
    expect((await s.request('/api/memories?limit=0', { cookie })).status).toBe(400);
    expect((await s.request('/api/memories?cursor=zzz', { cookie })).status).toBe(400);
  });

  describe('storage edges', () => {
    let memories: string[];
    beforeAll(async () => {
      memories = Array.from({ length: 3 }, () => uuidv7());
      for (const id of memories) await putMemory(id, alice, { memory_type: id === memories[2] ? 'note' : 'image' });
    });

    it('upserts a batch idempotently and filters reads', async () => {
      const edges = [
        { memory_id: memories[0], artifact: 'metadata', backend: 'neon', present: true },
        { memory_id: memories[0], artifact: 'asset', backend: 'blob', present: true, content_hash: 'a'.repeat(64), size: 10, location: 'blob:x' },
        { memory_id: memories[1], artifact: 'asset', backend: 'blob', present: false, sync_state: 'migrating' },
      ];
      for (let i = 0; i < 2; i++) {
        const r = await s.request('/api/storage/edges', { method: 'PUT', cookie: alice, json: { edges } });
        expect(r.status).toBe(200);
        expect(await body(r)).toEqual({ upserted: 3 });
      }
      const all = await body(await s.request(`/api/storage/edges?memory_id=${memories[0]}`, { cookie: alice }));
      expect(all.edges).toHaveLength(2);
      const blob = await body(await s.request('/api/storage/edges?backend=blob&sync_state=migrating', { cookie: alice }));
      expect(blob.edges.map((e: Json) => e.memory_id)).toEqual([memories[1]]);
      const images = await body(await s.request('/api/storage/edges?memory_type=note', { cookie: alice }));
      expect(images.edges).toEqual([]);
      const present = await body(await s.request('/api/storage/edges?present=true&artifact=asset', { cookie: alice }));
      expect(present.edges).toHaveLength(1);
      expect(present.edges[0]).toMatchObject({ size: 10, content_hash: 'a'.repeat(64), present: true, sync_state: 'idle' });
      // Update flips state in place.
      await s.request('/api/storage/edges', {
        method: 'PUT',
        cookie: alice,
        json: { edges: [{ memory_id: memories[1], artifact: 'asset', backend: 'blob', present: false, sync_state: 'failed', error: 'disk full' }] },
      });
      const failed = await body(await s.request('/api/storage/edges?sync_state=failed', { cookie: alice }));
      expect(failed.edges).toHaveLength(1);
      expect(failed.edges[0].error).toBe('disk full');
    });

    it('pages edge reads with an opaque cursor', async () => {
      const p1 = await body(await s.request('/api/storage/edges?limit=1', { cookie: alice }));
      expect(p1.edges).toHaveLength(1);
      const p2 = await body(await s.request(`/api/storage/edges?limit=1&cursor=${p1.next_cursor}`, { cookie: alice }));
      expect(p2.edges[0]).not.toEqual(p1.edges[0]);
      const bad = await s.request('/api/storage/edges?cursor=bm9wZQ', { cookie: alice });
      expect(bad.status).toBe(400);
    });

    it('rejects bad edges with typed errors and writes nothing', async () => {
      const before = await count('storage_edges');
      const ok = { memory_id: memories[2], artifact: 'metadata', backend: 'neon', present: true };
      const cases: unknown[] = [
        { edges: [] },
        { edges: [{ ...ok, memory_id: 'nope' }] },
        { edges: [{ ...ok, backend: 's3' }] },
        { edges: [{ ...ok, artifact: 'thumbnail' }] },
        { edges: [{ ...ok, size: -1 }] },
        { edges: [{ ...ok, size: 2 ** 60 }] },
        { edges: [{ ...ok, size: 1.5 }] },
        { edges: [{ ...ok, content_hash: 'xyz' }] },
        { edges: [{ ...ok, sync_state: 'done' }] },
        { edges: [ok, ok] },
        { edges: [ok, { ...ok, memory_id: uuidv7() }] },
        { edges: Array.from({ length: 5001 }, () => ok) },
      ];
      for (const json of cases) {
        const r = await s.request('/api/storage/edges', { method: 'PUT', cookie: alice, json });
        expect([400, 404, 413], JSON.stringify(json).slice(0, 120)).toContain(r.status);
        expect(['INVALID_ARGUMENT', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE']).toContain((await body(r)).error.code);
      }
      for (const q of ['backend=s3', 'artifact=x', 'memory_id=1', 'limit=100000', 'sync_state=nope', 'memory_type=gif']) {
        const r = await s.request(`/api/storage/edges?${q}`, { cookie: alice });
        expect(r.status, q).toBe(400);
      }
      expect(await count('storage_edges')).toBe(before);
    });

    it('refuses an icp edge the canister cannot confirm (IC unreachable: 502, nothing written)', async () => {
      const before = await count('storage_edges');
      const r = await s.request('/api/storage/edges', {
        method: 'PUT',
        cookie: alice,
        json: { edges: [{ memory_id: memories[2], artifact: 'metadata', backend: 'neon', present: true }, { memory_id: memories[2], artifact: 'metadata', backend: 'icp', present: true }] },
      });
      expect(r.status).toBe(502);
      expect((await body(r)).error.code).toBe('IC_UNAVAILABLE');
      expect(await count('storage_edges')).toBe(before);
      // An icp edge that claims absence needs no confirmation.
      const absent = await s.request('/api/storage/edges', {
        method: 'PUT',
        cookie: alice,
        json: { edges: [{ memory_id: memories[2], artifact: 'metadata', backend: 'icp', present: false, sync_state: 'migrating' }] },
      });
      expect(absent.status).toBe(200);
    });

    it('upserts 1,000 edges in one request', async () => {
      const cookie = await s.signIn('aaaaa-aa-bulk-user');
      const ids = Array.from({ length: 500 }, () => uuidv7());
      for (const id of ids) await s.deps.db.insertInto('memories').values({ user_id: (await body(await s.request('/api/auth/me', { cookie }))).user_id, id, memory_type: 'image', title: null, description: null, metadata: '{}', created_at: new Date().toISOString(), updated_at: new Date().toISOString() }).execute();
      const edges = ids.flatMap((memory_id) => [
        { memory_id, artifact: 'metadata', backend: 'neon', present: true },
        { memory_id, artifact: 'asset', backend: 'blob', present: true, size: 1234, content_hash: 'b'.repeat(64) },
      ]);
      const r = await s.request('/api/storage/edges', { method: 'PUT', cookie, json: { edges } });
      expect(r.status).toBe(200);
      expect(await body(r)).toEqual({ upserted: 1000 });
      const n = await s.deps.db
        .selectFrom('storage_edges')
        .innerJoin('users', 'users.id', 'storage_edges.user_id')
        .where('users.principal', '=', 'aaaaa-aa-bulk-user')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(n.n)).toBe(1000);
    });
  });

  describe('galleries and presence', () => {
    it('creates, replaces and reports a gallery with presence counts', async () => {
      const ids = Array.from({ length: 4 }, () => uuidv7());
      for (const id of ids) await putMemory(id);
      const gid = uuidv7();
      const r = await s.request(`/api/galleries/${gid}`, { method: 'PUT', cookie: alice, json: { title: 'Trip', memory_ids: ids } });
      expect(r.status).toBe(201);
      expect((await body(r)).gallery.memory_count).toBe(4);
      const p = await body(await s.request(`/api/galleries/${gid}/presence`, { cookie: alice }));
      expect(p).toMatchObject({ gallery_id: gid, total_memories: 4, icp_complete_memories: 0, icp_complete_percentage: 0, storage_status: 'web2_only' });
      const again = await s.request(`/api/galleries/${gid}`, { method: 'PUT', cookie: alice, json: { title: 'Trip 2', memory_ids: ids.slice(0, 2) } });
      expect(again.status).toBe(200);
      const got = await body(await s.request(`/api/galleries/${gid}`, { cookie: alice }));
      expect(got.gallery).toMatchObject({ title: 'Trip 2', memory_count: 2 });
      const members = await body(await s.request(`/api/galleries/${gid}/memories?limit=10`, { cookie: alice }));
      expect(members.memory_ids).toEqual(ids.slice(0, 2));
      const viaGet = await body(await s.request(`/api/galleries/presence?ids=${gid}`, { cookie: alice }));
      expect(viaGet.galleries).toHaveLength(1);
      expect(viaGet.galleries[0].total_memories).toBe(2);
      const list = await body(await s.request('/api/galleries', { cookie: alice }));
      expect(list.galleries.find((g: Json) => g.id === gid).presence.total_memories).toBe(2);
    });

    it('rejects bad gallery input and writes nothing', async () => {
      const id = uuidv7();
      await putMemory(id);
      const before = [await count('galleries'), await count('gallery_memories')];
      const cases: Array<[string, unknown]> = [
        ['nope', { title: 'x' }],
        [uuidv7(), { title: '' }],
        [uuidv7(), { title: 'x', memory_ids: ['bad'] }],
        [uuidv7(), { title: 'x', memory_ids: [id, id] }],
        [uuidv7(), { title: 'x', memory_ids: [id, uuidv7()] }],
      ];
      for (const [gid, json] of cases) {
        const r = await s.request(`/api/galleries/${gid}`, { method: 'PUT', cookie: alice, json });
        expect([400, 404]).toContain(r.status);
      }
      expect([await count('galleries'), await count('gallery_memories')]).toEqual(before);
      expect((await s.request('/api/galleries/presence', { method: 'POST', cookie: alice, json: { ids: ['x'] } })).status).toBe(400);
      expect((await s.request('/api/memories/presence?ids=a,b', { cookie: alice })).status).toBe(400);
    });
  });
});
