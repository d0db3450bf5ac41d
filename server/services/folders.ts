// Folders: the memories added from one directory pick, or grouped by the
// user. A memory is in at most one folder (memories.folder_id). Deleting a
// folder keeps its memories and clears their folder_id in the same transaction.
import { sql } from 'kysely';
import { ApiError } from '../errors.js';
import type { ServiceContext } from './context.js';
import { ANY_ICP_SQL, COMPLETE_SQL, presenceSummary, type PresenceSummary } from './presence.js';
import { toIso } from './time.js';

export interface FolderView {
  id: string;
  title: string;
  memory_count: number;
  created_at: string;
  updated_at: string;
  presence: PresenceSummary;
}

export async function upsertFolder(ctx: ServiceContext, userId: string, id: string, title: string): Promise<{ folder: FolderView; created: boolean }> {
  const now = toIso(ctx.now());
  const created = await ctx.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('folders').select('title').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    if (existing) {
      if (existing.title !== title) {
        await trx.updateTable('folders').set({ title, updated_at: now }).where('user_id', '=', userId).where('id', '=', id).execute();
      }
      return false;
    }
    await trx.insertInto('folders').values({ user_id: userId, id, title, created_at: now, updated_at: now }).execute();
    return true;
  });
  const [folder] = await foldersById(ctx, userId, [id]);
  if (!folder) throw new ApiError('INTERNAL', 'folder vanished after write');
  return { folder, created };
}

/** Folders with their counts and presence, one aggregate query (as for galleries). */
async function foldersById(ctx: ServiceContext, userId: string, ids: readonly string[]): Promise<FolderView[]> {
  if (ids.length === 0) return [];
  const perMemory = ctx.db
    .selectFrom('memories as m')
    .leftJoin('storage_edges as e', (j) =>
      j.onRef('e.user_id', '=', 'm.user_id').onRef('e.memory_id', '=', 'm.id').on('e.backend', '=', 'icp').on('e.present', '=', 1),
    )
    .select([
      'm.folder_id as folder_id',
      'm.memory_type as memory_type',
      sql<number>`max(case when e.artifact = 'metadata' then 1 else 0 end)`.as('meta_icp'),
      sql<number>`max(case when e.artifact = 'asset' then 1 else 0 end)`.as('asset_icp'),
    ])
    .where('m.user_id', '=', userId)
    .where('m.folder_id', 'in', [...ids])
    .groupBy(['m.folder_id', 'm.id', 'm.memory_type']);
  const perFolder = ctx.db
    .selectFrom(perMemory.as('pm'))
    .select(['pm.folder_id as folder_id', sql<number>`count(*)`.as('total'), COMPLETE_SQL.as('complete'), ANY_ICP_SQL.as('any_icp')])
    .groupBy('pm.folder_id');
  const rows = await ctx.db
    .selectFrom('folders as f')
    .leftJoin(perFolder.as('a'), 'a.folder_id', 'f.id')
    .select([
      'f.id',
      'f.title',
      'f.created_at',
      'f.updated_at',
      sql<number>`coalesce(a.total, 0)`.as('total'),
      sql<number>`coalesce(a.complete, 0)`.as('complete'),
      sql<number>`coalesce(a.any_icp, 0)`.as('any_icp'),
    ])
    .where('f.user_id', '=', userId)
    .where('f.id', 'in', [...ids])
    .orderBy('f.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    memory_count: Number(r.total),
    created_at: r.created_at,
    updated_at: r.updated_at,
    presence: presenceSummary(r),
  }));
}

export async function getFolder(ctx: ServiceContext, userId: string, id: string): Promise<FolderView | null> {
  return (await foldersById(ctx, userId, [id]))[0] ?? null;
}

export async function listFolders(ctx: ServiceContext, userId: string, limit: number, cursor?: string): Promise<{ folders: FolderView[]; next_cursor: string | null }> {
  let q = ctx.db.selectFrom('folders').select('id').where('user_id', '=', userId);
  if (cursor) q = q.where('id', '>', cursor);
  const ids = (await q.orderBy('id').limit(limit + 1).execute()).map((r) => r.id);
  const page = ids.slice(0, limit);
  return { folders: await foldersById(ctx, userId, page), next_cursor: ids.length > limit ? page[page.length - 1] : null };
}

/** Deletes a folder (idempotent); its memories stay, outside any folder. */
export async function deleteFolder(ctx: ServiceContext, userId: string, id: string): Promise<{ deleted: boolean; memories_released: number }> {
  return ctx.db.transaction().execute(async (trx) => {
    const released = await trx
      .updateTable('memories')
      .set({ folder_id: null, updated_at: toIso(ctx.now()) })
      .where('user_id', '=', userId)
      .where('folder_id', '=', id)
      .executeTakeFirst();
    const r = await trx.deleteFrom('folders').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    return { deleted: Number(r.numDeletedRows) === 1, memories_released: Number(released.numUpdatedRows) };
  });
}
