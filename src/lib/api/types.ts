// The shapes the screens read from the server's JSON API (docs/server.md).
// Lowercase memory types, as on the wire.
import type { MemoryType } from '../../../contract';

export type WireMemoryType = MemoryType;

export type StorageStatus = 'stored_forever' | 'partially_stored' | 'web2_only';

export interface MemoryPresence {
  memory_id: string;
  memory_type: WireMemoryType;
  meta_neon: boolean;
  asset_blob: boolean;
  meta_icp: boolean;
  asset_icp: boolean;
  /** Pinned on IPFS (servers without IPFS omit it). */
  asset_ipfs?: boolean;
  overall_status: StorageStatus;
}

export interface ServerMemory {
  id: string;
  memory_type: WireMemoryType;
  title: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
  folder_id?: string | null;
  created_at: string;
  updated_at: string;
  has_thumbnail?: boolean;
  presence?: MemoryPresence | null;
}

export interface GalleryPresence {
  gallery_id: string;
  total_memories: number;
  icp_complete_memories: number;
  icp_any_memories: number;
  icp_complete_percentage: number;
  storage_status: StorageStatus;
}

export interface ServerGallery {
  id: string;
  title: string;
  description: string | null;
  memory_count?: number;
  created_at: string;
  updated_at: string;
  presence?: GalleryPresence | null;
}

export interface ServerFolder {
  id: string;
  title: string;
  memory_count: number;
  created_at: string;
  updated_at: string;
}

export interface ServerUsage {
  total_bytes: number;
  total_sources: number;
  pending_bytes: number;
  quota_bytes: number;
  icp_bytes?: number;
  store_forever_ops_month: number;
  store_forever_ops_limit_month: number;
  billing_month: string;
}

export interface StorageEdgeView {
  memory_id: string;
  artifact: 'metadata' | 'asset';
  backend: 'neon' | 'blob' | 'icp' | string;
  present: boolean;
  location: string | null;
  content_hash: string | null;
  size: number | null;
  sync_state: string;
  error: string | null;
  updated_at: string;
}
