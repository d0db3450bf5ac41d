// Session cookie handling and the middleware that puts the signed-in user on
// the context (UNAUTHENTICATED otherwise).
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { sessionUser } from '../auth/sessions.js';
import { ApiError } from '../errors.js';
import type { ServiceContext } from '../services/context.js';
import type { AppEnv } from './env.js';

export const SESSION_COOKIE = 'forever_session';

export const sessionToken = (c: Context): string | undefined => getCookie(c, SESSION_COOKIE);

export function setSessionCookie(c: Context, token: string, expires: Date, secure: boolean): void {
  setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Lax', path: '/', secure, expires });
}

export const clearSessionCookie = (c: Context): void => {
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
};

export function requireUser(ctx: ServiceContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = sessionToken(c);
    const user = token ? await sessionUser(ctx, token) : null;
    if (!user) throw new ApiError('UNAUTHENTICATED', 'sign in first');
    c.set('user', user);
    await next();
  };
}
