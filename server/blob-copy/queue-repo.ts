// SQL for the upload queue. Claims are transactional: a row moves to
// `processing` with a fresh claim token and a lease; only the holder of the
// token can finish it, and a row whose lease ran out (its worker died) is due
// again. PostgreSQL skips rows another worker has locked; SQLite has one writer.
import type { Kysely, Transaction, Updateable } from 'kysely';
import type { Engine } from '../db/database.js';
import type { Database, QueueRow, UploadQueueTable } from '../db/schema.js';
import { toIso } from '../services/time.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function claimDue(
  db: Kysely<Database>,
  engine: Engine,
  now: Date,
  leaseMs: number,
  limit: number,
  token: string,
): Promise<QueueRow[]> {
  const nowIso = toIso(now);
  return db.transaction().execute(async (trx) => {
    let due = trx
      .selectFrom('upload_queue')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'pending'), eb('next_retry_at', '<=', nowIso)]),
          eb.and([eb('status', '=', 'processing'), eb('claimed_until', '<=', nowIso)]),
        ]),
      )
      .orderBy('next_retry_at')
      .limit(limit);
    if (engine === 'postgres') due = due.forUpdate().skipLocked();
    const ids = (await due.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    return trx
      .updateTable('upload_queue')
      .set({ status: 'processing', claim_token: token, claimed_until: toIso(new Date(now.getTime() + leaseMs)), updated_at: nowIso })
      .where('id', 'in', ids)
      .returningAll()
      .execute();
  });
}

/**
 * Finishes a claimed row: the update applies only while the row is still
 * `processing` under this token; false when the claim was lost (lease expired
 * and taken by another worker).
 */
async function finishClaim(db: Db, id: string, token: string, values: Updateable<UploadQueueTable>): Promise<boolean> {
  const r = await db
    .updateTable('upload_queue')
    .set({ ...values, claim_token: null, claimed_until: null })
    .where('id', '=', id)
    .where('status', '=', 'processing')
    .where('claim_token', '=', token)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Marks a claimed row stored; false when the claim was lost (lease expired and taken). */
export function markStored(db: Db, id: string, token: string, now: Date): Promise<boolean> {
  return finishClaim(db, id, token, { status: 'stored', error_message: null, completed_at: toIso(now), updated_at: toIso(now) });
}

export function markRetry(db: Db, id: string, token: string, retryCount: number, nextRetryAt: Date, error: string, now: Date): Promise<boolean> {
  return finishClaim(db, id, token, {
    status: 'pending',
    retry_count: retryCount,
    next_retry_at: toIso(nextRetryAt),
    error_message: error,
    updated_at: toIso(now),
  });
}

export function markFailed(db: Db, id: string, token: string, retryCount: number, error: string, now: Date): Promise<boolean> {
  return finishClaim(db, id, token, {
    status: 'failed',
    retry_count: retryCount,
    error_message: error,
    completed_at: toIso(now),
    updated_at: toIso(now),
  });
}

export async function queueDepth(db: Kysely<Database>): Promise<number> {
  const r = await db
    .selectFrom('upload_queue')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ['pending', 'processing'])
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
