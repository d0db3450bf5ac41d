// Kysely table types, declared once and used by every service. Portable
// representation on both engines:
// - ids: `uuid` on PostgreSQL, `text` on SQLite (always lowercase strings in JS);
// - timestamps: `timestamptz` on PostgreSQL, ISO-8601 UTC text on SQLite; JS
//   always sees ISO strings (see database.ts for the pg type parsers);
// - booleans: integer 0/1 (better-sqlite3 cannot bind JS booleans);
// - JSON: `jsonb` on PostgreSQL, text on SQLite; written as JSON text.
import type { Generated, Insertable, Selectable } from 'kysely';
import type { MemoryType } from '../../contract/index.js';

export { MEMORY_TYPES, type MemoryType } from '../../contract/index.js';
export const ARTIFACTS = ['metadata', 'asset'] as const;
export type Artifact = (typeof ARTIFACTS)[number];
export const BACKENDS = ['neon', 'blob', 'icp', 'ipfs'] as const;
export type Backend = (typeof BACKENDS)[number];
export const SYNC_STATES = ['idle', 'migrating', 'failed'] as const;
export type SyncState = (typeof SYNC_STATES)[number];
export const QUEUE_STATUSES = ['pending', 'processing', 'stored', 'failed'] as const;
export type QueueStatus = (typeof QUEUE_STATUSES)[number];

export interface UsersTable {
  id: string;
  principal: string;
  created_at: string;
}

export interface AuthNoncesTable {
  nonce: string;
  created_at: string;
  expires_at: string;
}

export interface SessionsTable {
  /** SHA-256 (hex) of the cookie token; the token itself is never stored. */
  token_hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

export interface MemoriesTable {
  user_id: string;
  id: string;
  memory_type: MemoryType;
  title: string | null;
  description: string | null;
  metadata: string;
  /** The folder the memory is in, if any (at most one). */
  folder_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface FoldersTable {
  user_id: string;
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
}

export interface MemoryThumbnailsTable {
  user_id: string;
  memory_id: string;
  mime_type: string;
  bytes: Uint8Array;
  /** Hex SHA-256 of `bytes`: the ETag. */
  sha256: string;
  created_at: string;
  updated_at: string;
}

export interface GalleriesTable {
  user_id: string;
  id: string;
  title: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}

export interface GalleryMemoriesTable {
  user_id: string;
  gallery_id: string;
  memory_id: string;
  position: number;
}

export interface StorageEdgesTable {
  user_id: string;
  memory_id: string;
  artifact: Artifact;
  backend: Backend;
  present: number;
  location: string | null;
  content_hash: string | null;
  size: number | null;
  sync_state: SyncState;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface UploadQueueTable {
  id: string;
  user_id: string;
  memory_id: string;
  temp_file_path: string;
  bucket: string;
  object_path: string;
  content_hash: string;
  byte_size: number;
  status: QueueStatus;
  retry_count: Generated<number>;
  max_retries: number;
  next_retry_at: string;
  claim_token: string | null;
  claimed_until: string | null;
  error_message: string | null;
  metadata: string;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export interface StorageUsageTable {
  user_id: string;
  total_bytes: number;
  total_sources: number;
  last_calculated: string;
  interpretation_count_month: number;
  interpretation_limit_month: number;
  billing_month: string;
}

export interface StoreForeverOpsTable {
  user_id: string;
  id: string;
  memory_id: string | null;
  gallery_id: string | null;
  billing_month: string;
  created_at: string;
}

export interface Database {
  users: UsersTable;
  auth_nonces: AuthNoncesTable;
  sessions: SessionsTable;
  memories: MemoriesTable;
  galleries: GalleriesTable;
  gallery_memories: GalleryMemoriesTable;
  storage_edges: StorageEdgesTable;
  upload_queue: UploadQueueTable;
  storage_usage: StorageUsageTable;
  store_forever_ops: StoreForeverOpsTable;
  folders: FoldersTable;
  memory_thumbnails: MemoryThumbnailsTable;
}

export type MemoryRow = Selectable<MemoriesTable>;
export type FolderRow = Selectable<FoldersTable>;
export type GalleryRow = Selectable<GalleriesTable>;
export type EdgeRow = Selectable<StorageEdgesTable>;
export type NewEdge = Insertable<StorageEdgesTable>;
export type QueueRow = Selectable<UploadQueueTable>;
export type UsageRow = Selectable<StorageUsageTable>;
