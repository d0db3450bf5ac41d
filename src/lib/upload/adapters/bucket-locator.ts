// Where a principal's bucket is. The index knows (docs/client.md, "Buckets");
// the answer is kept per principal in a cache (IndexedDB in the browser, so
// the service worker's uploads use it too, also after the tab is closed) and
// asked again only when a bucket answers `WrongBucket` ("not here"). Asking is
// first the certified query (`my_bucket_certified`), and only when the index
// proves the principal has no bucket the update `assign_bucket`, which places
// it (and may have to create a bucket first: `Busy` meanwhile).
//
// `routedActor` puts a bucket behind an actor-shaped object: every call goes
// to the principal's bucket, and a `WrongBucket` answer re-asks the index and
// repeats the call once on the bucket it names.
import { IDL } from '@dfinity/candid';

/** The index, asked as one principal (its calls are signed by that principal). */
export interface BucketIndex {
  /** The certified answer: the bucket, or null when the index proves there is none. */
  certifiedBucket(): Promise<string | null>;
  /** Places the caller (idempotent: an assigned caller gets its bucket). Throws IndexBusyError while a bucket is being created. */
  assignBucket(): Promise<string>;
}

export interface BucketCache {
  get(principal: string): Promise<string | undefined>;
  put(principal: string, bucket: string): Promise<void>;
  drop(principal: string): Promise<void>;
}

/** The index is creating a bucket and asks newcomers to come back. */
export class IndexBusyError extends Error {
  constructor() {
    super('The index is creating a bucket; try again shortly');
    this.name = 'IndexBusyError';
  }
}

/** No bucket could be found for now (the index is busy, or it names a bucket that does not take us yet); worth a later retry. */
export class BucketUnavailableError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Your storage canister could not be found: ${reason}`, options);
    this.name = 'BucketUnavailableError';
  }
}

export interface BucketLocatorOptions {
  cache: BucketCache;
  /** Waits between `Busy` answers (default: real time). */
  sleep?: (ms: number) => Promise<void>;
  /** How many times `assign_bucket` is asked while the index answers `Busy` (default 8, about 40 s in all). */
  busyAttempts?: number;
}

export class BucketLocator {
  private readonly asking = new Map<string, Promise<string>>();
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: BucketLocatorOptions) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** The principal's bucket: the cached one, else the index's. One question per principal at a time. */
  async locate(principal: string, index: BucketIndex): Promise<string> {
    const cached = await this.opts.cache.get(principal);
    if (cached) return cached;
    return this.ask(principal, index);
  }

  /**
   * `wrong` answered WrongBucket: forget it and ask the index again. When the
   * index still names `wrong` (a move is switching this principal right now),
   * the caller should retry later.
   */
  async relocate(principal: string, wrong: string, index: BucketIndex): Promise<string> {
    if ((await this.opts.cache.get(principal)) === wrong) await this.opts.cache.drop(principal);
    const bucket = await this.ask(principal, index);
    if (bucket === wrong) {
      await this.opts.cache.drop(principal);
      throw new BucketUnavailableError('the index names a bucket that does not take you yet');
    }
    return bucket;
  }

  private ask(principal: string, index: BucketIndex): Promise<string> {
    let p = this.asking.get(principal);
    if (!p) {
      p = this.fromIndex(index).then(async (bucket) => {
        await this.opts.cache.put(principal, bucket);
        return bucket;
      });
      this.asking.set(principal, p);
      void p.finally(() => this.asking.delete(principal)).catch(() => undefined);
    }
    return p;
  }

  private async fromIndex(index: BucketIndex): Promise<string> {
    const certified = await index.certifiedBucket();
    if (certified) return certified;
    const attempts = this.opts.busyAttempts ?? 8;
    for (let attempt = 1; ; attempt++) {
      try {
        return await index.assignBucket();
      } catch (e) {
        if (!(e instanceof IndexBusyError)) throw e;
        if (attempt >= attempts) throw new BucketUnavailableError('the index is still creating a bucket', { cause: e });
        // Creating a bucket installs a 3.6 MB module: seconds, not milliseconds.
        await this.sleep(Math.min(500 * 2 ** (attempt - 1), 8000));
      }
    }
  }
}

/** A Candid `{ Err: { WrongBucket } }` answer. */
export function isWrongBucket(result: unknown): boolean {
  if (typeof result !== 'object' || result === null || !('Err' in result)) return false;
  const err = (result as { Err: unknown }).Err;
  return typeof err === 'object' && err !== null && 'WrongBucket' in err;
}

export interface Route<A> {
  /** The bucket to call now. */
  locate(): Promise<string>;
  /** The bucket answered WrongBucket: the one to call instead. */
  relocate(wrong: string): Promise<string>;
  /** An actor of the bucket. */
  create(bucket: string): Promise<A>;
}

/** What a routed actor adds to the service's methods. */
export interface Routed<A> {
  /** The bucket the last call went to (null before the first). */
  bucketId(): string | null;
  /** Runs `fn` on the bucket's own actor (for calls made below the actor, e.g. an already-encoded argument), with the same WrongBucket re-ask. */
  withBucket<T>(fn: (actor: A) => Promise<T>): Promise<T>;
}

/**
 * An object with the service's methods, each calling the principal's bucket
 * (actors are made once per bucket). Plain object, not a Proxy: it must not
 * look like a promise when awaited.
 */
export function routedActor<A extends object>(idlFactory: IDL.InterfaceFactory, route: Route<A>): A & Routed<A> {
  const actors = new Map<string, Promise<A>>();
  let current: string | null = null;
  const actorOf = (bucket: string): Promise<A> => {
    let a = actors.get(bucket);
    if (!a) {
      a = route.create(bucket);
      actors.set(bucket, a);
      a.catch(() => actors.delete(bucket));
    }
    return a;
  };
  const withBucket = async <T>(fn: (actor: A) => Promise<T>): Promise<T> => {
    const bucket = await route.locate();
    current = bucket;
    const first = await fn(await actorOf(bucket));
    if (!isWrongBucket(first)) return first;
    const next = await route.relocate(bucket);
    current = next;
    return fn(await actorOf(next));
  };
  const call = (method: string, args: unknown[]): Promise<unknown> =>
    withBucket((a) => (a as Record<string, (...a: unknown[]) => Promise<unknown>>)[method](...args));
  const service = idlFactory({ IDL }) as IDL.ServiceClass;
  const out: Record<string, unknown> = { bucketId: () => current, withBucket };
  for (const [name] of service._fields) out[name] = (...args: unknown[]) => call(name, args);
  return out as A & Routed<A>;
}

