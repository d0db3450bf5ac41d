// The user's `forever` actor for a configuration: the bucket the index names
// for the signed-in principal (the product), or the one standalone canister
// the configuration names (tests, single-canister deployments). Used by the
// upload engine (pages and the service worker) and the library's reads.
import type { Identity } from '@dfinity/agent';
import { idlFactory } from '../../../declarations/forever/forever.did.js';
import { BucketLocator } from './bucket-locator';
import { bucketActor, memoryBucketCache, queueStoreBucketCache } from './bucket-index';
import type { ClientConfig } from './client-config';
import { createForeverActor, type ForeverActor } from './forever-canister';
import { QueueStore } from './queue-store';

const locators = new WeakMap<QueueStore, BucketLocator>();

/** One locator per queue database (its cache is that database's). */
export function locatorFor(store: QueueStore): BucketLocator {
  let l = locators.get(store);
  if (!l) locators.set(store, (l = new BucketLocator({ cache: queueStoreBucketCache(store) })));
  return l;
}

let defaultStore: Promise<QueueStore> | null = null;
let memoryLocator: BucketLocator | null = null;

/** The locator over the default queue database (the page's library reads); in memory without IndexedDB. */
export async function defaultLocator(): Promise<BucketLocator> {
  if (typeof indexedDB === 'undefined') return (memoryLocator ??= new BucketLocator({ cache: memoryBucketCache() }));
  defaultStore ??= QueueStore.open();
  return locatorFor(await defaultStore);
}

export type UserForeverActor = ForeverActor & { bucketId(): string | null };

export function userForeverActor(identity: Identity, config: Pick<ClientConfig, 'icHost' | 'fetchRootKey' | 'indexId' | 'canisterId'>, locator: BucketLocator, f?: typeof fetch): Promise<UserForeverActor> | UserForeverActor {
  const target = (canisterId: string) => ({ host: config.icHost, canisterId, fetchRootKey: config.fetchRootKey, fetch: f });
  if (!config.indexId) {
    const canisterId = config.canisterId!;
    return createForeverActor(identity, target(canisterId)).then((a) => Object.assign(a, { bucketId: () => canisterId }));
  }
  return bucketActor<ForeverActor>({
    identity,
    locator,
    index: { host: config.icHost, indexId: config.indexId, fetchRootKey: config.fetchRootKey, fetch: f },
    idlFactory,
    create: (bucket) => createForeverActor(identity, target(bucket)),
  });
}
