// Which bucket keeps a principal's data, as the index says (`lookup_bucket`).
// Answers are kept for a short TTL (a user's bucket changes only when an
// operator moves them), one question per principal at a time, and dropped
// when a bucket answers WrongBucket. Not-yet-assigned principals are not kept:
// they may be placed a moment later. No I/O here: the index is a function.

export interface BucketLookupOptions {
  /** `lookup_bucket(principal)` on the index: the bucket's id, or null. */
  ask(principal: string): Promise<string | null>;
  /** How long an answer is kept (default 30 s). */
  ttlMs?: number;
  now?: () => number;
  /** Principals kept at most (default 100,000; the oldest answer goes first). */
  maxEntries?: number;
}

export const DEFAULT_BUCKET_TTL_MS = 30_000;

export class BucketLookup {
  private readonly kept = new Map<string, { bucket: string; at: number }>();
  private readonly asking = new Map<string, Promise<string | null>>();
  private readonly ttl: number;
  private readonly now: () => number;
  private readonly max: number;

  constructor(private readonly opts: BucketLookupOptions) {
    this.ttl = opts.ttlMs ?? DEFAULT_BUCKET_TTL_MS;
    this.now = opts.now ?? Date.now;
    this.max = opts.maxEntries ?? 100_000;
  }

  /** The principal's bucket (kept or asked), or null when the index has none for it. */
  async bucketOf(principal: string): Promise<string | null> {
    const k = this.kept.get(principal);
    if (k && this.now() - k.at < this.ttl) return k.bucket;
    return this.fresh(principal);
  }

  /** Asks the index now (after a WrongBucket, or to confirm a surprising answer). */
  fresh(principal: string): Promise<string | null> {
    let p = this.asking.get(principal);
    if (!p) {
      p = this.opts.ask(principal).then((bucket) => {
        this.kept.delete(principal);
        if (bucket !== null) {
          if (this.kept.size >= this.max) this.kept.delete(this.kept.keys().next().value!);
          this.kept.set(principal, { bucket, at: this.now() });
        }
        return bucket;
      });
      this.asking.set(principal, p);
      void p.finally(() => this.asking.delete(principal)).catch(() => undefined);
    }
    return p;
  }

  forget(principal: string): void {
    this.kept.delete(principal);
  }
}
