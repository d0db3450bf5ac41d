// POST /api/upload_file: the blob copy of a memory's asset, with the retry
// queue of seed FU-112.
//
// Usage accounting: bytes count when an upload is accepted (stored now or
// queued), in the same transaction that records the blob edge's hash, so the
// quota check and the increment are one atomic step and a retried request
// (same memory, same hash) never counts twice. A queue item that finally
// fails gives its bytes back.
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { v7 as uuidv7 } from 'uuid';
import { writeFileAtomic } from '../atomic-write.js';
import type { BlobStore } from './blob-store.js';
import { BlobStoreError } from './blob-store.js';
import { sha256Hex } from '../bytes.js';
import { ApiError } from '../errors.js';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, QueueRow } from '../db/schema.js';
import { backoffDelayMs } from './equal-jitter-backoff.js';
import type { ResolvedQueueConfig } from '../config.js';
import type { ServiceContext } from '../services/context.js';
import { toIso } from '../services/time.js';
import { incrementStorageUsage } from '../services/usage.js';

export interface UploadRequest {
  memory_id: string;
  bucket: string;
  content_hash?: string;
}

export type UploadOutcome =
  | { status: 'stored'; content_hash: string; byte_size: number; location: string; created: boolean }
  | { status: 'pending_retry'; queue_id: string; content_hash: string; byte_size: number };

export interface UploadDeps {
  blobStore: BlobStore;
  queue: ResolvedQueueConfig;
  random?: () => number;
}

export const objectPathFor = (hash: string): string => `sha256/${hash}`;

export async function acceptUpload(
  ctx: ServiceContext,
  deps: UploadDeps,
  userId: string,
  req: UploadRequest,
  bytes: Uint8Array,
): Promise<UploadOutcome> {
  const hash = sha256Hex(bytes);
  if (req.content_hash && req.content_hash !== hash) throw new ApiError('INVALID_HASH', 'body does not match content_hash');
  const size = bytes.byteLength;

  const accepted = await ctx.db.transaction().execute(async (trx) => {
    // Serialize uploads for one memory: on PostgreSQL lock its row (SQLite has
    // a single writer), so concurrent identical requests count the bytes once.
    let lock = trx.selectFrom('memories').select('id').where('user_id', '=', userId).where('id', '=', req.memory_id);
    if (ctx.engine === 'postgres') lock = lock.forUpdate();
    if (!(await lock.executeTakeFirst())) throw new ApiError('NOT_FOUND', 'memory not found');
    const edge = await trx
      .selectFrom('storage_edges')
      .selectAll()
      .where('user_id', '=', userId)
      .where('memory_id', '=', req.memory_id)
      .where('artifact', '=', 'asset')
      .where('backend', '=', 'blob')
      .executeTakeFirst();
    if (edge && edge.content_hash === hash && edge.present === 1) {
      return { kind: 'already' as const, location: edge.location ?? `blob:sha256/${hash}` };
    }
    const active = await activeQueueItem(trx, userId, req.memory_id, hash);
    if (active) return { kind: 'queued' as const, queueId: active };

    const counting = edge && edge.content_hash !== null && edge.sync_state !== 'failed';
    if (!(counting && edge.content_hash === hash)) {
      const delta = size - (counting ? Number(edge.size ?? 0) : 0);
      const total = await incrementStorageUsage(ctx, trx, userId, delta, counting ? 0 : 1, ctx.quotas.maxBytes);
      if (total === null) throw new ApiError('STORAGE_QUOTA_EXCEEDED', 'storage quota reached');
    }
    const now = toIso(ctx.now());
    // The blob edge now describes these bytes, not yet stored: a new edge and a replaced one alike.
    const accepting = { present: 0, location: null, content_hash: hash, size, sync_state: 'migrating', error: null, updated_at: now } as const;
    await trx
      .insertInto('storage_edges')
      .values({ user_id: userId, memory_id: req.memory_id, artifact: 'asset', backend: 'blob', ...accepting, created_at: now })
      .onConflict((oc) => oc.columns(['user_id', 'memory_id', 'artifact', 'backend']).doUpdateSet(accepting))
      .execute();
    return { kind: 'accepted' as const };
  }).catch((error: unknown) => {
    if (error instanceof ApiError && error.code === 'STORAGE_QUOTA_EXCEEDED') {
      ctx.metrics.quotaExceeded.inc({ kind: 'bytes' });
      ctx.logger.info('QuotaExceeded', { kind: 'bytes', user_id: userId, byte_size: size });
    }
    throw error;
  });

  if (accepted.kind === 'already') return { status: 'stored', content_hash: hash, byte_size: size, location: accepted.location, created: false };
  if (accepted.kind === 'queued') return { status: 'pending_retry', queue_id: accepted.queueId, content_hash: hash, byte_size: size };

  try {
    const stored = await deps.blobStore.put(hash, bytes);
    await markBlobEdgeStored(ctx, userId, req.memory_id, hash, stored.location);
    ctx.metrics.uploadSuccess.inc({ bucket: req.bucket });
    ctx.logger.info('UploadStored', { user_id: userId, memory_id: req.memory_id, content_hash: hash, byte_size: size });
    return { status: 'stored', content_hash: hash, byte_size: size, location: stored.location, created: true };
  } catch (error) {
    const reason = error instanceof BlobStoreError ? error.reason : 'unknown';
    ctx.metrics.uploadFailure.inc({ bucket: req.bucket, reason });
    ctx.logger.warn('UploadStoreFailed', { user_id: userId, memory_id: req.memory_id, content_hash: hash, reason });
    const queueId = await enqueueFailedUpload(ctx, deps, userId, req, hash, bytes);
    return { status: 'pending_retry', queue_id: queueId, content_hash: hash, byte_size: size };
  }
}

/**
 * The id of the queue item still working on these bytes for this memory
 * (pending or processing), if there is one; the queue's partial unique index
 * allows at most one.
 */
async function activeQueueItem(
  db: Kysely<Database> | Transaction<Database>,
  userId: string,
  memoryId: string,
  hash: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('upload_queue')
    .select('id')
    .where('user_id', '=', userId)
    .where('memory_id', '=', memoryId)
    .where('content_hash', '=', hash)
    .where('status', 'in', ['pending', 'processing'])
    .executeTakeFirst();
  return row?.id;
}

/** Marks the blob edge present if it still describes `hash` (a newer upload may have replaced it). */
export async function markBlobEdgeStored(ctx: ServiceContext, userId: string, memoryId: string, hash: string, location: string, db = ctx.db) {
  await db
    .updateTable('storage_edges')
    .set({ present: 1, location, sync_state: 'idle', error: null, updated_at: toIso(ctx.now()) })
    .where('user_id', '=', userId)
    .where('memory_id', '=', memoryId)
    .where('artifact', '=', 'asset')
    .where('backend', '=', 'blob')
    .where('content_hash', '=', hash)
    .execute();
}

/**
 * Persists the bytes to the queue directory, then the row. If the row cannot
 * be written the file is removed, the accepted bytes are given back and the
 * client gets STORAGE_QUEUE_FAILED (it may retry the upload).
 */
export async function enqueueFailedUpload(
  ctx: ServiceContext,
  deps: UploadDeps,
  userId: string,
  req: UploadRequest,
  hash: string,
  bytes: Uint8Array,
): Promise<string> {
  const id = uuidv7();
  const tempFile = path.join(deps.queue.dir, `${id}.bin`);
  const now = ctx.now();
  let inserted: boolean;
  try {
    await writeFileAtomic(tempFile, bytes);
    const r = await ctx.db
      .insertInto('upload_queue')
      .values({
        id,
        user_id: userId,
        memory_id: req.memory_id,
        temp_file_path: tempFile,
        bucket: req.bucket,
        object_path: objectPathFor(hash),
        content_hash: hash,
        byte_size: bytes.byteLength,
        status: 'pending',
        retry_count: 0,
        max_retries: deps.queue.maxRetries,
        next_retry_at: toIso(new Date(now.getTime() + backoffDelayMs(1, deps.queue, deps.random ?? Math.random))),
        claim_token: null,
        claimed_until: null,
        error_message: 'blob store unavailable',
        metadata: JSON.stringify({ memory_id: req.memory_id, artifact: 'asset', received_at: toIso(now) }),
        created_at: toIso(now),
        updated_at: toIso(now),
        completed_at: null,
      })
      .onConflict((oc) =>
        oc
          .columns(['user_id', 'memory_id', 'content_hash'])
          .where(sql<boolean>`status in ('pending', 'processing')`)
          .doNothing(),
      )
      .executeTakeFirst();
    inserted = Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  } catch (error) {
    await fs.rm(tempFile, { force: true });
    await ctx.db.transaction().execute((trx) => releaseAcceptedBytes(ctx, trx, userId, req.memory_id, hash, bytes.byteLength, 'queue insert failed'));
    ctx.logger.error('UploadQueueEnqueueFailed', { bucket: req.bucket, error_code: 'STORAGE_QUEUE_FAILED', reason: (error as Error).message });
    throw new ApiError('STORAGE_QUEUE_FAILED', 'Unable to persist upload retry');
  }
  if (!inserted) {
    // A concurrent request queued the same bytes first: join its item.
    await fs.rm(tempFile, { force: true });
    const existing = await activeQueueItem(ctx.db, userId, req.memory_id, hash);
    if (existing) return existing;
    throw new ApiError('STORAGE_QUEUE_FAILED', 'Unable to persist upload retry');
  }
  ctx.metrics.queueEnqueued.inc({ bucket: req.bucket });
  ctx.logger.info('UploadQueueEnqueue', {
    queue_id: id,
    bucket: req.bucket,
    object_path: objectPathFor(hash),
    byte_size: bytes.byteLength,
    retry_count: 0,
  });
  return id;
}

/**
 * Gives back the bytes accepted for `hash` and marks the blob edge failed, if
 * the edge still describes that hash. One transaction.
 */
export async function releaseAcceptedBytes(
  ctx: ServiceContext,
  trx: Transaction<Database>,
  userId: string,
  memoryId: string,
  hash: string,
  size: number,
  error: string,
): Promise<void> {
  const r = await trx
      .updateTable('storage_edges')
      .set({ sync_state: 'failed', present: 0, error, updated_at: toIso(ctx.now()) })
      .where('user_id', '=', userId)
      .where('memory_id', '=', memoryId)
      .where('artifact', '=', 'asset')
      .where('backend', '=', 'blob')
      .where('content_hash', '=', hash)
    .where('sync_state', '!=', 'failed')
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 1) await incrementStorageUsage(ctx, trx, userId, -size, -1, null);
}

export interface QueueItemView {
  queue_id: string;
  memory_id: string;
  status: QueueRow['status'];
  storage_status: 'pending_retry' | 'stored' | 'failed';
  content_hash: string;
  byte_size: number;
  bucket: string;
  object_path: string;
  retry_count: number;
  max_retries: number;
  next_retry_at: string | null;
  error_message: string | null;
  created_at: string;
  completed_at: string | null;
}

export async function getQueueItem(ctx: ServiceContext, userId: string, id: string): Promise<QueueItemView | null> {
  const r = await ctx.db.selectFrom('upload_queue').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  if (!r) return null;
  // temp_file_path stays on the server: it is never shown to clients or logs.
  return {
    queue_id: r.id,
    memory_id: r.memory_id,
    status: r.status,
    storage_status: r.status === 'stored' ? 'stored' : r.status === 'failed' ? 'failed' : 'pending_retry',
    content_hash: r.content_hash,
    byte_size: Number(r.byte_size),
    bucket: r.bucket,
    object_path: r.object_path,
    retry_count: r.retry_count,
    max_retries: r.max_retries,
    next_retry_at: r.status === 'pending' || r.status === 'processing' ? r.next_retry_at : null,
    error_message: r.error_message,
    created_at: r.created_at,
    completed_at: r.completed_at,
  };
}
