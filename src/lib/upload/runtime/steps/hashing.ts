// hashing: SHA-256 of the queued bytes, in the hash worker (pages) or inline
// (the service worker, Node).
import { StepError } from '../../core/errors';
import { transition } from '../../core/machine';
import type { QueueItem } from '../../core/types';
import type { StepContext } from './context';

export async function hashingStep(ctx: StepContext, item: QueueItem): Promise<QueueItem> {
  const blob = item.hasBytes ? await ctx.store.bytes(item.id) : undefined;
  if (!blob) throw new StepError({ category: 'permanent', code: 'BytesMissing', message: 'the queued bytes are gone; pick the file again' });
  const total = item.size;
  const emit = ctx.progress(item);
  const sha256 = await ctx.hasher.sha256(blob, { signal: ctx.signal, onProgress: (hashed) => emit({ hashed: total === 0 ? 1 : hashed / total }) });
  // Bytes read back from the server's blob copy must be the ones it recorded, before any chunk goes out.
  if (item.expectedSha256 && sha256 !== item.expectedSha256) {
    throw new StepError({
      category: 'permanent',
      code: 'HashMismatch',
      message: `the blob copy hashes to ${sha256}, the server recorded ${item.expectedSha256}`,
      reason: "the server's copy of this file does not match its recorded SHA-256, so nothing was stored on the Internet Computer",
    });
  }
  // The same bytes picked twice are stored once: the later item records its
  // twin here (in one transaction, so two copies hashed at once cannot miss
  // each other), keeps its bytes, and waits for the twin at the metadata step.
  const next = await ctx.store.recordHash(item.id, sha256, (cur, twin) => ({ ...cur, ...transition(cur, { type: 'hashed', ...ctx.route(cur) }), sha256, duplicateOf: twin?.id ?? null }));
  ctx.announce(next);
  return next;
}
