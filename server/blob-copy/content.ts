// What GET /api/memories/:id/content serves: the memory's blob copy, with its
// type as the memory's metadata names it (only types a browser shows without
// running them; anything else is served as bytes to download).
import type { ServiceContext } from '../services/context.js';
import type { BlobStore } from './blob-store.js';

/** Types served as themselves; an HTML or SVG file, say, would run as this origin's page. */
const INLINE_TYPE = /^(image\/(png|jpeg|gif|webp|avif|heic|heif|bmp)|video\/[\w.+-]+|audio\/[\w.+-]+|application\/pdf|text\/plain|text\/markdown)$/;

export interface BlobContent {
  sha256: string;
  size: number;
  contentType: string;
  fileName: string | null;
}

const metaString = (m: Record<string, unknown>, ...keys: string[]): string | null => {
  for (const k of keys) if (typeof m[k] === 'string' && m[k] !== '') return m[k] as string;
  return null;
};

/** The stored blob copy of a memory, or null when it has none (yet). */
export async function memoryContent(ctx: ServiceContext, blobStore: BlobStore, userId: string, memoryId: string): Promise<BlobContent | null | 'no_memory'> {
  const row = await ctx.db
    .selectFrom('memories as m')
    .leftJoin('storage_edges as e', (j) =>
      j.onRef('e.user_id', '=', 'm.user_id').onRef('e.memory_id', '=', 'm.id').on('e.artifact', '=', 'asset').on('e.backend', '=', 'blob').on('e.present', '=', 1),
    )
    .select(['m.metadata', 'e.content_hash'])
    .where('m.user_id', '=', userId)
    .where('m.id', '=', memoryId)
    .executeTakeFirst();
  if (!row) return 'no_memory';
  if (!row.content_hash) return null;
  const size = await blobStore.size(row.content_hash);
  if (size === null) return null;
  const meta = (typeof row.metadata === 'string' ? JSON.parse(row.metadata) : row.metadata) as Record<string, unknown>;
  const declared = (metaString(meta, 'mime_type', 'mimeType', 'type') ?? '').toLowerCase().split(';')[0].trim();
  return {
    sha256: row.content_hash,
    size,
    contentType: INLINE_TYPE.test(declared) ? declared : 'application/octet-stream',
    fileName: metaString(meta, 'file_name', 'fileName', 'name'),
  };
}
