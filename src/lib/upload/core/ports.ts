// The engine's ports: what it needs from the canister and from the server.
// Adapters (adapters/forever-canister.ts, adapters/server-api.ts) implement them; the engine
// never sees an actor or a fetch.
import type { MemoryMetadataInput, MemoryType } from './types';

export interface UploadSessionInfo {
  sessionId: string;
  chunkSize: number;
  receivedChunks: number[];
  expiresAtMs: number;
}

export interface MemoryPresence {
  metadataPresent: boolean;
  assetPresent: boolean;
  sha256: string | null;
  size: number | null;
}

/** What the canister accepts (its `get_limits`). */
export interface CanisterLimits {
  chunkSize: number;
  maxFileSize: number;
  maxLiveSessions: number;
}

/** The canister protocol (docs/canister.md). Errors: CanisterError for Err variants, agent errors otherwise. */
export interface ForeverCanister {
  getLimits(): Promise<CanisterLimits>;
  upsertMetadata(memoryId: string, memoryType: MemoryType, metadata: MemoryMetadataInput & { name: string; mimeType: string }, idempotencyKey: string): Promise<{ created: boolean }>;
  /** Throws CanisterError('AlreadyExists') when the asset is already committed with this hash. */
  beginAssetUpload(memoryId: string, sha256Hex: string, chunkCount: number, totalSize: number): Promise<UploadSessionInfo>;
  putChunk(sessionId: string, index: number, bytes: Uint8Array): Promise<{ chunksReceived: number; bytesReceived: number }>;
  commitAsset(sessionId: string, sha256Hex: string): Promise<void>;
  cancelUpload(sessionId: string): Promise<void>;
  getMemoryPresence(memoryId: string): Promise<MemoryPresence>;
  /** The memory's thumbnail (at most MAX_THUMBNAIL_BYTES of JPEG, PNG, WebP or GIF), kept on the canister so the library shows it without the server. */
  setThumbnail?(memoryId: string, bytes: Uint8Array): Promise<void>;
  /** Proves the caller's principal to the server (its sign-in; see docs/server.md). */
  provePrincipal(nonce: string): Promise<void>;
}

/** A canister client bound to one signed-in principal. */
export interface Session {
  principal: string;
  canister: ForeverCanister;
}

/** Gives the engine a fresh session (fresh signatures) or throws AuthRequiredError. */
export type SessionProvider = () => Promise<Session>;

export interface StorageEdge {
  memoryId: string;
  artifact: 'asset' | 'metadata';
  backend: 'icp';
  present: boolean;
  contentHash: string | null;
  size: number | null;
  location: string | null;
}

/** The server's view of a memory, created (idempotently) before its edges. */
export interface ServerMemory {
  id: string;
  memoryType: MemoryType;
  title: string;
  description: string | null;
  folderId?: string | null;
  name?: string;
  mimeType?: string;
  size?: number;
  /** The server has the record already (its Web2 step made it): only the edges are sent, so an edit made since is kept. */
  exists?: boolean;
}

/** What the server's blob copy answered. */
export type BlobUpload = { status: 'stored' } | { status: 'pending_retry'; queueId: string };

/** The server's Web2 side of a memory: its record, its blob copy, its thumbnail. */
export interface Web2Api {
  upsertMemory(memory: ServerMemory): Promise<void>;
  /** POST /api/upload_file with the hash the server checks; a 202 is `pending_retry`, not a failure. */
  uploadBlob(memoryId: string, sha256: string, bytes: Blob): Promise<BlobUpload>;
  /** Where a pending_retry blob copy is now. */
  blobStatus(queueId: string): Promise<'stored' | 'pending_retry' | 'failed'>;
  putThumbnail(memoryId: string, thumbnail: Blob): Promise<void>;
  /** The blob copy's bytes (Store Forever later, when this browser has none). */
  fetchContent(memoryId: string): Promise<Blob>;
}

/** Makes a memory's thumbnail off the main thread; null when there is none to make (or it cannot be decoded here). */
export interface Thumbnailer {
  thumbnail(source: Blob, mimeType: string): Promise<Blob | null>;
}

/** Records a memory's storage edges on the server (PUT /api/storage/edges); `noopRecorder` when no server is configured. */
export interface EdgeRecorder {
  record(memory: ServerMemory, edges: StorageEdge[]): Promise<void>;
}

export const noopRecorder: EdgeRecorder = { record: async () => undefined };
