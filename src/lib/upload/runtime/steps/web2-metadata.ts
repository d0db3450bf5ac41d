// web2-metadata: the memory's record on the server (PUT, idempotent by id),
// with its folder. A copy of a file stored forever settles with its twin first.
import type { ServerMemory } from '../../core/ports';
import type { QueueItem } from '../../core/types';
import type { StepContext } from './context';
import { settleCopy } from './metadata';

/** The server's record of `item`. */
export function serverMemory(item: QueueItem): ServerMemory {
  return {
    id: item.id,
    memoryType: item.memoryType,
    title: item.metadata.title,
    description: item.metadata.description ?? null,
    folderId: item.folderId ?? null,
    name: item.name,
    mimeType: item.mimeType,
    size: item.size,
    exists: item.web2?.memory === true,
  };
}

export async function web2MetadataStep(ctx: StepContext, item: QueueItem): Promise<QueueItem> {
  const copy = await settleCopy(ctx, item);
  if (copy) return copy;
  const web2 = ctx.web2;
  if (web2 && item.web2?.memory !== true) await ctx.retry(() => web2.upsertMemory(serverMemory(item)));
  return ctx.move(item, { type: 'web2-metadata-stored' }, { web2: { ...web2Of(item), memory: true } });
}

export function web2Of(item: QueueItem): NonNullable<QueueItem['web2']> {
  return item.web2 ?? { memory: false, blob: null, queueId: null, thumbnail: null };
}
