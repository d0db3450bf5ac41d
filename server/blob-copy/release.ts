// Frees what a deleted memory's blob copy held: its queue files, and the blob
// itself once no blob edge (of any user: the store is content-addressed and
// shared) and no live queue item names the hash.
import { promises as fs } from 'node:fs';
import type { ServiceContext } from '../services/context.js';
import type { BlobStore } from './blob-store.js';

export async function releaseBlobCopy(ctx: ServiceContext, blobStore: BlobStore, hash: string | null, queueFiles: readonly string[]): Promise<{ freed: boolean }> {
  for (const file of queueFiles) await fs.rm(file, { force: true });
  if (hash === null) return { freed: false };
  const edge = await ctx.db.selectFrom('storage_edges').select('memory_id').where('content_hash', '=', hash).where('backend', '=', 'blob').limit(1).executeTakeFirst();
  if (edge) return { freed: false };
  const queued = await ctx.db
    .selectFrom('upload_queue')
    .select('id')
    .where('content_hash', '=', hash)
    .where('status', 'in', ['pending', 'processing'])
    .limit(1)
    .executeTakeFirst();
  if (queued) return { freed: false };
  const freed = await blobStore.delete(hash);
  if (freed) ctx.logger.info('BlobCopyFreed', { content_hash: hash });
  return { freed };
}
