// The development identity provider as a Hono app with absolute paths under
// `/ii` (mount with `app.route('/', iiApp)`): `GET /ii/` is the page auth-client opens
// (`identityProvider: <origin>/ii/`), `/ii/api/*` is what the page calls.
// The API answers only the page itself (same origin): another site cannot
// ask it for delegations.
import { Principal } from '@dfinity/principal';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { delegate, delegationExpiration, deriveUserKey, normalizeOrigin } from './derive.js';
import { resolveDerivationOrigin } from './derivation-origin.js';
import { IdentityNameError, IdentityStore } from './identity-store.js';
import { devIdentityProviderPage } from './page.js';

export const II_PATH = '/ii';

export interface DevIdentityProviderOptions {
  store: IdentityStore;
  /** Current time in ns (the local IC's clock, so delegations expire on its time). */
  nowNs?: () => bigint;
  /** Fetch used for `/.well-known/ii-alternative-origins` (tests inject one). */
  fetch?: typeof fetch;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const hexBytes = z.string().regex(/^([0-9a-f]{2})+$/i, 'hex bytes');

const DelegationRequest = z.object({
  anchor: z.number().int().positive(),
  origin: z.string().min(1),
  derivationOrigin: z.string().min(1).optional(),
  sessionPublicKey: hexBytes.max(2 * 512),
  maxTimeToLive: z.string().regex(/^\d{1,30}$/).optional(),
});

const CreateRequest = z.object({ name: z.string() });

function fail(c: Context, status: 400 | 403 | 404, code: string, message: string): Response {
  return c.json({ error: { code, message } }, status);
}

// Writes must come from the page: same origin (browsers always send Origin on POST).
function sameOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  return origin !== undefined && origin === new URL(c.req.url).origin;
}

export function createDevIdentityProviderApp(opts: DevIdentityProviderOptions): Hono {
  const { store } = opts;
  const nowNs = opts.nowNs ?? (() => BigInt(Date.now()) * 1_000_000n);
  const app = new Hono();

  app.get(II_PATH, (c) => c.redirect(`${II_PATH}/`, 301));
  app.get(`${II_PATH}/`, (c) => {
    c.header('cache-control', 'no-store');
    // Nobody may frame the page (clickjacking a confirmation).
    c.header('content-security-policy', "frame-ancestors 'none'");
    return c.html(devIdentityProviderPage());
  });

  app.get(`${II_PATH}/api/identities`, async (c) => {
    const origin = c.req.query('origin');
    let keyOrigin: string | undefined;
    if (origin) {
      try {
        keyOrigin = await resolveDerivationOrigin(normalizeOrigin(origin), c.req.query('derivationOrigin'), opts.fetch);
      } catch (error) {
        return fail(c, 400, 'INVALID_ORIGIN', (error as Error).message);
      }
    }
    return c.json({
      identities: store.list().map((i) => ({
        anchor: i.anchor,
        name: i.name,
        ...(keyOrigin ? { principal: deriveUserKey(i.secret, keyOrigin).principal.toText() } : {}),
      })),
    });
  });

  app.post(`${II_PATH}/api/identities`, async (c) => {
    if (!sameOrigin(c)) return fail(c, 403, 'FORBIDDEN', 'only the identity provider page may create identities');
    const body = CreateRequest.safeParse(await c.req.json().catch(() => null));
    if (!body.success) return fail(c, 400, 'BAD_REQUEST', 'expected {"name": string}');
    try {
      const i = await store.create(body.data.name);
      return c.json({ anchor: i.anchor, name: i.name }, 201);
    } catch (error) {
      if (error instanceof IdentityNameError) return fail(c, 400, 'BAD_REQUEST', error.message);
      throw error;
    }
  });

  app.post(`${II_PATH}/api/delegation`, async (c) => {
    if (!sameOrigin(c)) return fail(c, 403, 'FORBIDDEN', 'only the identity provider page may ask for delegations');
    const parsed = DelegationRequest.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return fail(c, 400, 'BAD_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const req = parsed.data;
    const identity = store.get(req.anchor);
    if (!identity) return fail(c, 404, 'NOT_FOUND', `no identity with anchor ${req.anchor}`);
    let keyOrigin: string;
    try {
      keyOrigin = await resolveDerivationOrigin(normalizeOrigin(req.origin), req.derivationOrigin, opts.fetch);
    } catch (error) {
      // A malformed origin (URL parsing) or a derivation origin that does not list this one.
      return fail(c, 400, 'INVALID_ORIGIN', (error as Error).message);
    }
    const sessionPublicKey = Buffer.from(req.sessionPublicKey, 'hex');
    const userKey = deriveUserKey(identity.secret, keyOrigin);
    const expiration = delegationExpiration(nowNs(), req.maxTimeToLive === undefined ? undefined : BigInt(req.maxTimeToLive));
    const signed = delegate(userKey, new Uint8Array(sessionPublicKey), expiration);
    return c.json({
      userPublicKey: hex(userKey.publicKeyDer),
      principal: userKey.principal.toText(),
      delegations: [
        {
          delegation: {
            pubkey: hex(signed.delegation.pubkey),
            expiration: signed.delegation.expiration.toString(),
            ...(signed.delegation.targets ? { targets: signed.delegation.targets.map((t: Principal) => t.toText()) } : {}),
          },
          signature: hex(signed.signature),
        },
      ],
    });
  });

  return app;
}
