// Sign-in (challenge -> canister proof -> verify -> HttpOnly session) and ICP
// presence verification of storage edges, on both engines. The canister side
// is the server's IC port (PrincipalResolver / PresenceVerifier) answered by an
// in-memory witness that records what a client proved; the real canister
// behind @dfinity/agent plugs into the same port (server/ic/canister-client.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { IcUnavailableError, type IcMemoryPresence, type PresenceVerifier, type PrincipalResolver } from '../../server/ic/types.js';
import { ENGINES } from './support/database.js';
import { startTestServer, type TestServer } from './support/server.js';

type Json = Record<string, any>;
const body = async (r: Response): Promise<Json> => (await r.json()) as Json;

class CanisterWitness implements PrincipalResolver, PresenceVerifier {
  proofs = new Map<string, string>();
  presenceByOwner = new Map<string, Map<string, IcMemoryPresence>>();
  claims: Array<string | undefined> = [];
  down = false;
  async noncePrincipal(nonce: string, claimed?: string) {
    if (this.down) throw new IcUnavailableError('down');
    this.claims.push(claimed);
    return this.proofs.get(nonce) ?? null;
  }
  async presence(owner: string, ids: readonly string[]) {
    if (this.down) throw new IcUnavailableError('down');
    const mine = this.presenceByOwner.get(owner) ?? new Map();
    return new Map(ids.filter((id) => mine.has(id)).map((id) => [id, mine.get(id)!]));
  }
  store(owner: string, p: IcMemoryPresence) {
    if (!this.presenceByOwner.has(owner)) this.presenceByOwner.set(owner, new Map());
    this.presenceByOwner.get(owner)!.set(p.memory_id, p);
  }
}

const PRINCIPAL = 'xkbqi-2qaaa-aaaah-qbpqq-cai';

describe.each(ENGINES)('sign-in and presence verification on %s', (engine) => {
  let s: TestServer;
  const witness = new CanisterWitness();
  let clock = new Date('2026-05-01T10:00:00.000Z');

  beforeAll(async () => {
    s = await startTestServer(engine, { principalResolver: witness, presenceVerifier: witness, now: () => clock, nonceTtlMs: 60_000 });
  });
  afterAll(async () => s?.close());

  async function signIn(principal: string): Promise<string> {
    const { nonce } = await body(await s.request('/api/auth/challenge'));
    witness.proofs.set(nonce, principal);
    const r = await s.request('/api/auth/verify', { method: 'POST', json: { nonce } });
    expect(r.status).toBe(200);
    return r.headers.get('set-cookie')!.split(';')[0];
  }

  it('opens an HttpOnly session for the principal the canister names', async () => {
    const challenge = await s.request('/api/auth/challenge');
    expect(challenge.headers.get('cache-control')).toBe('no-store');
    const { nonce, expires_at } = await body(challenge);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(expires_at).toBe('2026-05-01T10:01:00.000Z');
    witness.proofs.set(nonce, PRINCIPAL);
    const r = await s.request('/api/auth/verify', { method: 'POST', json: { nonce } });
    expect(r.status).toBe(200);
    expect((await body(r)).principal).toBe(PRINCIPAL);
    const setCookie = r.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^forever_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    const cookie = setCookie.split(';')[0];
    expect(await body(await s.request('/api/auth/me', { cookie }))).toMatchObject({ principal: PRINCIPAL });
    // The token is stored hashed only.
    const rows = await s.deps.db.selectFrom('sessions').select('token_hash').execute();
    expect(rows.map((r) => r.token_hash)).not.toContain(cookie.split('=')[1]);
    // Same principal again: same user.
    const again = await signIn(PRINCIPAL);
    expect((await body(await s.request('/api/auth/me', { cookie: again }))).user_id).toBe((await body(await s.request('/api/auth/me', { cookie }))).user_id);
    // Logout ends that session only.
    expect((await s.request('/api/auth/logout', { method: 'POST', cookie, headers: { 'content-type': 'application/json' } })).status).toBe(200);
    expect((await s.request('/api/auth/me', { cookie })).status).toBe(401);
    expect((await s.request('/api/auth/me', { cookie: again })).status).toBe(200);
  });

  it('spends a nonce once, refuses unproven, expired and malformed nonces', async () => {
    const { nonce } = await body(await s.request('/api/auth/challenge'));
    witness.proofs.set(nonce, PRINCIPAL);
    expect((await s.request('/api/auth/verify', { method: 'POST', json: { nonce } })).status).toBe(200);
    const replay = await s.request('/api/auth/verify', { method: 'POST', json: { nonce } });
    expect(replay.status).toBe(401);
    expect((await body(replay)).error.code).toBe('INVALID_NONCE');

    const unproven = await body(await s.request('/api/auth/challenge'));
    const r = await s.request('/api/auth/verify', { method: 'POST', json: { nonce: unproven.nonce } });
    expect(r.status).toBe(401);
    expect(r.headers.get('set-cookie')).toBeNull();

    const late = await body(await s.request('/api/auth/challenge'));
    witness.proofs.set(late.nonce, PRINCIPAL);
    clock = new Date(clock.getTime() + 61_000);
    expect((await s.request('/api/auth/verify', { method: 'POST', json: { nonce: late.nonce } })).status).toBe(401);

    const invented = 'A'.repeat(32);
    witness.proofs.set(invented, PRINCIPAL);
    expect((await s.request('/api/auth/verify', { method: 'POST', json: { nonce: invented } })).status).toBe(401);
    for (const json of [{}, { nonce: 'short' }, { nonce: 'x'.repeat(200) }, { nonce: 'a b c d e f g h i j k' }]) {
      const bad = await s.request('/api/auth/verify', { method: 'POST', json });
      expect(bad.status).toBe(400);
    }
  });

  it("passes the principal the client names on to the IC port (whose bucket holds the proof), refusing a malformed one", async () => {
    const { nonce } = await body(await s.request('/api/auth/challenge'));
    witness.proofs.set(nonce, PRINCIPAL);
    witness.claims = [];
    const r = await s.request('/api/auth/verify', { method: 'POST', json: { nonce, principal: PRINCIPAL } });
    expect(r.status).toBe(200);
    expect(witness.claims).toEqual([PRINCIPAL]);
    for (const principal of ['not a principal', 'aaaaa-aaaaa', PRINCIPAL.toUpperCase(), 'x'.repeat(64), 7]) {
      const again = await body(await s.request('/api/auth/challenge'));
      const bad = await s.request('/api/auth/verify', { method: 'POST', json: { nonce: again.nonce, principal } });
      expect(bad.status).toBe(400);
    }
    // Refused before the IC was asked.
    expect(witness.claims).toEqual([PRINCIPAL]);
  });

  it('never opens a session for the anonymous principal', async () => {
    const { nonce } = await body(await s.request('/api/auth/challenge'));
    witness.proofs.set(nonce, '2vxsx-fae');
    const r = await s.request('/api/auth/verify', { method: 'POST', json: { nonce } });
    expect(r.status).toBe(401);
    expect(r.headers.get('set-cookie')).toBeNull();
    expect(await s.deps.db.selectFrom('users').select('id').where('principal', '=', '2vxsx-fae').execute()).toEqual([]);
  });

  it('answers 502 when the canister cannot be reached, opening no session', async () => {
    const { nonce } = await body(await s.request('/api/auth/challenge'));
    witness.proofs.set(nonce, PRINCIPAL);
    witness.down = true;
    try {
      const r = await s.request('/api/auth/verify', { method: 'POST', json: { nonce } });
      expect(r.status).toBe(502);
      expect((await body(r)).error.code).toBe('IC_UNAVAILABLE');
      expect(r.headers.get('set-cookie')).toBeNull();
    } finally {
      witness.down = false;
    }
  });

  it('marks an icp edge present only when the canister confirms it for this principal', async () => {
    const cookie = await signIn(PRINCIPAL);
    const [a, b, c] = [uuidv7(), uuidv7(), uuidv7()];
    for (const id of [a, b, c]) await s.request(`/api/memories/${id}`, { method: 'PUT', cookie, json: { memory_type: 'image' } });
    const hash = 'd'.repeat(64);
    witness.store(PRINCIPAL, { memory_id: a, metadata_present: true, asset_present: true, sha256: hash, size: 5 });
    witness.store(PRINCIPAL, { memory_id: b, metadata_present: true, asset_present: false, sha256: null, size: null });
    // Another principal's canister data does not count for this one.
    witness.store('rrkah-fqaaa-aaaaa-aaaaq-cai', { memory_id: c, metadata_present: true, asset_present: true, sha256: hash, size: 5 });
    const put = (edges: unknown[]) => s.request('/api/storage/edges', { method: 'PUT', cookie, json: { edges } });
    const icpCount = async () =>
      (await s.deps.db.selectFrom('storage_edges').select('memory_id').where('backend', '=', 'icp').where('present', '=', 1).execute()).length;

    const before = await icpCount();
    for (const edges of [
      [{ memory_id: b, artifact: 'asset', backend: 'icp', present: true }],
      [{ memory_id: c, artifact: 'metadata', backend: 'icp', present: true }],
      [{ memory_id: a, artifact: 'asset', backend: 'icp', present: true, content_hash: 'e'.repeat(64) }],
      [
        { memory_id: a, artifact: 'metadata', backend: 'icp', present: true },
        { memory_id: b, artifact: 'asset', backend: 'icp', present: true },
      ],
    ]) {
      const r = await put(edges);
      expect(r.status).toBe(409);
      expect((await body(r)).error.code).toBe('ICP_PRESENCE_UNCONFIRMED');
    }
    expect(await icpCount()).toBe(before);

    const ok = await put([
      { memory_id: a, artifact: 'metadata', backend: 'icp', present: true },
      { memory_id: a, artifact: 'asset', backend: 'icp', present: true, content_hash: hash, size: 5 },
      { memory_id: b, artifact: 'metadata', backend: 'icp', present: true },
    ]);
    expect(ok.status).toBe(200);
    expect(await icpCount()).toBe(before + 3);
    const presence = await body(await s.request('/api/memories/presence', { method: 'POST', cookie, json: { ids: [a, b, c] } }));
    expect(presence.memories.map((m: Json) => m.overall_status)).toEqual(['stored_forever', 'partially_stored', 'web2_only']);
    const gid = uuidv7();
    await s.request(`/api/galleries/${gid}`, { method: 'PUT', cookie, json: { title: 'g', memory_ids: [a, b, c] } });
    expect(await body(await s.request(`/api/galleries/${gid}/presence`, { cookie }))).toMatchObject({
      total_memories: 3,
      icp_complete_memories: 1,
      icp_any_memories: 2,
      icp_complete_percentage: 33,
      storage_status: 'partially_stored',
    });
  });
});
