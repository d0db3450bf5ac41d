// Sign-in with the canister as witness:
//   GET  /api/auth/challenge  -> { nonce, expires_at }
//   (client calls the canister's prove_principal(nonce) as itself)
//   POST /api/auth/verify     { nonce, principal? } -> the server asks nonce_principal(nonce)
//                             of that principal's bucket (the index names it),
//                             opens an HttpOnly session for that principal
//   POST /api/auth/logout, GET /api/auth/me
import { Hono } from 'hono';
import { consumeNonce, issueNonce } from '../auth/nonces.js';
import { closeSession, openSession, userForPrincipal } from '../auth/sessions.js';
import type { ServerDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import type { AppEnv } from '../http/env.js';
import { clearSessionCookie, requireUser, sessionToken, setSessionCookie } from '../http/session.js';
import { validate } from '../http/validate.js';
import { IcUnavailableError } from '../ic/types.js';
import { verifyInput } from '../schemas.js';

const ANONYMOUS_PRINCIPAL = '2vxsx-fae';

export function authRoutes(deps: ServerDeps) {
  return new Hono<AppEnv>()
    .get('/challenge', async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(await issueNonce(deps, deps.limits.nonceTtlMs));
    })
    .post('/verify', validate('json', verifyInput), async (c) => {
      const { nonce, principal: claimed } = c.req.valid('json');
      // Single use: the nonce is spent before the canister is asked, so a
      // replay (or a second verify racing the first) always fails.
      if (!(await consumeNonce(deps, nonce))) throw new ApiError('INVALID_NONCE', 'unknown, used or expired nonce');
      let principal: string | null;
      try {
        principal = await deps.principalResolver.noncePrincipal(nonce, claimed);
      } catch (error) {
        if (error instanceof IcUnavailableError) throw new ApiError('IC_UNAVAILABLE', 'could not reach the canister');
        throw error;
      }
      // The anonymous principal proves nothing and may not write.
      if (!principal || principal === ANONYMOUS_PRINCIPAL) throw new ApiError('INVALID_NONCE', 'the canister has no proof for this nonce');
      const user = await userForPrincipal(deps, principal);
      const session = await openSession(deps, user.id, deps.limits.sessionTtlMs);
      setSessionCookie(c, session.token, session.expires_at, deps.limits.secureCookies);
      deps.logger.info('SignedIn', { user_id: user.id, principal });
      return c.json({ principal, user_id: user.id, expires_at: session.expires_at.toISOString() });
    })
    .post('/logout', async (c) => {
      const token = sessionToken(c);
      if (token) await closeSession(deps, token);
      clearSessionCookie(c);
      return c.json({ signed_out: true });
    })
    .get('/me', requireUser(deps), (c) => {
      const user = c.get('user');
      return c.json({ principal: user.principal, user_id: user.id });
    });
}
