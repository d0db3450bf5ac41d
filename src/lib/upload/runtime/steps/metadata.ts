// metadata: upsert_metadata on the canister, idempotent by the key fixed at
// enqueue. A copy of a file waits here for its twin.
import { classifyError, isAlreadyExists } from '../../core/errors';
import { requireHash, waitForTwinAhead } from '../../core/twins';
import type { QueueItem } from '../../core/types';
import type { StepContext } from './context';

/**
 * A copy waits while its twin is storing the file (it is never shown recorded
 * before the file is on the canister, and keeps its bytes meanwhile), then is
 * recorded as the twin's memory: one asset. If the twin failed for good or was
 * removed, it stores the file itself. Returns the copy's record once it is
 * recorded as its twin, null when it goes on by itself. The first step after
 * hashing (the Web2 record, or this one) asks.
 */
export async function settleCopy(ctx: StepContext, item: QueueItem): Promise<QueueItem | null> {
  if (item.duplicateOf === null) return null;
  const twins = await ctx.twinsOf(item, requireHash(item));
  waitForTwinAhead(item, twins);
  // A twin whose asset the canister confirmed: its memory holds the file.
  const stored = twins.find((o) => o.committedAt !== null);
  return stored ? ctx.moveDroppingBytes(item, { type: 'duplicate' }, { duplicateOf: stored.id }) : null;
}

export async function metadataStep(ctx: StepContext, item: QueueItem): Promise<QueueItem> {
  const copy = await settleCopy(ctx, item);
  if (copy) return copy;
  await ctx.call(async () => {
    try {
      await ctx.canister.upsertMetadata(item.id, item.memoryType, { ...item.metadata, name: item.name, mimeType: item.mimeType }, item.idempotencyKey);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  });
  await thumbnailToCanister(ctx, item);
  return ctx.move(item, { type: 'metadata-stored' });
}

/**
 * The thumbnail made for the Web2 copy goes to the canister too, right after
 * the metadata it belongs to, so the library shows it with the IC alone. The
 * same bytes again write nothing there, so a retried step may send it again.
 * A refusal leaves the memory with its type icon; a connection failure retries.
 */
async function thumbnailToCanister(ctx: StepContext, item: QueueItem): Promise<void> {
  const set = ctx.canister.setThumbnail?.bind(ctx.canister);
  if (!set) return;
  const thumb = await ctx.store.thumbnail(item.id);
  if (!thumb) return;
  const bytes = new Uint8Array(await thumb.arrayBuffer());
  try {
    await ctx.call(() => set(item.id, bytes));
  } catch (err) {
    if (classifyError(err).category !== 'permanent') throw err;
  }
}
