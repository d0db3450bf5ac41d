// Users (one per principal) and cookie sessions.
import { v7 as uuidv7 } from 'uuid';
import type { SessionUser } from './session-user.js';
import type { ServiceContext } from '../services/context.js';
import { toIso } from '../services/time.js';
import { hashToken, newSessionToken } from './tokens.js';

export async function userForPrincipal(ctx: ServiceContext, principal: string): Promise<SessionUser> {
  await ctx.db
    .insertInto('users')
    .values({ id: uuidv7(), principal, created_at: toIso(ctx.now()) })
    .onConflict((oc) => oc.column('principal').doNothing())
    .execute();
  const row = await ctx.db.selectFrom('users').select(['id', 'principal']).where('principal', '=', principal).executeTakeFirstOrThrow();
  return { id: row.id, principal: row.principal };
}

export async function openSession(ctx: ServiceContext, userId: string, ttlMs: number): Promise<{ token: string; expires_at: Date }> {
  const now = ctx.now();
  const token = newSessionToken();
  const expires_at = new Date(now.getTime() + ttlMs);
  await ctx.db
    .insertInto('sessions')
    .values({ token_hash: hashToken(token), user_id: userId, created_at: toIso(now), expires_at: toIso(expires_at) })
    .execute();
  return { token, expires_at };
}

export async function sessionUser(ctx: ServiceContext, token: string): Promise<SessionUser | null> {
  const row = await ctx.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['users.id as id', 'users.principal as principal', 'sessions.expires_at as expires_at'])
    .where('sessions.token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row || row.expires_at <= toIso(ctx.now())) return null;
  return { id: row.id, principal: row.principal };
}

export async function closeSession(ctx: ServiceContext, token: string): Promise<void> {
  await ctx.db.deleteFrom('sessions').where('token_hash', '=', hashToken(token)).execute();
}
