// Per-user storage usage and the monthly Store Forever counter.
// PostgreSQL: the SQL functions from migrations/0001 (increment_storage_usage,
// increment_interpretation_count). SQLite: the same single-statement upserts,
// so both engines are atomic per call and exact under concurrency.
import { sql, type Kysely } from 'kysely';
import { ApiError } from '../errors.js';
import type { Database } from '../db/schema.js';
import type { ServiceContext } from './context.js';
import { getGallery } from './galleries.js';
import { requireMemories } from './memories.js';
import { billingMonth, toIso } from './time.js';

type Db = Kysely<Database>;

/**
 * Adds `bytes` (negative releases) and `sources` to the user's usage. With
 * `limit`, an increase that would pass it changes nothing and returns null.
 * Returns the new total otherwise.
 */
export async function incrementStorageUsage(
  ctx: ServiceContext,
  db: Db,
  userId: string,
  bytes: number,
  sources: number,
  limit: number | null,
): Promise<number | null> {
  if (ctx.engine === 'postgres') {
    const r = await sql<{ total: number | null }>`select increment_storage_usage(${userId}::uuid, ${bytes}::bigint, ${sources}::integer, ${limit}::bigint) as total`.execute(
      db,
    );
    return r.rows[0]?.total ?? null;
  }
  if (limit !== null && bytes > 0 && bytes > limit) return null;
  const now = ctx.now();
  const row = await db
    .insertInto('storage_usage')
    .values({
      user_id: userId,
      total_bytes: Math.max(bytes, 0),
      total_sources: Math.max(sources, 0),
      last_calculated: toIso(now),
      interpretation_count_month: 0,
      interpretation_limit_month: ctx.quotas.storeForeverOpsPerMonth,
      billing_month: billingMonth(now),
    })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({
          total_bytes: sql`max(storage_usage.total_bytes + ${bytes}, 0)`,
          total_sources: sql`max(storage_usage.total_sources + ${sources}, 0)`,
          last_calculated: toIso(now),
        })
        .where(() => (limit === null || bytes <= 0 ? sql<boolean>`1 = 1` : sql<boolean>`storage_usage.total_bytes + ${bytes} <= ${limit}`)),
    )
    .returning('total_bytes')
    .executeTakeFirst();
  return row?.total_bytes ?? null;
}

/** Counts one Store Forever operation in the current billing month; null when the limit would be passed. */
export async function incrementStoreForeverCount(
  ctx: ServiceContext,
  db: Db,
  userId: string,
  limit: number,
): Promise<number | null> {
  const month = billingMonth(ctx.now());
  if (ctx.engine === 'postgres') {
    const r = await sql<{ count: number | null }>`select increment_interpretation_count(${userId}::uuid, ${limit}::integer, ${month}::text) as count`.execute(
      db,
    );
    return r.rows[0]?.count ?? null;
  }
  if (limit < 1) return null;
  const next = sql<number>`case when storage_usage.billing_month = ${month} then storage_usage.interpretation_count_month + 1 else 1 end`;
  const row = await db
    .insertInto('storage_usage')
    .values({
      user_id: userId,
      total_bytes: 0,
      total_sources: 0,
      last_calculated: toIso(ctx.now()),
      interpretation_count_month: 1,
      interpretation_limit_month: limit,
      billing_month: month,
    })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({
          interpretation_count_month: next,
          interpretation_limit_month: limit,
          billing_month: month,
          last_calculated: toIso(ctx.now()),
        })
        .where(() => sql<boolean>`${next} <= ${limit}`),
    )
    .returning('interpretation_count_month')
    .executeTakeFirst();
  return row?.interpretation_count_month ?? null;
}

export interface UsageView {
  /** Bytes of the blob copy counted against the quota (accepted uploads, stored or queued). */
  total_bytes: number;
  /** Of those, bytes whose blob copy is stored. */
  blob_bytes: number;
  /** Bytes of the assets recorded on the Internet Computer (present `icp` asset edges, sizes the canister confirmed). */
  icp_bytes: number;
  icp_assets: number;
  memory_count: number;
  total_sources: number;
  pending_bytes: number;
  quota_bytes: number;
  store_forever_ops_month: number;
  store_forever_ops_limit_month: number;
  billing_month: string;
  last_calculated: string | null;
}

export async function getUsage(ctx: ServiceContext, userId: string): Promise<UsageView> {
  const month = billingMonth(ctx.now());
  const row = await ctx.db.selectFrom('storage_usage').selectAll().where('user_id', '=', userId).executeTakeFirst();
  const pending = await ctx.db
    .selectFrom('upload_queue')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('byte_size'), sql<number>`0`).as('bytes'))
    .where('user_id', '=', userId)
    .where('status', 'in', ['pending', 'processing'])
    .executeTakeFirstOrThrow();
  const stored = await ctx.db
    .selectFrom('storage_edges')
    .select([
      sql<number>`coalesce(sum(case when backend = 'blob' then size else 0 end), 0)`.as('blob_bytes'),
      sql<number>`coalesce(sum(case when backend = 'icp' then size else 0 end), 0)`.as('icp_bytes'),
      sql<number>`coalesce(sum(case when backend = 'icp' then 1 else 0 end), 0)`.as('icp_assets'),
    ])
    .where('user_id', '=', userId)
    .where('artifact', '=', 'asset')
    .where('present', '=', 1)
    .executeTakeFirstOrThrow();
  const memories = await ctx.db
    .selectFrom('memories')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return {
    total_bytes: row?.total_bytes ?? 0,
    blob_bytes: Number(stored.blob_bytes),
    icp_bytes: Number(stored.icp_bytes),
    icp_assets: Number(stored.icp_assets),
    memory_count: Number(memories.n),
    total_sources: row?.total_sources ?? 0,
    pending_bytes: Number(pending.bytes),
    quota_bytes: ctx.quotas.maxBytes,
    store_forever_ops_month: row && row.billing_month === month ? row.interpretation_count_month : 0,
    store_forever_ops_limit_month: ctx.quotas.storeForeverOpsPerMonth,
    billing_month: month,
    last_calculated: row?.last_calculated ?? null,
  };
}

export interface StoreForeverOpInput {
  id: string;
  memory_id?: string;
  gallery_id?: string;
}

/**
 * Records a Store Forever operation the client is about to run, idempotent by
 * its id: the same id again reports the existing record and counts nothing.
 */
export async function recordStoreForeverOp(
  ctx: ServiceContext,
  userId: string,
  op: StoreForeverOpInput,
): Promise<{ id: string; created: boolean; store_forever_ops_month: number }> {
  const month = billingMonth(ctx.now());
  if (op.memory_id) await requireMemories(ctx, userId, [op.memory_id]);
  if (op.gallery_id && !(await getGallery(ctx, userId, op.gallery_id))) throw new ApiError('NOT_FOUND', 'gallery not found');
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('store_forever_ops')
        .values({
          user_id: userId,
          id: op.id,
          memory_id: op.memory_id ?? null,
          gallery_id: op.gallery_id ?? null,
          billing_month: month,
          created_at: toIso(ctx.now()),
        })
        .onConflict((oc) => oc.columns(['user_id', 'id']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
        const usage = await trx.selectFrom('storage_usage').select(['interpretation_count_month', 'billing_month']).where('user_id', '=', userId).executeTakeFirst();
        return { id: op.id, created: false, store_forever_ops_month: usage && usage.billing_month === month ? usage.interpretation_count_month : 0 };
      }
      const count = await incrementStoreForeverCount(ctx, trx, userId, ctx.quotas.storeForeverOpsPerMonth);
      if (count === null) throw new ApiError('STORAGE_QUOTA_EXCEEDED', 'monthly Store Forever operations quota reached');
      return { id: op.id, created: true, store_forever_ops_month: count };
    });
  } catch (error) {
    if (error instanceof ApiError && error.code === 'STORAGE_QUOTA_EXCEEDED') {
      ctx.metrics.quotaExceeded.inc({ kind: 'store_forever_ops' });
      ctx.logger.info('QuotaExceeded', { kind: 'store_forever_ops', user_id: userId });
    }
    throw error;
  }
}
