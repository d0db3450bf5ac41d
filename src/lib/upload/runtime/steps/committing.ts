// committing: commit_asset; AlreadyExists is success. A commit whose answer
// was lost leaves no session: the canister's presence decides.
import { CanisterError, isAlreadyExists, StepError } from '../../core/errors';
import { requireHash } from '../../core/twins';
import type { QueueItem } from '../../core/types';
import type { StepContext } from './context';

export async function committingStep(ctx: StepContext, item: QueueItem): Promise<QueueItem> {
  const sessionId = item.sessionId;
  if (sessionId === null) return ctx.move(item, { type: 'session-lost' }, { receivedChunks: [] });
  try {
    await ctx.call(async () => {
      try {
        await ctx.canister.commitAsset(sessionId, requireHash(item));
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    });
  } catch (err) {
    // A commit that succeeded but whose answer we never saw (closed tab,
    // dropped connection) leaves no session behind: ask what is stored.
    if (err instanceof CanisterError && (err.code === 'NotFound' || err.code === 'UploadExpired')) {
      const presence = await ctx.call(() => ctx.canister.getMemoryPresence(item.id));
      if (presence.assetPresent && presence.sha256 === item.sha256) return committed(ctx, item);
      throw new StepError({ category: 'transient', code: err.code, message: err.message }, true);
    }
    throw err;
  }
  return committed(ctx, item);
}

function committed(ctx: StepContext, item: QueueItem): Promise<QueueItem> {
  // The canister holds the bytes now; the queued copy can go (the item stays for the UI).
  return ctx.moveDroppingBytes(item, { type: 'committed' }, { committedAt: ctx.clock.now(), sessionId: null });
}
