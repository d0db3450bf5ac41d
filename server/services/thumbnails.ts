// A memory's thumbnail (or a video's poster frame): a small image kept with
// the memory's metadata, so the library shows it without the memory's bytes.
// One per memory; writing it again replaces it (idempotent for equal bytes).
import { MAX_THUMBNAIL_BYTES } from '../../contract/index.js';
import { sha256Hex } from '../bytes.js';
import { ApiError } from '../errors.js';
import type { ServiceContext } from './context.js';
import { toIso } from './time.js';

export const THUMBNAIL_TYPES = ['image/webp', 'image/jpeg', 'image/png'] as const;

export interface ThumbnailView {
  memory_id: string;
  mime_type: string;
  byte_size: number;
  etag: string;
  updated_at: string;
}

export async function putThumbnail(
  ctx: ServiceContext,
  userId: string,
  memoryId: string,
  contentType: string | undefined,
  bytes: Uint8Array,
): Promise<{ thumbnail: ThumbnailView; created: boolean }> {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (!(THUMBNAIL_TYPES as readonly string[]).includes(type)) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `a thumbnail is ${THUMBNAIL_TYPES.join(', ')}; got ${type || 'no Content-Type'}`);
  }
  if (bytes.byteLength === 0) throw new ApiError('INVALID_ARGUMENT', 'the thumbnail is empty');
  if (bytes.byteLength > MAX_THUMBNAIL_BYTES) throw new ApiError('PAYLOAD_TOO_LARGE', `a thumbnail is at most ${MAX_THUMBNAIL_BYTES} bytes`);
  const sha256 = sha256Hex(bytes);
  const now = toIso(ctx.now());
  return ctx.db.transaction().execute(async (trx) => {
    const memory = await trx.selectFrom('memories').select('id').where('user_id', '=', userId).where('id', '=', memoryId).executeTakeFirst();
    if (!memory) throw new ApiError('NOT_FOUND', 'memory not found');
    const existing = await trx.selectFrom('memory_thumbnails').select(['sha256', 'mime_type', 'updated_at']).where('user_id', '=', userId).where('memory_id', '=', memoryId).executeTakeFirst();
    if (existing && existing.sha256 === sha256 && existing.mime_type === type) {
      return { thumbnail: { memory_id: memoryId, mime_type: type, byte_size: bytes.byteLength, etag: sha256, updated_at: existing.updated_at }, created: false };
    }
    const values = { mime_type: type, bytes: Buffer.from(bytes), sha256, updated_at: now };
    await trx
      .insertInto('memory_thumbnails')
      .values({ user_id: userId, memory_id: memoryId, ...values, created_at: now })
      .onConflict((oc) => oc.columns(['user_id', 'memory_id']).doUpdateSet(values))
      .execute();
    return { thumbnail: { memory_id: memoryId, mime_type: type, byte_size: bytes.byteLength, etag: sha256, updated_at: now }, created: !existing };
  });
}

export async function getThumbnail(ctx: ServiceContext, userId: string, memoryId: string): Promise<{ mime_type: string; bytes: Uint8Array; sha256: string } | null> {
  const row = await ctx.db
    .selectFrom('memory_thumbnails')
    .select(['mime_type', 'bytes', 'sha256'])
    .where('user_id', '=', userId)
    .where('memory_id', '=', memoryId)
    .executeTakeFirst();
  return row ? { mime_type: row.mime_type, bytes: new Uint8Array(row.bytes), sha256: row.sha256 } : null;
}
