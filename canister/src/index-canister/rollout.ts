// The rolling upgrade of every bucket to the module the index holds: which
// buckets the next batch upgrades, and how the rollout's record moves on
// after a batch. Pure: the index canister's adapter keeps the record in
// stable memory (so a rollout resumes after a failure or an index upgrade)
// and does the management canister's calls.

export interface Rollout {
  /** SHA-256 (hex) of the module every bucket is being upgraded to. */
  sha256: string;
  batchSize: number;
  /** Position in the buckets' creation order where the next batch starts. */
  next: number;
  state: 'running' | 'done' | 'failed';
  /** The bucket whose upgrade failed (it runs its old module) and why; set when state is 'failed'. */
  failed?: { bucket: string; reason: string };
}

export interface BucketModule {
  id: string;
  /** SHA-256 (hex) of the module the bucket runs, as the index last installed it. */
  module?: string;
}

export function startRollout(previous: Rollout | undefined, sha256: string, batchSize: number): Rollout {
  // The same module again after a failure (or while running): go on from where it stopped.
  if (previous && previous.sha256 === sha256 && previous.state !== 'done') return { ...previous, batchSize, state: 'running', failed: undefined };
  return { sha256, batchSize, next: 0, state: 'running' };
}

/** The buckets of the next batch that still need the module (those past it already have it, e.g. created meanwhile). */
export function nextBatch(r: Rollout, order: BucketModule[]): BucketModule[] {
  return order.slice(r.next, r.next + r.batchSize).filter((b) => b.module !== r.sha256);
}

/** The record after a batch: the first failure stops the rollout there; otherwise it moves past the batch. */
export function afterBatch(r: Rollout, total: number, failures: Array<{ bucket: string; reason: string }>): Rollout {
  if (failures.length) return { ...r, state: 'failed', failed: failures[0] };
  const next = Math.min(total, r.next + r.batchSize);
  return { ...r, next, state: next >= total ? 'done' : 'running' };
}
