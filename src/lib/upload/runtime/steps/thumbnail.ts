// thumbnail: an image's thumbnail (made here, off the main thread) or a
// video's poster frame (grabbed by the page that added it), to the server.
// A thumbnail is a nicety: one that cannot be made, or that the server
// refuses, leaves the memory with its type icon, never fails it.
import { classifyError } from '../../core/errors';
import type { QueueItem } from '../../core/types';
import type { StepContext } from './context';
import { web2Of } from './web2-metadata';

export async function thumbnailStep(ctx: StepContext, item: QueueItem): Promise<QueueItem> {
  const progress = web2Of(item);
  let outcome = progress.thumbnail;
  const web2 = ctx.web2;
  if (outcome === null && web2) {
    let thumb = await ctx.store.thumbnail(item.id);
    if (!thumb && ctx.thumbnailer && item.hasBytes) {
      const blob = await ctx.store.bytes(item.id);
      thumb = (blob && (await ctx.thumbnailer.thumbnail(blob, item.mimeType).catch(() => null))) ?? undefined;
      if (thumb) await ctx.store.putThumbnail(item.id, thumb);
    }
    if (!thumb) outcome = 'none';
    else {
      try {
        const t = thumb;
        await ctx.retry(() => web2.putThumbnail(item.id, t));
        outcome = 'stored';
      } catch (err) {
        // Waiting for the connection is worth it; a refusal is not.
        if (classifyError(err).category !== 'permanent') throw err;
        outcome = 'none';
      }
    }
  }
  const forever = item.storeForever !== false;
  return ctx.move(item, { type: 'thumbnail-done', forever, confirm: !forever && progress.blob === 'pending_retry' }, { web2: { ...progress, thumbnail: outcome ?? 'none' } });
}
