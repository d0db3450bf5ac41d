// Sign-in challenges: short-lived, single-use nonces.
import { sql } from 'kysely';
import type { ServiceContext } from '../services/context.js';
import { toIso } from '../services/time.js';
import { newNonce } from './tokens.js';

export async function issueNonce(ctx: ServiceContext, ttlMs: number): Promise<{ nonce: string; expires_at: string }> {
  const now = ctx.now();
  const nonce = newNonce();
  const expires_at = toIso(new Date(now.getTime() + ttlMs));
  // Expired challenges are garbage; drop them while we are here.
  await ctx.db.deleteFrom('auth_nonces').where('expires_at', '<=', toIso(now)).execute();
  await ctx.db.insertInto('auth_nonces').values({ nonce, created_at: toIso(now), expires_at }).execute();
  return { nonce, expires_at };
}

/** Atomically consumes a live nonce; false when unknown, used or expired. */
export async function consumeNonce(ctx: ServiceContext, nonce: string): Promise<boolean> {
  const r = await ctx.db
    .deleteFrom('auth_nonces')
    .where('nonce', '=', nonce)
    .where(sql<boolean>`expires_at > ${toIso(ctx.now())}`)
    .executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}
