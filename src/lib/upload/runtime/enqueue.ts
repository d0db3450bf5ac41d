// Putting a file in the queue: the browser's quota check, then the item and
// its bytes in one transaction.
import { checkQuota, QUOTA_MARGIN, StorageQuotaError, type StorageManagerLike } from '../adapters/browser-storage';
import type { QueueStore } from '../adapters/queue-store';
import { newQueueItem, type EnqueueInput } from '../core/queue-item';
import type { QueueItem } from '../core/types';

/** Checks quota, then stores the item and its bytes (a Blob, in their own store) in the queue. */
export async function enqueue(store: QueueStore, input: EnqueueInput, storage?: StorageManagerLike): Promise<QueueItem> {
  const item = newQueueItem(input);
  await checkQuota(storage, item.size);
  try {
    return await store.add(item, input.blob);
  } catch (err) {
    // The estimate is only an estimate: the write itself can still be refused.
    if (err instanceof Error && err.name === 'QuotaExceededError') throw new StorageQuotaError(item.size + QUOTA_MARGIN, 0);
    throw err;
  }
}
