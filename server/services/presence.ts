// Presence for memories and galleries, answered by SQL aggregates over
// storage_edges (one query per request, whatever the gallery size).
import { sql } from 'kysely';
import type { MemoryType } from '../db/schema.js';
import { chunks, type ServiceContext } from './context.js';
import { completePercentage, galleryStatus, memoryStatus, type StorageStatus } from './presence-status.js';

export interface MemoryPresence {
  memory_id: string;
  memory_type: MemoryType;
  meta_neon: boolean;
  asset_blob: boolean;
  meta_icp: boolean;
  asset_icp: boolean;
  /** A pin of the asset on IPFS (an `ipfs` asset edge is present): a second permanent copy, beside ICP. */
  asset_ipfs: boolean;
  storage_status: { neon: boolean; blob: boolean; icp: boolean; icp_partial: boolean; ipfs: boolean };
  overall_status: StorageStatus;
}

export interface GalleryPresence {
  gallery_id: string;
  total_memories: number;
  icp_complete_memories: number;
  icp_any_memories: number;
  icp_complete: boolean;
  icp_any: boolean;
  icp_complete_percentage: number;
  storage_status: StorageStatus;
}

export const flag = (backend: string, artifact: string) =>
  sql<number>`max(case when e.backend = ${backend} and e.artifact = ${artifact} and e.present = 1 then 1 else 0 end)`;

/** A memory's presence from its aggregated edge flags (0/1 as the engines return them). */
export function presenceOf(r: { memory_id: string; memory_type: MemoryType; asset_blob: unknown; meta_icp: unknown; asset_icp: unknown; asset_ipfs?: unknown }): MemoryPresence {
  const f = {
    memory_type: r.memory_type,
    meta_neon: true, // the row itself is the Web2 metadata
    asset_blob: Number(r.asset_blob) === 1,
    meta_icp: Number(r.meta_icp) === 1,
    asset_icp: Number(r.asset_icp) === 1,
  };
  // IPFS is reported beside the others and never changes the ICP status.
  const overall = memoryStatus(f);
  const ipfs = Number(r.asset_ipfs) === 1;
  return {
    memory_id: r.memory_id,
    ...f,
    asset_ipfs: ipfs,
    storage_status: { neon: f.meta_neon, blob: f.asset_blob, icp: overall === 'stored_forever', icp_partial: overall === 'partially_stored', ipfs },
    overall_status: overall,
  };
}

export async function memoriesPresence(ctx: ServiceContext, userId: string, ids: readonly string[]): Promise<MemoryPresence[]> {
  const out: MemoryPresence[] = [];
  for (const part of chunks([...new Set(ids)], 900)) {
    const rows = await ctx.db
      .selectFrom('memories as m')
      .leftJoin('storage_edges as e', (j) => j.onRef('e.user_id', '=', 'm.user_id').onRef('e.memory_id', '=', 'm.id'))
      .select([
        'm.id as memory_id',
        'm.memory_type as memory_type',
        flag('blob', 'asset').as('asset_blob'),
        flag('icp', 'metadata').as('meta_icp'),
        flag('icp', 'asset').as('asset_icp'),
        flag('ipfs', 'asset').as('asset_ipfs'),
      ])
      .where('m.user_id', '=', userId)
      .where('m.id', 'in', part)
      .groupBy(['m.id', 'm.memory_type'])
      .execute();
    for (const r of rows) out.push(presenceOf(r));
  }
  const order = new Map(ids.map((id, i) => [id, i]));
  return out.sort((a, b) => (order.get(a.memory_id) ?? 0) - (order.get(b.memory_id) ?? 0));
}

export async function galleriesPresence(ctx: ServiceContext, userId: string, galleryIds: readonly string[]): Promise<GalleryPresence[]> {
  if (galleryIds.length === 0) return [];
  const ids = [...new Set(galleryIds)];
  // Driven by gallery membership: every join is a primary-key lookup
  // (gallery_memories -> memories -> storage_edges), so the cost is linear in
  // the gallery size on both engines.
  const perMemory = ctx.db
    .selectFrom('gallery_memories as gm')
    .innerJoin('memories as m', (j) => j.onRef('m.user_id', '=', 'gm.user_id').onRef('m.id', '=', 'gm.memory_id'))
    .leftJoin('storage_edges as e', (j) =>
      j.onRef('e.user_id', '=', 'gm.user_id').onRef('e.memory_id', '=', 'gm.memory_id').on('e.backend', '=', 'icp').on('e.present', '=', 1),
    )
    .select([
      'gm.gallery_id as gallery_id',
      'm.memory_type as memory_type',
      sql<number>`max(case when e.artifact = 'metadata' then 1 else 0 end)`.as('meta_icp'),
      sql<number>`max(case when e.artifact = 'asset' then 1 else 0 end)`.as('asset_icp'),
    ])
    .where('gm.user_id', '=', userId)
    .where('gm.gallery_id', 'in', ids)
    .groupBy(['gm.gallery_id', 'gm.memory_id', 'm.memory_type']);

  const perGallery = ctx.db
    .selectFrom(perMemory.as('pm'))
    .select([
      'pm.gallery_id as gallery_id',
      sql<number>`count(*)`.as('total'),
      COMPLETE_SQL.as('complete'),
      ANY_ICP_SQL.as('any_icp'),
    ])
    .groupBy('pm.gallery_id');

  const rows = await ctx.db
    .selectFrom('galleries as g')
    .leftJoin(perGallery.as('a'), 'a.gallery_id', 'g.id')
    .select([
      'g.id as gallery_id',
      sql<number>`coalesce(a.total, 0)`.as('total'),
      sql<number>`coalesce(a.complete, 0)`.as('complete'),
      sql<number>`coalesce(a.any_icp, 0)`.as('any_icp'),
    ])
    .where('g.user_id', '=', userId)
    .where('g.id', 'in', ids)
    .execute();

  return rows.map((r) => ({ gallery_id: r.gallery_id, ...presenceSummary(r) }));
}

export type PresenceSummary = Omit<GalleryPresence, 'gallery_id'>;

/** Counts of a set of memories (a gallery, a folder) as the API reports them. */
export function presenceSummary(r: { total: unknown; complete: unknown; any_icp: unknown }): PresenceSummary {
  const total = Number(r.total);
  const complete = Number(r.complete);
  const anyIcp = Number(r.any_icp);
  return {
    total_memories: total,
    icp_complete_memories: complete,
    icp_any_memories: anyIcp,
    icp_complete: total > 0 && complete === total,
    icp_any: anyIcp > 0,
    icp_complete_percentage: completePercentage(total, complete),
    storage_status: galleryStatus(total, complete, anyIcp),
  };
}

/** Per-memory ICP flags aggregated per set: the SQL both galleries and folders sum over. */
export const COMPLETE_SQL = sql<number>`sum(case when pm.meta_icp = 1 and (pm.asset_icp = 1 or pm.memory_type = 'note') then 1 else 0 end)`;
export const ANY_ICP_SQL = sql<number>`sum(case when pm.meta_icp = 1 or pm.asset_icp = 1 then 1 else 0 end)`;
