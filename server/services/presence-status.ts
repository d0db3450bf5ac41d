// Storage status rules (pure). A memory is complete on ICP when its metadata
// is there and, unless it is a note (no asset), its asset too.
import type { MemoryType } from '../db/schema.js';

export type StorageStatus = 'stored_forever' | 'partially_stored' | 'web2_only';

/** The library's `status` filter: the overall status, plus memories with a failed copy. */
export const LIBRARY_STATUSES = ['stored_forever', 'partially_stored', 'web2_only', 'failed'] as const;
export type LibraryStatus = (typeof LIBRARY_STATUSES)[number];

export interface MemoryFlags {
  memory_type: MemoryType;
  meta_neon: boolean;
  asset_blob: boolean;
  meta_icp: boolean;
  asset_icp: boolean;
}

export const memoryIcpComplete = (m: Pick<MemoryFlags, 'memory_type' | 'meta_icp' | 'asset_icp'>): boolean =>
  m.meta_icp && (m.asset_icp || m.memory_type === 'note');

export function memoryStatus(m: MemoryFlags): StorageStatus {
  if (memoryIcpComplete(m)) return 'stored_forever';
  if (m.meta_icp || m.asset_icp) return 'partially_stored';
  return 'web2_only';
}

export function galleryStatus(total: number, complete: number, any: number): StorageStatus {
  if (total > 0 && complete === total) return 'stored_forever';
  if (any > 0) return 'partially_stored';
  return 'web2_only';
}

/** Whole percent, rounded down so 99.9 % never shows as 100 %. */
export const completePercentage = (total: number, complete: number): number =>
  total === 0 ? 0 : Math.floor((complete * 100) / total);
