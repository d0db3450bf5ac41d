// metadata: upsert_metadata on the canister, idempotent by the key fixed at
// enqueue. A copy of a file waits here for its twin.
import { isAlreadyExists } from '../../core/errors';
import { requireHash, waitForTwinAhead } from '../../core/twins';
import type { QueueItem } from '../../core/types';
import type { StepContext } from './context';

export async function metadataStep(ctx: StepContext, item: QueueItem): Promise<QueueItem> {
  if (item.duplicateOf !== null) {
    // A copy waits while its twin is storing the file (it is never shown
    // recorded before the file is on the canister, and keeps its bytes
    // meanwhile), then is recorded as the twin's memory: one asset. If the
    // twin failed for good or was removed, it stores the file itself.
    const twins = await ctx.twinsOf(item, requireHash(item));
    waitForTwinAhead(item, twins);
    // A twin whose asset the canister confirmed: its memory holds the file.
    const stored = twins.find((o) => o.committedAt !== null);
    if (stored) return ctx.moveDroppingBytes(item, { type: 'duplicate' }, { duplicateOf: stored.id });
  }
  await ctx.call(async () => {
    try {
      await ctx.canister.upsertMetadata(item.id, item.memoryType, { ...item.metadata, name: item.name, mimeType: item.mimeType }, item.idempotencyKey);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  });
  return ctx.move(item, { type: 'metadata-stored' });
}
