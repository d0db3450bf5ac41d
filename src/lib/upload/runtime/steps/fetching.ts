// fetching: Store Forever later for a memory whose bytes this browser does not
// have: they are read back from the server's blob copy into the queue, then
// hashed like any file (and compared with the recorded hash) before any chunk.
import { StepError } from '../../core/errors';
import { transition } from '../../core/machine';
import type { QueueItem } from '../../core/types';
import type { StepContext } from './context';

export async function fetchingStep(ctx: StepContext, item: QueueItem): Promise<QueueItem> {
  const web2 = ctx.web2;
  if (!web2) throw new StepError({ category: 'permanent', code: 'BytesMissing', message: 'no server to read the blob copy from', reason: 'this file’s bytes are neither in this browser nor reachable on the server' });
  const blob = await ctx.retry(() => web2.fetchContent(item.id));
  if (blob.size !== item.size) {
    throw new StepError({ category: 'permanent', code: 'HashMismatch', message: `the blob copy has ${blob.size} bytes, the memory ${item.size}`, reason: "the server's copy of this file does not have the recorded size, so nothing was stored on the Internet Computer" });
  }
  const next = await ctx.store.putBytes(item.id, blob, (cur) => ({ ...cur, ...transition(cur, { type: 'fetched' }) }));
  ctx.announce(next);
  return next;
}
