// Memory metadata (the Web2 copy; same UUIDs as the canister). Every query is
// scoped by user_id, so another principal's ids simply do not exist here.
import { ApiError } from '../errors.js';
import type { MemoryRow, MemoryType } from '../db/schema.js';
import type { MemoryInput } from '../schemas.js';
import { chunks, type ServiceContext } from './context.js';
import { toIso } from './time.js';
import { incrementStorageUsage } from './usage.js';

export interface MemoryView {
  id: string;
  memory_type: MemoryType;
  title: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
  folder_id: string | null;
  created_at: string;
  updated_at: string;
}

const parseJson = (v: unknown): Record<string, unknown> =>
  (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;

export const toMemoryView = (r: Omit<MemoryRow, 'user_id'>): MemoryView => ({
  id: r.id,
  memory_type: r.memory_type,
  title: r.title,
  description: r.description,
  metadata: parseJson(r.metadata),
  folder_id: r.folder_id ?? null,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

/**
 * Creates or updates a memory by its id. The type is fixed at creation: the
 * canister keys assets by it, so a different type for an existing id is a CONFLICT.
 */
export async function upsertMemory(
  ctx: ServiceContext,
  userId: string,
  id: string,
  input: MemoryInput,
): Promise<{ memory: MemoryView; created: boolean }> {
  return ctx.db.transaction().execute(async (trx) => {
    const now = toIso(ctx.now());
    const existing = await trx.selectFrom('memories').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    if (existing && existing.memory_type !== input.memory_type) {
      throw new ApiError('CONFLICT', `memory ${id} exists with type ${existing.memory_type}`);
    }
    if (input.folder_id) {
      const folder = await trx.selectFrom('folders').select('id').where('user_id', '=', userId).where('id', '=', input.folder_id).executeTakeFirst();
      if (!folder) throw new ApiError('NOT_FOUND', `folder not found: ${input.folder_id}`);
    }
    const values = {
      title: input.title ?? null,
      description: input.description ?? null,
      metadata: JSON.stringify(input.metadata ?? {}),
      // Absent keeps the folder (a client re-sending the metadata does not move the memory).
      ...(input.folder_id === undefined ? {} : { folder_id: input.folder_id }),
    };
    if (existing) {
      await trx.updateTable('memories').set({ ...values, updated_at: now }).where('user_id', '=', userId).where('id', '=', id).execute();
    } else {
      await trx
        .insertInto('memories')
        .values({ user_id: userId, id, memory_type: input.memory_type, ...values, created_at: now, updated_at: now })
        .execute();
    }
    const row = await trx.selectFrom('memories').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirstOrThrow();
    return { memory: toMemoryView(row), created: !existing };
  });
}

export async function getMemory(ctx: ServiceContext, userId: string, id: string): Promise<MemoryView | null> {
  const row = await ctx.db.selectFrom('memories').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  return row ? toMemoryView(row) : null;
}

export async function listMemories(
  ctx: ServiceContext,
  userId: string,
  limit: number,
  cursor?: string,
): Promise<{ memories: MemoryView[]; next_cursor: string | null }> {
  let q = ctx.db.selectFrom('memories').selectAll().where('user_id', '=', userId);
  if (cursor) q = q.where('id', '>', cursor);
  const rows = await q.orderBy('id').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  return { memories: page.map(toMemoryView), next_cursor: rows.length > limit ? page[page.length - 1].id : null };
}

/** Ids among `ids` that are not this user's memories. */
export async function missingMemories(ctx: ServiceContext, userId: string, ids: readonly string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  const found = new Set<string>();
  for (const part of chunks(unique, 900)) {
    const rows = await ctx.db.selectFrom('memories').select('id').where('user_id', '=', userId).where('id', 'in', part).execute();
    for (const r of rows) found.add(r.id);
  }
  return unique.filter((id) => !found.has(id));
}

/** Throws NOT_FOUND naming (a few of) the ids that are not this user's memories. */
export async function requireMemories(ctx: ServiceContext, userId: string, ids: readonly string[]): Promise<void> {
  const missing = await missingMemories(ctx, userId, ids);
  if (missing.length > 0) {
    throw new ApiError('NOT_FOUND', `memory not found: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`, {
      missing_count: missing.length,
    });
  }
}

export interface DeletedMemory {
  deleted: boolean;
  /** The hash of the blob copy it referenced, to free once nothing else names it. */
  blobHash: string | null;
  /** Queue files of its uploads still waiting to be retried (their rows are gone). */
  queueFiles: string[];
}

/**
 * Deletes a memory's Web2 side in one transaction, idempotently: its metadata,
 * storage edges, gallery and folder membership and thumbnail (the rows cascade
 * from the memory), its pending queue items, and the bytes its blob copy
 * counted in usage. The blob itself is the caller's to free (it may be shared).
 */
export async function deleteMemory(ctx: ServiceContext, userId: string, id: string): Promise<DeletedMemory> {
  return ctx.db.transaction().execute(async (trx) => {
    // Same lock as an upload for this memory: the two never interleave.
    let lock = trx.selectFrom('memories').select('id').where('user_id', '=', userId).where('id', '=', id);
    if (ctx.engine === 'postgres') lock = lock.forUpdate();
    if (!(await lock.executeTakeFirst())) return { deleted: false, blobHash: null, queueFiles: [] };
    const blob = await trx
      .selectFrom('storage_edges')
      .select(['content_hash', 'size', 'sync_state'])
      .where('user_id', '=', userId)
      .where('memory_id', '=', id)
      .where('artifact', '=', 'asset')
      .where('backend', '=', 'blob')
      .executeTakeFirst();
    const queued = await trx
      .selectFrom('upload_queue')
      .select(['id', 'temp_file_path'])
      .where('user_id', '=', userId)
      .where('memory_id', '=', id)
      .where('status', 'in', ['pending', 'processing'])
      .execute();
    if (queued.length > 0) await trx.deleteFrom('upload_queue').where('id', 'in', queued.map((q) => q.id)).execute();
    await trx.deleteFrom('memories').where('user_id', '=', userId).where('id', '=', id).execute();
    // The same rule as an upload: an edge with a hash that has not failed counts its bytes.
    if (blob && blob.content_hash !== null && blob.sync_state !== 'failed') {
      await incrementStorageUsage(ctx, trx, userId, -Number(blob.size ?? 0), -1, null);
    }
    return { deleted: true, blobHash: blob?.content_hash ?? null, queueFiles: queued.map((q) => q.temp_file_path) };
  });
}
