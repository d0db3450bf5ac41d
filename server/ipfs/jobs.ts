// SQL for ipfs_jobs. A job moves pending_payment → paid (only once the
// payment settled) → pinning (claimed by the executor, under a lease) →
// completed | failed. Every transition is a conditional update on the status
// it leaves, so two requests or two workers can never both make it.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { toIso } from '../services/time.js';
import type { IpfsJobView } from '../../contract/index.js';
import type { Quote } from './quote.js';
import type { IpfsDb, IpfsTrx, JobRow } from './schema.js';
import { unitsToUsd } from './quote.js';

type Db = IpfsDb | IpfsTrx;

export interface NewJob {
  userId: string | null;
  memoryId: string | null;
  source: 'memory' | 'inline';
  provider: string;
  fileName: string | null;
  contentHash: string | null;
  quote: Quote | null;
  payment: { network: string; asset: string; payTo: string } | null;
  idempotencyKey: string;
  /** A job refused before payment (its error is kept). */
  failedWith?: string;
}

export type JobView = IpfsJobView;

export function toJobView(r: JobRow): JobView {
  const priceUsd = r.amount === null ? null : unitsToUsd(BigInt(r.amount));
  return {
    jobId: r.id,
    status: r.status,
    provider: r.provider,
    source: r.source,
    memory_id: r.memory_id,
    filename: r.file_name,
    endpoint: r.endpoint,
    file_size_bytes: r.file_size === null ? null : Number(r.file_size),
    price_usd: priceUsd,
    amount: r.amount,
    error: r.error,
    attempts: Number(r.attempts),
    result:
      r.status === 'completed' && r.cid
        ? { success: true, cid: r.cid, ipfsHash: r.cid, ipfsUrl: r.gateway_url ?? '', endpoint: r.endpoint ? `/${r.endpoint}` : null, priceUsd, profile: r.profile }
        : null,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

export async function getJob(db: Db, id: string): Promise<JobRow | undefined> {
  return db.selectFrom('ipfs_jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The newest job for this request content that is not failed: the one a repeated request joins. */
export async function liveJobByKey(db: Db, key: string): Promise<JobRow | undefined> {
  return db
    .selectFrom('ipfs_jobs')
    .selectAll()
    .where('idempotency_key', '=', key)
    .where('status', '!=', 'failed')
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function insertJob(db: Db, j: NewJob, now: Date): Promise<JobRow> {
  const at = toIso(now);
  const row = {
    id: randomUUID(),
    user_id: j.userId,
    memory_id: j.memoryId,
    source: j.source,
    provider: j.provider,
    endpoint: j.quote?.endpoint ?? null,
    file_name: j.fileName,
    content_hash: j.contentHash,
    file_size: j.quote?.fileSize ?? null,
    amount: j.quote?.amount ?? null,
    network: j.payment?.network ?? null,
    asset: j.payment?.asset ?? null,
    pay_to: j.payment?.payTo ?? null,
    status: j.failedWith ? ('failed' as const) : ('pending_payment' as const),
    error: j.failedWith ?? null,
    payer: null,
    payment_tx: null,
    provider_payment: null,
    attempts: 0,
    cid: null,
    gateway_url: null,
    profile: null,
    idempotency_key: j.idempotencyKey,
    claim_token: null,
    claimed_until: null,
    created_at: at,
    updated_at: at,
    completed_at: j.failedWith ? at : null,
  };
  // A concurrent request for the same content may have created the pending job first: join it.
  const r = await db.insertInto('ipfs_jobs').values(row).onConflict((oc) => oc.column('idempotency_key').where(sql.ref('status'), '=', sql.lit('pending_payment')).doNothing()).returning('id').executeTakeFirst();
  if (r) return (await getJob(db, row.id))!;
  const existing = await liveJobByKey(db, j.idempotencyKey);
  if (!existing) throw new Error('ipfs job vanished while joining it');
  return existing;
}

/** pending_payment → paid, once the payment settled. False when another request got there first. */
export async function markPaid(db: Db, id: string, payer: string | null, tx: string | null, now: Date): Promise<boolean> {
  const r = await db
    .updateTable('ipfs_jobs')
    .set({ status: 'paid', payer, payment_tx: tx, updated_at: toIso(now) })
    .where('id', '=', id)
    .where('status', '=', 'pending_payment')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Claims due jobs: paid ones, and pinning ones whose executor died (lease ran out). */
export async function claimDueJobs(db: IpfsDb, engine: 'sqlite' | 'postgres', now: Date, leaseMs: number, limit: number, token: string): Promise<JobRow[]> {
  const nowIso = toIso(now);
  return db.transaction().execute(async (trx) => {
    let due = trx
      .selectFrom('ipfs_jobs')
      .select('id')
      .where((eb) => eb.or([eb('status', '=', 'paid'), eb.and([eb('status', '=', 'pinning'), eb('claimed_until', '<=', nowIso)])]))
      .orderBy('updated_at')
      .limit(limit);
    if (engine === 'postgres') due = due.forUpdate().skipLocked();
    const ids = (await due.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    return trx
      .updateTable('ipfs_jobs')
      .set({ status: 'pinning', claim_token: token, claimed_until: toIso(new Date(now.getTime() + leaseMs)), updated_at: nowIso })
      .where('id', 'in', ids)
      .returningAll()
      .execute();
  });
}

export async function recordAttempt(db: Db, id: string, token: string, attempts: number, error: string | null, now: Date): Promise<void> {
  await db.updateTable('ipfs_jobs').set({ attempts, error, updated_at: toIso(now) }).where('id', '=', id).where('claim_token', '=', token).execute();
}

export async function saveProviderPayment(db: Db, id: string, token: string, signature: string, now: Date): Promise<void> {
  await db.updateTable('ipfs_jobs').set({ provider_payment: signature, updated_at: toIso(now) }).where('id', '=', id).where('claim_token', '=', token).execute();
}

export async function finishJob(
  db: Db,
  id: string,
  token: string,
  values: { status: 'completed'; cid: string; gatewayUrl: string; profile: string | null } | { status: 'failed'; error: string },
  now: Date,
): Promise<boolean> {
  const at = toIso(now);
  const set =
    values.status === 'completed'
      ? { status: 'completed' as const, cid: values.cid, gateway_url: values.gatewayUrl, profile: values.profile, error: null }
      : { status: 'failed' as const, error: values.error };
  const r = await db
    .updateTable('ipfs_jobs')
    .set({ ...set, claim_token: null, claimed_until: null, completed_at: at, updated_at: at })
    .where('id', '=', id)
    .where('status', '=', 'pinning')
    .where('claim_token', '=', token)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function jobsForMemory(db: Db, userId: string, memoryId: string): Promise<JobRow[]> {
  return db.selectFrom('ipfs_jobs').selectAll().where('user_id', '=', userId).where('memory_id', '=', memoryId).orderBy('created_at', 'desc').limit(20).execute();
}

