// Galleries: an ordered set of the user's memories.
import { ApiError } from '../errors.js';
import type { GalleryInput } from '../schemas.js';
import { chunks, type ServiceContext } from './context.js';
import { requireMemories } from './memories.js';
import { toIso } from './time.js';

export interface GalleryView {
  id: string;
  title: string;
  description: string | null;
  memory_count: number;
  created_at: string;
  updated_at: string;
}

/**
 * Creates or replaces a gallery by id, with its memory list. All memories must
 * be the caller's (NOT_FOUND otherwise, nothing written).
 */
export async function upsertGallery(
  ctx: ServiceContext,
  userId: string,
  id: string,
  input: GalleryInput,
): Promise<{ gallery: GalleryView; created: boolean }> {
  const memoryIds = [...new Set(input.memory_ids)];
  if (memoryIds.length !== input.memory_ids.length) throw new ApiError('INVALID_ARGUMENT', 'memory_ids contains duplicates');
  await requireMemories(ctx, userId, memoryIds);
  const created = await ctx.db.transaction().execute(async (trx) => {
    const now = toIso(ctx.now());
    const existing = await trx.selectFrom('galleries').select('id').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    if (existing) {
      await trx
        .updateTable('galleries')
        .set({ title: input.title, description: input.description ?? null, updated_at: now })
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .execute();
      await trx.deleteFrom('gallery_memories').where('user_id', '=', userId).where('gallery_id', '=', id).execute();
    } else {
      await trx
        .insertInto('galleries')
        .values({ user_id: userId, id, title: input.title, description: input.description ?? null, created_at: now, updated_at: now })
        .execute();
    }
    // 4 bind parameters per row: stay under SQLite's and PostgreSQL's limits.
    for (const [n, part] of chunks(memoryIds, 2000).entries()) {
      await trx
        .insertInto('gallery_memories')
        .values(part.map((memory_id, i) => ({ user_id: userId, gallery_id: id, memory_id, position: n * 2000 + i })))
        .execute();
    }
    return !existing;
  });
  const gallery = await getGallery(ctx, userId, id);
  if (!gallery) throw new ApiError('INTERNAL', 'gallery vanished after write');
  return { gallery, created };
}

export async function getGallery(ctx: ServiceContext, userId: string, id: string): Promise<GalleryView | null> {
  const row = await ctx.db
    .selectFrom('galleries as g')
    .leftJoin('gallery_memories as gm', (j) => j.onRef('gm.user_id', '=', 'g.user_id').onRef('gm.gallery_id', '=', 'g.id'))
    .select((eb) => ['g.id', 'g.title', 'g.description', 'g.created_at', 'g.updated_at', eb.fn.count<number>('gm.memory_id').as('memory_count')])
    .where('g.user_id', '=', userId)
    .where('g.id', '=', id)
    .groupBy(['g.id', 'g.title', 'g.description', 'g.created_at', 'g.updated_at'])
    .executeTakeFirst();
  return row ? { ...row, memory_count: Number(row.memory_count) } : null;
}

export async function galleryMemoryIds(
  ctx: ServiceContext,
  userId: string,
  id: string,
  limit: number,
  offset: number,
): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom('gallery_memories')
    .select('memory_id')
    .where('user_id', '=', userId)
    .where('gallery_id', '=', id)
    .orderBy('position')
    .limit(limit)
    .offset(offset)
    .execute();
  return rows.map((r) => r.memory_id);
}

export async function listGalleries(ctx: ServiceContext, userId: string, limit: number, cursor?: string) {
  let q = ctx.db.selectFrom('galleries').select(['id', 'title', 'description', 'created_at', 'updated_at']).where('user_id', '=', userId);
  if (cursor) q = q.where('id', '>', cursor);
  const rows = await q.orderBy('id').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  return { galleries: page, next_cursor: rows.length > limit ? page[page.length - 1].id : null };
}
