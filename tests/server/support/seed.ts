// Bulk test data written straight to the database (setup for scale tests and
// the bench, not behaviour under test): memories with a chosen ICP state.
import type { Kysely } from 'kysely';
import type { Database } from '../../../server/db/schema.js';

export type IcpState = 'complete' | 'metadata_only' | 'none';

export async function seedMemories(db: Kysely<Database>, userId: string, ids: readonly string[], state: (i: number) => IcpState): Promise<void> {
  const now = new Date().toISOString();
  for (let i = 0; i < ids.length; i += 1000) {
    const part = ids.slice(i, i + 1000);
    await db
      .insertInto('memories')
      .values(part.map((id) => ({ user_id: userId, id, memory_type: 'image' as const, title: null, description: null, metadata: '{}', created_at: now, updated_at: now })))
      .execute();
    const edges = part.flatMap((memory_id, j) => {
      const s = state(i + j);
      const edge = (artifact: 'metadata' | 'asset') => ({
        user_id: userId,
        memory_id,
        artifact,
        backend: 'icp' as const,
        present: 1,
        location: null,
        content_hash: null,
        size: null,
        sync_state: 'idle' as const,
        error: null,
        created_at: now,
        updated_at: now,
      });
      return s === 'complete' ? [edge('metadata'), edge('asset')] : s === 'metadata_only' ? [edge('metadata')] : [];
    });
    for (let k = 0; k < edges.length; k += 500) await db.insertInto('storage_edges').values(edges.slice(k, k + 500)).execute();
  }
}
