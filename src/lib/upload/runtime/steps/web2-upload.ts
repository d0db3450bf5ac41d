// web2-upload: the bytes to the server's blob copy. A 202 pending_retry means
// the server took them and retries storing them itself: the item goes on and
// asks later (web2-confirm), it is not a failure.
import { StepError } from '../../core/errors';
import { requireHash } from '../../core/twins';
import type { QueueItem } from '../../core/types';
import type { StepContext } from './context';
import { web2Of } from './web2-metadata';

export async function web2UploadStep(ctx: StepContext, item: QueueItem): Promise<QueueItem> {
  const web2 = ctx.web2;
  const progress = web2Of(item);
  if (!web2 || progress.blob !== null) return ctx.move(item, { type: 'web2-uploaded' });
  const blob = item.hasBytes ? await ctx.store.bytes(item.id) : undefined;
  if (!blob) throw new StepError({ category: 'permanent', code: 'BytesMissing', message: 'the queued bytes are gone; pick the file again' });
  const sha256 = requireHash(item);
  const answer = await ctx.retry(() => web2.uploadBlob(item.id, sha256, blob));
  const next = answer.status === 'stored' ? { ...progress, blob: 'stored' as const, queueId: null } : { ...progress, blob: 'pending_retry' as const, queueId: answer.queueId };
  return ctx.move(item, { type: 'web2-uploaded' }, { web2: next });
}
