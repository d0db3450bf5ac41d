// verifying: the canister must show metadata and asset with our hash; then
// the memory and its two icp edges are recorded on the server.
import { StepError } from '../../core/errors';
import type { QueueItem } from '../../core/types';
import type { StepContext } from './context';
import { serverMemory } from './web2-metadata';

export async function verifyingStep(ctx: StepContext, item: QueueItem): Promise<QueueItem> {
  const presence = await ctx.call(() => ctx.canister.getMemoryPresence(item.id));
  if (!presence.metadataPresent || !presence.assetPresent || presence.sha256 !== item.sha256) {
    throw new StepError({ category: 'transient', code: 'PresenceUnconfirmed', message: `canister reports metadata ${presence.metadataPresent}, asset ${presence.assetPresent}, sha256 ${presence.sha256}` });
  }
  const recorder = ctx.recorder();
  const memory = serverMemory(item);
  await ctx.retry(() =>
    recorder.record(memory, [
      { memoryId: item.id, artifact: 'metadata', backend: 'icp', present: true, contentHash: null, size: null, location: null },
      { memoryId: item.id, artifact: 'asset', backend: 'icp', present: true, contentHash: item.sha256, size: item.size, location: null },
    ]),
  );
  const confirm = ctx.web2 !== null && item.web2?.blob === 'pending_retry';
  return ctx.move(item, { type: 'verified', confirm }, { lastError: null, nextRetryAt: null });
}
