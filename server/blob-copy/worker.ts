// Drains the upload queue: claims due rows, re-stores their bytes (the blob
// store is content-addressed, so a second store after a crash writes nothing
// new), marks them stored and deletes the temp file; failures retry with
// backoff until max_retries, then the item is failed and its bytes released.
//
// Crash safety (SIGKILL anywhere):
// - before markStored commits: the row stays `processing`; its lease runs out
//   and the next worker redoes the (idempotent) store;
// - after markStored, before the temp file is deleted: start() sweeps temp
//   files of finished rows.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BlobStore } from './blob-store.js';
import { BlobStoreError } from './blob-store.js';
import { removeStaleTempFiles } from '../atomic-write.js';
import { sha256Hex } from '../bytes.js';
import type { ResolvedQueueConfig } from '../config.js';
import type { QueueRow } from '../db/schema.js';
import { UUID_RE } from '../schemas.js';
import type { ServiceContext } from '../services/context.js';
import { markBlobEdgeStored, releaseAcceptedBytes } from './service.js';
import { planAfterFailure } from './equal-jitter-backoff.js';
import { claimDue, markFailed, markRetry, markStored } from './queue-repo.js';

export interface WorkerDeps {
  ctx: ServiceContext;
  blobStore: BlobStore;
  queue: ResolvedQueueConfig;
  random?: () => number;
  /** Other queues drained on the same loop (the IPFS executor): each round runs their runOnce() too. */
  tasks?: readonly { runOnce(): Promise<number> }[];
}

export class UploadQueueWorker {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly deps: WorkerDeps) {}

  /** Sweeps crash leftovers, then drains in the background until stop(). */
  async start(): Promise<void> {
    if (this.running) return;
    await this.sweep();
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  /** Claims and processes one batch of due items; returns how many it processed. */
  async runOnce(): Promise<number> {
    const { ctx, queue } = this.deps;
    const token = randomUUID();
    const rows = await claimDue(ctx.db, ctx.engine, ctx.now(), queue.leaseMs, queue.batchSize, token);
    for (const row of rows) await this.process(row, token);
    return rows.length;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let processed = 0;
      try {
        processed = await this.runOnce();
      } catch (error) {
        this.deps.ctx.logger.error('UploadQueueWorkerError', { error: error as Error });
      }
      for (const task of this.deps.tasks ?? []) {
        try {
          processed += await task.runOnce();
        } catch (error) {
          this.deps.ctx.logger.error('QueueTaskError', { error: error as Error });
        }
      }
      if (processed === 0 && this.running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.deps.queue.pollIntervalMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    }
  }

  private async process(row: QueueRow, token: string): Promise<void> {
    const { ctx, blobStore } = this.deps;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await fs.readFile(row.temp_file_path));
    } catch {
      await this.fail(row, token, row.retry_count, 'queued bytes missing');
      return;
    }
    if (sha256Hex(bytes) !== row.content_hash) {
      await this.fail(row, token, row.retry_count, 'queued bytes corrupt');
      return;
    }
    let location: string;
    try {
      location = (await blobStore.put(row.content_hash, bytes)).location;
    } catch (error) {
      const reason = error instanceof BlobStoreError ? error.reason : 'unknown';
      ctx.metrics.uploadFailure.inc({ bucket: row.bucket, reason });
      await this.retryOrFail(row, token, `blob store failed: ${reason}`);
      return;
    }
    const done = await ctx.db.transaction().execute(async (trx) => {
      if (!(await markStored(trx, row.id, token, ctx.now()))) return false;
      await markBlobEdgeStored(ctx, row.user_id, row.memory_id, row.content_hash, location, trx);
      return true;
    });
    if (!done) return; // lease lost: whoever holds the row finishes it
    await fs.rm(row.temp_file_path, { force: true });
    ctx.metrics.uploadSuccess.inc({ bucket: row.bucket });
    ctx.metrics.queueProcessed.inc({ status: 'stored' });
    ctx.logger.info('UploadQueueStored', { queue_id: row.id, retry_count: row.retry_count, byte_size: Number(row.byte_size) });
  }

  private async retryOrFail(row: QueueRow, token: string, error: string): Promise<void> {
    const { ctx, queue } = this.deps;
    const plan = planAfterFailure(row.retry_count, row.max_retries, ctx.now(), queue, this.deps.random ?? Math.random);
    if (plan.kind === 'exhausted') {
      await this.fail(row, token, plan.retryCount, error);
      return;
    }
    await markRetry(ctx.db, row.id, token, plan.retryCount, plan.nextRetryAt, error, ctx.now());
    ctx.metrics.queueProcessed.inc({ status: 'retry' });
    ctx.logger.info('UploadQueueRetryScheduled', { queue_id: row.id, retry_count: plan.retryCount, next_retry_at: plan.nextRetryAt.toISOString() });
  }

  private async fail(row: QueueRow, token: string, retryCount: number, error: string): Promise<void> {
    const { ctx } = this.deps;
    // The bytes stay in the queue directory for an operator; usage is given back.
    const failed = await ctx.db.transaction().execute(async (trx) => {
      if (!(await markFailed(trx, row.id, token, retryCount, error, ctx.now()))) return false;
      await releaseAcceptedBytes(ctx, trx, row.user_id, row.memory_id, row.content_hash, Number(row.byte_size), error);
      return true;
    });
    if (!failed) return;
    ctx.metrics.queueProcessed.inc({ status: 'failed' });
    ctx.logger.warn('storage.upload.retry_failed', { queue_id: row.id, retry_count: retryCount, reason: error });
  }

  /** Removes temp files whose rows are finished (crash after commit) and interrupted writes. */
  private async sweep(): Promise<void> {
    const { ctx, queue } = this.deps;
    await fs.mkdir(queue.dir, { recursive: true, mode: 0o700 });
    await removeStaleTempFiles(queue.dir);
    const names = (await fs.readdir(queue.dir)).filter((n) => n.endsWith('.bin'));
    for (let i = 0; i < names.length; i += 500) {
      const ids = names.slice(i, i + 500).map((n) => n.slice(0, -4)).filter((id) => UUID_RE.test(id));
      if (ids.length === 0) continue;
      const stored = await ctx.db.selectFrom('upload_queue').select('id').where('id', 'in', ids).where('status', '=', 'stored').execute();
      for (const r of stored) await fs.rm(path.join(queue.dir, `${r.id}.bin`), { force: true });
    }
  }
}
