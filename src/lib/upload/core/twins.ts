// Copies of one file (same owner, same bytes) are stored once. Pure rules
// the engine's steps share.
import { StepError } from './errors';
import type { QueueItem } from './types';

/**
 * Throws `WaitingForTwin` while one of `twins` that comes before `item` is
 * still storing the file (not committed, failed or recorded). Originals (no
 * `duplicateOf`) come before copies, copies by enqueue time: a strict order,
 * so copies of one file upload one after another and no two wait for each other.
 */
export function waitForTwinAhead(item: QueueItem, twins: readonly QueueItem[]): void {
  const first = (o: QueueItem) => o.duplicateOf === null || o.createdAt < item.createdAt || (o.createdAt === item.createdAt && o.id < item.id);
  const ahead = twins.find((o) => o.committedAt === null && o.state !== 'failed' && o.state !== 'recorded' && first(o));
  if (ahead) throw new StepError({ category: 'transient', code: 'WaitingForTwin', message: `waiting for ${ahead.name} (${ahead.id}), the same file, to be stored first` });
}

export function requireHash(item: QueueItem): string {
  if (item.sha256 === null) throw new Error(`item ${item.id} reached ${item.state} without a hash`);
  return item.sha256;
}
