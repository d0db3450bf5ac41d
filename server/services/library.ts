// The library: a user's memories with their presence, one page per query.
// Presence comes from SQL aggregates over storage_edges grouped per memory
// (as for a single memory), filtered in HAVING, so a page of a library of
// 10,000 memories is one statement on either engine.
import { sql, type SqlBool } from 'kysely';
import type { MemoryType } from '../../contract/index.js';
import type { ServiceContext } from './context.js';
import { toMemoryView, type MemoryView } from './memories.js';
import { flag, presenceOf, type MemoryPresence } from './presence.js';

import type { LibraryStatus } from './presence-status.js';

export { LIBRARY_STATUSES, type LibraryStatus } from './presence-status.js';

export interface LibraryItem extends MemoryView {
  has_thumbnail: boolean;
  presence: MemoryPresence;
}

export interface LibraryQuery {
  limit: number;
  cursor?: string;
  type?: MemoryType;
  status?: LibraryStatus;
  /** Only the memories of this folder. */
  folderId?: string;
  /** Id order (UUID v7: creation order); `desc` lists the newest first. */
  order?: 'asc' | 'desc';
}

const META_ICP = flag('icp', 'metadata');
const ASSET_ICP = flag('icp', 'asset');
const COMPLETE = sql<SqlBool>`(${META_ICP} = 1 and (${ASSET_ICP} = 1 or m.memory_type = 'note'))`;
const ANY_ICP = sql<SqlBool>`(${META_ICP} = 1 or ${ASSET_ICP} = 1)`;
const FAILED = sql<SqlBool>`max(case when e.sync_state = 'failed' then 1 else 0 end) = 1`;

const STATUS_SQL: Record<LibraryStatus, ReturnType<typeof sql<SqlBool>>> = {
  stored_forever: COMPLETE,
  partially_stored: sql<SqlBool>`(not ${COMPLETE} and ${ANY_ICP})`,
  web2_only: sql<SqlBool>`not ${ANY_ICP}`,
  failed: FAILED,
};

export async function listLibrary(ctx: ServiceContext, userId: string, q: LibraryQuery): Promise<{ memories: LibraryItem[]; next_cursor: string | null }> {
  const desc = q.order === 'desc';
  let query = ctx.db
    .selectFrom('memories as m')
    .leftJoin('storage_edges as e', (j) => j.onRef('e.user_id', '=', 'm.user_id').onRef('e.memory_id', '=', 'm.id'))
    .select([
      'm.user_id',
      'm.id',
      'm.memory_type',
      'm.title',
      'm.description',
      'm.metadata',
      'm.folder_id',
      'm.created_at',
      'm.updated_at',
      flag('blob', 'asset').as('asset_blob'),
      META_ICP.as('meta_icp'),
      ASSET_ICP.as('asset_icp'),
      flag('ipfs', 'asset').as('asset_ipfs'),
      (eb) =>
        eb
          .exists(eb.selectFrom('memory_thumbnails as t').select(sql`1`.as('one')).whereRef('t.user_id', '=', 'm.user_id').whereRef('t.memory_id', '=', 'm.id'))
          .as('has_thumbnail'),
    ])
    .where('m.user_id', '=', userId);
  if (q.cursor) query = query.where('m.id', desc ? '<' : '>', q.cursor);
  if (q.type) query = query.where('m.memory_type', '=', q.type);
  if (q.folderId) query = query.where('m.folder_id', '=', q.folderId);
  // Grouped by the primary key: PostgreSQL then allows the memory's other columns.
  let grouped = query.groupBy(['m.user_id', 'm.id']);
  if (q.status) grouped = grouped.having(STATUS_SQL[q.status]);
  const rows = await grouped.orderBy('m.id', desc ? 'desc' : 'asc').limit(q.limit + 1).execute();
  const page = rows.slice(0, q.limit);
  return {
    memories: page.map((r) => ({
      ...toMemoryView(r),
      has_thumbnail: Boolean(Number(r.has_thumbnail)),
      presence: presenceOf({ memory_id: r.id, memory_type: r.memory_type, asset_blob: r.asset_blob, meta_icp: r.meta_icp, asset_icp: r.asset_icp, asset_ipfs: r.asset_ipfs }),
    })),
    next_cursor: rows.length > q.limit ? page[page.length - 1].id : null,
  };
}
