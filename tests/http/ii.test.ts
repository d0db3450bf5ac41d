// The development identity provider's server side: identities kept in the
// data directory, a principal per identity and origin (stable, distinct),
// delegations the IC accepts (checked through the HTTP interface with the
// real agent), lifetime limits, alternative origins, and refusal of requests
// that do not come from the provider's own page.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Actor, HttpAgent } from '@dfinity/agent';
import { Delegation, DelegationChain, DelegationIdentity, ECDSAKeyIdentity, type SignedDelegation } from '@dfinity/identity';
import type { Principal } from '@dfinity/principal';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TTL_NS } from '../../canister/local/ii/derive.js';
import { IdentityStore } from '../../canister/local/ii/identity-store.js';
import { createLocalIcHttp } from '../../canister/local/http/local-ic-http.js';
import { echoBackend, type Backend } from './support/backends.js';
import { serveApp, type Served } from './support/serve.js';

interface DelegationAnswer {
  userPublicKey: string;
  principal: string;
  delegations: Array<{ delegation: { pubkey: string; expiration: string }; signature: string }>;
}

const APP = 'http://localhost:5173';

describe('development identity provider API', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'dev-ii-'));
  let backend: Backend;
  let served: Served;
  const alternatives = new Map<string, unknown>();

  beforeAll(async () => {
    backend = await echoBackend();
    const local = await createLocalIcHttp({ runtime: backend.runtime, dataDir });
    const app = new Hono();
    local.mount(app);
    served = await serveApp(app);
  });
  afterAll(async () => {
    await served?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = (p: string, body: unknown, origin = served.url) =>
    fetch(`${served.url}/ii/api/${p}`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify(body) });

  async function identities(origin?: string): Promise<Array<{ anchor: number; name: string; principal?: string }>> {
    const q = origin ? `?origin=${encodeURIComponent(origin)}` : '';
    return ((await (await fetch(`${served.url}/ii/api/identities${q}`)).json()) as { identities: Array<{ anchor: number; name: string; principal?: string }> })
      .identities;
  }

  it('creates identities with increasing anchors and keeps them in the data directory', async () => {
    const a = await post('identities', { name: ' Alice ' });
    expect(a.status).toBe(201);
    expect(await a.json()).toEqual({ anchor: 10_000, name: 'Alice' });
    expect(await (await post('identities', { name: 'Bob' })).json()).toEqual({ anchor: 10_001, name: 'Bob' });
    expect((await post('identities', { name: '   ' })).status).toBe(400);
    const stored = JSON.parse(readFileSync(path.join(dataDir, 'ii', 'identities.json'), 'utf8')) as Array<{ secret: string }>;
    expect(stored).toHaveLength(2);
    // Reopened from disk (a restart), the same identities have the same principals.
    const reopened = await IdentityStore.open(dataDir);
    expect(reopened.list().map((i) => i.anchor)).toEqual([10_000, 10_001]);
  });

  it('gives each identity one stable principal per origin, different across origins and identities', async () => {
    const here = await identities(APP);
    const again = await identities(APP);
    const elsewhere = await identities('http://127.0.0.1:3000');
    expect(here.map((i) => i.principal)).toEqual(again.map((i) => i.principal));
    expect(new Set([...here, ...elsewhere].map((i) => i.principal)).size).toBe(4);
    // Without an origin there is nothing to derive.
    expect((await identities())[0].principal).toBeUndefined();
  });

  it('answers with a delegation chain the IC accepts for the session key', async () => {
    const session = await ECDSAKeyIdentity.generate();
    const r = await post('delegation', {
      anchor: 10_000,
      origin: APP,
      sessionPublicKey: Buffer.from(session.getPublicKey().toDer()).toString('hex'),
      maxTimeToLive: String(3600n * 1_000_000_000n),
    });
    expect(r.status).toBe(200);
    const answer = (await r.json()) as DelegationAnswer;
    expect(answer.principal).toBe((await identities(APP))[0].principal);
    const expiration = BigInt(answer.delegations[0].delegation.expiration);
    const expectedNs = BigInt(Date.now() + 3600_000) * 1_000_000n;
    expect(Number((expiration - expectedNs) / 1_000_000_000n)).toBeLessThan(5);
    // As auth-client builds it from the postMessage answer.
    const chain = DelegationChain.fromDelegations(
      answer.delegations.map(
        (d): SignedDelegation => ({
          delegation: new Delegation(Buffer.from(d.delegation.pubkey, 'hex'), BigInt(d.delegation.expiration)),
          signature: Buffer.from(d.signature, 'hex') as unknown as SignedDelegation['signature'],
        }),
      ),
      Buffer.from(answer.userPublicKey, 'hex') as unknown as Parameters<typeof DelegationChain.fromDelegations>[1],
    );
    const agent = await HttpAgent.create({ host: served.url, shouldFetchRootKey: true, identity: DelegationIdentity.fromDelegation(session, chain) });
    const actor = Actor.createActor<{ whoami(): Promise<Principal> }>(backend.idl, { agent, canisterId: backend.canisterId });
    expect((await actor.whoami()).toText()).toBe(answer.principal);
  });

  it('caps the lifetime at 30 days and defaults to 30 minutes', async () => {
    const session = Buffer.from((await ECDSAKeyIdentity.generate()).getPublicKey().toDer()).toString('hex');
    const now = BigInt(Date.now()) * 1_000_000n;
    const long = (await (await post('delegation', { anchor: 10_000, origin: APP, sessionPublicKey: session, maxTimeToLive: String(MAX_TTL_NS * 10n) })).json()) as DelegationAnswer;
    expect(BigInt(long.delegations[0].delegation.expiration) - now).toBeLessThanOrEqual(MAX_TTL_NS + 5_000_000_000n);
    const dflt = (await (await post('delegation', { anchor: 10_000, origin: APP, sessionPublicKey: session })).json()) as DelegationAnswer;
    const ttl = BigInt(dflt.delegations[0].delegation.expiration) - now;
    expect(ttl > 29n * 60n * 1_000_000_000n && ttl <= 31n * 60n * 1_000_000_000n).toBe(true);
  });

  it('refuses writes that do not come from its own page', async () => {
    expect((await post('identities', { name: 'Mallory' }, 'http://evil.example')).status).toBe(403);
    const r = await post('delegation', { anchor: 10_000, origin: APP, sessionPublicKey: '00'.repeat(44) }, 'http://evil.example');
    expect(r.status).toBe(403);
    const noOrigin = await fetch(`${served.url}/ii/api/identities`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' });
    expect(noOrigin.status).toBe(403);
    expect((await identities()).map((i) => i.name)).not.toContain('Mallory');
  });

  it('refuses unknown anchors and malformed requests', async () => {
    expect((await post('delegation', { anchor: 99, origin: APP, sessionPublicKey: 'ab'.repeat(44) })).status).toBe(404);
    expect((await post('delegation', { anchor: 10_000, origin: 'javascript:alert(1)', sessionPublicKey: 'ab'.repeat(44) })).status).toBe(400);
    expect((await post('delegation', { anchor: 10_000, origin: APP, sessionPublicKey: 'xyz' })).status).toBe(400);
  });

  describe('alternative origins', () => {
    let other: Served;
    beforeAll(async () => {
      const app = new Hono();
      app.get('/.well-known/ii-alternative-origins', (c) => c.json(alternatives.get('list') ?? {}));
      other = await serveApp(app);
    });
    afterAll(async () => other?.close());

    it('derives from derivationOrigin only when it lists the requesting origin', async () => {
      const session = 'ab'.repeat(44);
      alternatives.set('list', { alternativeOrigins: [APP] });
      const ok = await post('delegation', { anchor: 10_001, origin: APP, derivationOrigin: other.url, sessionPublicKey: session });
      expect(ok.status).toBe(200);
      const bobThere = (await identities(other.url)).find((i) => i.anchor === 10_001)?.principal;
      expect(((await ok.json()) as DelegationAnswer).principal).toBe(bobThere);

      alternatives.set('list', { alternativeOrigins: ['https://someone-else.example'] });
      const refused = await post('delegation', { anchor: 10_001, origin: APP, derivationOrigin: other.url, sessionPublicKey: session });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(`is not a valid derivation origin for "${APP}"`);
    });
  });

  it('serves the page that speaks the authorize-client protocol, not frameable', async () => {
    const r = await fetch(`${served.url}/ii/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const html = await r.text();
    for (const s of ["kind: 'authorize-ready'", "'authorize-client'", "kind: 'authorize-client-success'", "kind: 'authorize-client-failure'"]) {
      expect(html).toContain(s);
    }
    const redirect = await fetch(`${served.url}/ii`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/ii/');
  });
});
