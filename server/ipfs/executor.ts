// The executor: takes paid jobs, pins their bytes through the configured
// Pinner, and records the result. Run by the server's queue worker (one
// round per poll, like the upload queue), or by tests through runOnce().
//
// Attempts: the first, then one retry per entry of `retryDelaysMs` (1 s,
// then 2 s), waiting through the injected sleeper. A pinner that paid its
// provider stored the payment signature first, so every retry resends the
// same one. The result is an `ipfs` storage edge of the memory; a failure
// writes only that edge, never the memory's ICP or blob state.
import { createHash, randomUUID } from 'node:crypto';
import type { BlobStore } from '../blob-copy/blob-store.js';
import type { Logger } from '../logging.js';
import { toIso } from '../services/time.js';
import { claimDueJobs, finishJob, recordAttempt, saveProviderPayment } from './jobs.js';
import { PinError, type Pinner, type PinResult } from './pinner.js';
import type { IpfsDb, IpfsTrx, JobRow } from './schema.js';

export interface ExecutorDeps {
  db: IpfsDb;
  engine: 'sqlite' | 'postgres';
  blobStore: BlobStore;
  pinner: Pinner;
  now: () => Date;
  logger: Logger;
  sleep: (ms: number) => Promise<void>;
  retryDelaysMs: readonly number[];
  leaseMs?: number;
  batchSize?: number;
}

const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export class IpfsExecutor {
  constructor(private readonly deps: ExecutorDeps) {}

  get maxAttempts(): number {
    return this.deps.retryDelaysMs.length + 1;
  }

  /** Claims and pins one batch of paid jobs; returns how many it took. */
  async runOnce(): Promise<number> {
    const { db, engine, now } = this.deps;
    const token = randomUUID();
    // The lease covers every attempt and wait of a job, with room for slow providers.
    const lease = this.deps.leaseMs ?? 10 * 60_000;
    const jobs = await claimDueJobs(db, engine, now(), lease, this.deps.batchSize ?? 2, token);
    for (const job of jobs) await this.process(job, token);
    return jobs.length;
  }

  private async process(job: JobRow, token: string): Promise<void> {
    const { db, blobStore, pinner, now, logger } = this.deps;
    const bytes = job.content_hash ? await blobStore.get(job.content_hash) : null;
    if (!bytes) return this.fail(job, token, 'the bytes to pin are missing from the blob copy');
    if (sha256Hex(bytes) !== job.content_hash) return this.fail(job, token, 'the bytes to pin do not match their hash');
    let signature = job.provider_payment;
    let attempt = Number(job.attempts);
    for (;;) {
      attempt++;
      await recordAttempt(db, job.id, token, attempt, null, now());
      let result: PinResult;
      try {
        result = await pinner.pin({
          jobId: job.id,
          bytes,
          fileName: job.file_name ?? job.id,
          endpoint: job.endpoint ?? 'pin/file',
          paymentSignature: signature,
          onPaymentSigned: async (s) => {
            signature = s;
            await saveProviderPayment(db, job.id, token, s, now());
          },
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const retryable = error instanceof PinError ? error.retryable : true;
        logger.warn('IpfsPinAttemptFailed', { job_id: job.id, provider: pinner.provider, attempt, retryable, reason: message });
        if (!retryable || attempt >= this.maxAttempts) return this.fail(job, token, message);
        await recordAttempt(db, job.id, token, attempt, message, now());
        await this.deps.sleep(this.deps.retryDelaysMs[Math.min(attempt - 1, this.deps.retryDelaysMs.length - 1)]);
        continue;
      }
      return this.complete(job, token, result);
    }
  }

  private async complete(job: JobRow, token: string, r: PinResult): Promise<void> {
    const { db, now, logger } = this.deps;
    const done = await db.transaction().execute(async (trx) => {
      if (!(await finishJob(trx, job.id, token, { status: 'completed', cid: r.cid, gatewayUrl: r.url, profile: r.profile }, now()))) return false;
      if (job.user_id && job.memory_id) await upsertIpfsEdge(trx, job, { present: true, cid: r.cid, size: r.size }, now());
      return true;
    });
    if (done) logger.info('IpfsPinned', { job_id: job.id, provider: this.deps.pinner.provider, cid: r.cid, size: r.size });
  }

  private async fail(job: JobRow, token: string, error: string): Promise<void> {
    const { db, now, logger } = this.deps;
    const done = await db.transaction().execute(async (trx) => {
      if (!(await finishJob(trx, job.id, token, { status: 'failed', error }, now()))) return false;
      if (job.user_id && job.memory_id) await upsertIpfsEdge(trx, job, { present: false, error }, now());
      return true;
    });
    if (done) logger.warn('IpfsPinFailed', { job_id: job.id, provider: this.deps.pinner.provider, reason: error });
  }
}

/**
 * The memory's `ipfs` asset edge. A failure marks it failed only while no
 * earlier pin made it present: one failed retry never hides a CID that exists.
 */
async function upsertIpfsEdge(
  trx: IpfsTrx,
  job: JobRow,
  r: { present: true; cid: string; size: number } | { present: false; error: string },
  now: Date,
): Promise<void> {
  const at = toIso(now);
  const values = r.present
    ? { present: 1, location: `ipfs://${r.cid}`, content_hash: job.content_hash, size: r.size, sync_state: 'idle' as const, error: null }
    : { present: 0, location: null, content_hash: job.content_hash, size: job.file_size === null ? null : Number(job.file_size), sync_state: 'failed' as const, error: r.error };
  await trx
    .insertInto('storage_edges')
    .values({ user_id: job.user_id!, memory_id: job.memory_id!, artifact: 'asset', backend: 'ipfs', ...values, created_at: at, updated_at: at })
    .onConflict((oc) => {
      const update = oc.columns(['user_id', 'memory_id', 'artifact', 'backend']).doUpdateSet({ ...values, updated_at: at });
      return r.present ? update : update.where('storage_edges.present', '=', 0);
    })
    .execute();
}
