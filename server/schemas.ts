// Request schemas (zod), the single definition of what the API accepts.
// Pure: no I/O. Route handlers get the parsed, typed values.
// Limits, the id form and the memory types come from the contract every tier
// shares, so the server refuses exactly what the canister and the client refuse.
import { Principal } from '@dfinity/principal';
import { z } from 'zod';
import { MAX_FILE_BYTES, MAX_GALLERY_MEMORIES, MEMORY_TYPES, SHA256_HEX_PATTERN, TEXT_LIMITS, UUID_PATTERN, utf8Length } from '../contract/index.js';
import { ARTIFACTS, BACKENDS, SYNC_STATES } from './db/schema.js';
import { LIBRARY_STATUSES } from './services/presence-status.js';

export { MAX_FILE_BYTES, MAX_GALLERY_MEMORIES };

/** Canonical ids: lowercase UUIDs (RFC 9562 variant, version 1-8) made by the client. */
export const UUID_RE = UUID_PATTERN;
export const uuid = z.string().regex(UUID_PATTERN, 'must be a lowercase UUID');
export const sha256Hex = z.string().regex(SHA256_HEX_PATTERN, 'must be a lowercase hex SHA-256');

export const MAX_EDGES_PER_BATCH = 5000;
export const MAX_PRESENCE_IDS = 1000;
export const MAX_GALLERY_PRESENCE_IDS = 100;

/**
 * A string of at most `max` UTF-8 bytes (the unit every tier counts in), with
 * a message naming the field and the cause: "title is longer than 512 bytes".
 */
export const utf8Text = (field: string, max: number) =>
  z.string({ error: `${field} must be a string` }).refine((v) => utf8Length(v) <= max, { error: `${field} is longer than ${max} bytes`, abort: true });

export const memoryType = z.enum(MEMORY_TYPES, { error: `must be one of ${MEMORY_TYPES.join(', ')}` });
export const artifact = z.enum(ARTIFACTS);
export const backend = z.enum(BACKENDS);
export const syncState = z.enum(SYNC_STATES);

export const idParam = z.object({ id: uuid });

export const memoryInput = z.strictObject({
  memory_type: memoryType,
  title: utf8Text('title', TEXT_LIMITS.title).nullish(),
  description: utf8Text('description', TEXT_LIMITS.description).nullish(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** Absent: the folder stays as it is; null: the memory leaves its folder. */
  folder_id: uuid.nullish(),
});
export type MemoryInput = z.infer<typeof memoryInput>;

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: uuid.optional(),
});

export const libraryQuery = listQuery.extend({
  type: memoryType.optional(),
  status: z.enum(LIBRARY_STATUSES, { error: `must be one of ${LIBRARY_STATUSES.join(', ')}` }).optional(),
  folder_id: uuid.optional(),
  order: z.enum(['asc', 'desc']).default('asc'),
});

export const folderInput = z.strictObject({
  title: utf8Text('title', TEXT_LIMITS.title).refine((v) => v.length > 0, 'title is empty'),
});

export const galleryInput = z.strictObject({
  title: utf8Text('title', TEXT_LIMITS.title).refine((v) => v.length > 0, 'title is empty'),
  description: utf8Text('description', TEXT_LIMITS.description).nullish(),
  memory_ids: z.array(uuid).max(MAX_GALLERY_MEMORIES).default([]),
});
export type GalleryInput = z.infer<typeof galleryInput>;

export const edgeInput = z.strictObject({
  memory_id: uuid,
  artifact,
  // The server writes `ipfs` edges itself, from the pins it made.
  backend: backend.refine((b) => b !== 'ipfs', 'ipfs edges are written by the server'),
  present: z.boolean(),
  location: z.string().max(2048).nullish(),
  content_hash: sha256Hex.nullish(),
  size: z.number().int().min(0).max(MAX_FILE_BYTES).nullish(),
  sync_state: syncState.default('idle'),
  error: z.string().max(2000).nullish(),
});
export type EdgeInput = z.infer<typeof edgeInput>;

export const edgesBatch = z.strictObject({
  edges: z.array(edgeInput).min(1).max(MAX_EDGES_PER_BATCH),
});

const bool01 = z.enum(['true', 'false']).transform((v) => v === 'true');

export const edgesQuery = z.object({
  memory_id: uuid.optional(),
  memory_type: memoryType.optional(),
  backend: backend.optional(),
  artifact: artifact.optional(),
  sync_state: syncState.optional(),
  present: bool01.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** Opaque cursor returned as `next_cursor`. */
  cursor: z.string().max(200).optional(),
});
export type EdgesQuery = z.infer<typeof edgesQuery>;

/** A JSON body naming 1 to `max` ids: `{ "ids": [...] }`. */
export const idBatch = (max: number) => z.strictObject({ ids: z.array(uuid).min(1).max(max) });

/** The same list in a query string: `?ids=a,b,c` (empty items ignored). */
export const idListQuery = (max: number) =>
  z.object({
    ids: z
      .string()
      .transform((s) => s.split(',').filter((x) => x.length > 0))
      .pipe(z.array(uuid).min(1).max(max)),
  });

export const uploadQuery = z.object({
  memory_id: uuid,
  /** When given, the server refuses bytes whose SHA-256 differs (INVALID_HASH). */
  content_hash: sha256Hex.optional(),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/).default('memories'),
});

export const storeForeverOp = z
  .strictObject({ id: uuid, memory_id: uuid.optional(), gallery_id: uuid.optional() })
  .refine((v) => v.memory_id !== undefined || v.gallery_id !== undefined, 'memory_id or gallery_id is required');

export const verifyInput = z.strictObject({
  nonce: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'malformed nonce'),
  /** Who proved it: the server looks up this principal's bucket at the index and asks for the proof there. */
  principal: z
    .string()
    .max(63)
    .regex(/^[a-z0-9]{1,5}(-[a-z0-9]{1,5})*$/, 'malformed principal')
    .refine((s) => {
      try {
        return Principal.fromText(s).toText() === s;
      } catch {
        return false;
      }
    }, 'malformed principal')
    .optional(),
});
