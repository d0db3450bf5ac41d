// The index canister over @dfinity/agent, signed as the user (the
// BucketIndex port of bucket-locator.ts), and the per-principal bucket cache
// in the queue's IndexedDB database (pages and the service worker share it).
import { Actor, HttpAgent, type Identity } from '@dfinity/agent';
import { BucketLocator, IndexBusyError, routedActor, type BucketCache, type BucketIndex } from './bucket-locator';
import { verifyCertifiedBucket } from './certified-bucket';
import { indexIdlFactory, type IndexService } from './index-idl';
import type { QueueStore } from './queue-store';

export interface IndexTarget {
  host: string;
  indexId: string;
  fetchRootKey: boolean;
  fetch?: typeof fetch;
}

const bytes = (b: Uint8Array | number[]): Uint8Array => (b instanceof Uint8Array ? b : Uint8Array.from(b));

export async function agentBucketIndex(identity: Identity, target: IndexTarget): Promise<BucketIndex> {
  const agent = await HttpAgent.create({ host: target.host, identity, retryTimes: 0, fetch: target.fetch, shouldFetchRootKey: target.fetchRootKey });
  const actor = Actor.createActor<IndexService>(indexIdlFactory, { agent, canisterId: target.indexId });
  const principal = identity.getPrincipal().toText();
  return {
    async certifiedBucket() {
      const a = await actor.my_bucket_certified();
      if (!agent.rootKey) throw new Error('The agent has no root key to verify the index with');
      return verifyCertifiedBucket({ certificate: bytes(a.certificate), tree: bytes(a.tree), indexId: target.indexId, principal, rootKey: agent.rootKey });
    },
    async assignBucket() {
      const r = await actor.assign_bucket();
      if ('Ok' in r) return r.Ok.toText();
      // Busy: a bucket is being created; AdmitFailed: the bucket did not confirm yet, the next call resumes it.
      if ('Busy' in r.Err || 'AdmitFailed' in r.Err) throw new IndexBusyError();
      const [code, detail] = Object.entries(r.Err)[0];
      throw new Error(`The index refused to place you: ${code}${typeof detail === 'string' ? ` (${detail})` : ''}`);
    },
  };
}

const cacheKey = (principal: string) => `bucket:${principal}`;

/** Buckets by principal in the queue database's meta store. */
export function queueStoreBucketCache(store: QueueStore): BucketCache {
  return {
    async get(principal) {
      const v = await store.getMeta<{ bucket: string } | null>(cacheKey(principal));
      return v?.bucket;
    },
    put: (principal, bucket) => store.setMeta(cacheKey(principal), { bucket, at: Date.now() }),
    drop: (principal) => store.setMeta(cacheKey(principal), null),
  };
}

/**
 * An actor of `idlFactory` whose calls go to the bucket of `identity`'s
 * principal, found through the index (and re-found on WrongBucket).
 */
export function bucketActor<A extends object>(opts: {
  identity: Identity;
  locator: BucketLocator;
  index: IndexTarget;
  idlFactory: Parameters<typeof routedActor>[0];
  create: (bucket: string) => Promise<A>;
}): A & { bucketId(): string | null } {
  const principal = opts.identity.getPrincipal().toText();
  let index: Promise<BucketIndex> | null = null;
  const theIndex = () => {
    index ??= agentBucketIndex(opts.identity, opts.index);
    index.catch(() => (index = null));
    return index;
  };
  return routedActor<A>(opts.idlFactory, {
    locate: async () => opts.locator.locate(principal, await theIndex()),
    relocate: async (wrong) => opts.locator.relocate(principal, wrong, await theIndex()),
    create: opts.create,
  });
}

/** Buckets by principal in memory: where there is no IndexedDB (Node scripts such as the benches). */
export function memoryBucketCache(): BucketCache {
  const m = new Map<string, string>();
  return {
    get: async (principal) => m.get(principal),
    put: async (principal, bucket) => void m.set(principal, bucket),
    drop: async (principal) => void m.delete(principal),
  };
}
