// Request schemas (zod), the single definition of what the API accepts.
// Pure: no I/O. Route handlers get the parsed, typed values.
import { z } from 'zod';
import { ARTIFACTS, BACKENDS, MEMORY_TYPES, SYNC_STATES } from './db/schema.js';

/** Canonical ids are lowercase UUID strings created by the client (see DESIGN.md). */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const uuid = z.string().regex(UUID_RE, 'must be a lowercase UUID');
export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');

/** The canister's file limit; no edge or upload describes more bytes than this. */
export const MAX_FILE_BYTES = 100 * 1000 * 1000;
export const MAX_EDGES_PER_BATCH = 5000;
export const MAX_PRESENCE_IDS = 1000;
export const MAX_GALLERY_PRESENCE_IDS = 100;
export const MAX_GALLERY_MEMORIES = 100_000;

export const memoryType = z.enum(MEMORY_TYPES);
export const artifact = z.enum(ARTIFACTS);
export const backend = z.enum(BACKENDS);
export const syncState = z.enum(SYNC_STATES);

export const idParam = z.object({ id: uuid });

export const memoryInput = z.strictObject({
  memory_type: memoryType,
  title: z.string().max(500).nullish(),
  description: z.string().max(10_000).nullish(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type MemoryInput = z.infer<typeof memoryInput>;

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: uuid.optional(),
});

export const galleryInput = z.strictObject({
  title: z.string().min(1).max(500),
  description: z.string().max(10_000).nullish(),
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
});
