// web2-confirm: the server took the blob copy into its retry queue (202);
// ask until it stored it. The wait is not the item failing: Web2Pending
// grows the backoff but never uses up attempts. If the server gave up, the
// bytes are sent again (the item keeps them while it is Web2-only).
import { StepError } from '../../core/errors';
import type { QueueItem } from '../../core/types';
import type { StepContext } from './context';
import { web2Of } from './web2-metadata';

export async function web2ConfirmStep(ctx: StepContext, item: QueueItem): Promise<QueueItem> {
  const progress = web2Of(item);
  const web2 = ctx.web2;
  // Recorded only once the canister holds it; a Web2-only item asked to be stored forever meanwhile goes on from saved.
  const forever = item.committedAt !== null;
  if (!web2 || progress.blob !== 'pending_retry' || progress.queueId === null) return ctx.move(item, { type: 'web2-confirmed', forever });
  const queueId = progress.queueId;
  const status = await ctx.retry(() => web2.blobStatus(queueId));
  if (status === 'stored') return ctx.move(item, { type: 'web2-confirmed', forever }, { web2: { ...progress, blob: 'stored', queueId: null }, lastError: null });
  if (status === 'failed' && item.hasBytes) return ctx.move(item, { type: 'web2-resend' }, { web2: { ...progress, blob: null, queueId: null } });
  if (status === 'failed') return ctx.move(item, { type: 'web2-confirmed', forever }, { web2: { ...progress, blob: null, queueId: null } });
  throw new StepError({ category: 'transient', code: 'Web2Pending', message: `the server keeps the blob copy in its retry queue (${queueId})` });
}
