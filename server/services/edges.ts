// Storage edges: which artifact of which memory is on which backend.
// Batch upsert is one transaction: every edge is validated (memory exists,
// no duplicate keys, ICP presence confirmed by the canister) before anything
// is written.
import { sql } from 'kysely';
import { ApiError } from '../errors.js';
import { ARTIFACTS, BACKENDS, type Artifact, type Backend, type EdgeRow } from '../db/schema.js';

const isArtifact = (v: string | undefined): v is Artifact => (ARTIFACTS as readonly string[]).includes(v ?? '');
const isBackend = (v: string | undefined): v is Backend => (BACKENDS as readonly string[]).includes(v ?? '');
import { IcUnavailableError, type PresenceVerifier } from '../ic/types.js';
import { UUID_RE, type EdgeInput, type EdgesQuery } from '../schemas.js';
import { chunks, type ServiceContext } from './context.js';
import { requireMemories } from './memories.js';
import { toIso } from './time.js';

export interface EdgeView {
  memory_id: string;
  artifact: EdgeRow['artifact'];
  backend: EdgeRow['backend'];
  present: boolean;
  location: string | null;
  content_hash: string | null;
  size: number | null;
  sync_state: EdgeRow['sync_state'];
  error: string | null;
  created_at: string;
  updated_at: string;
}

export const toEdgeView = (r: EdgeRow): EdgeView => ({
  memory_id: r.memory_id,
  artifact: r.artifact,
  backend: r.backend,
  present: r.present === 1,
  location: r.location,
  content_hash: r.content_hash,
  size: r.size === null ? null : Number(r.size),
  sync_state: r.sync_state,
  error: r.error,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

const edgeKey = (e: Pick<EdgeInput, 'memory_id' | 'artifact' | 'backend'>): string => `${e.memory_id}/${e.artifact}/${e.backend}`;

/** Edges claiming ICP presence that the canister does not confirm. */
async function unconfirmedIcpEdges(verifier: PresenceVerifier, principal: string, edges: readonly EdgeInput[]): Promise<EdgeInput[]> {
  const claims = edges.filter((e) => e.backend === 'icp' && e.present);
  if (claims.length === 0) return [];
  const presence = await verifier.presence(principal, [...new Set(claims.map((e) => e.memory_id))]);
  return claims.filter((e) => {
    const p = presence.get(e.memory_id);
    if (!p) return true;
    if (e.artifact === 'metadata') return !p.metadata_present;
    if (!p.asset_present) return true;
    // A hash or size the client states must be the canister's: usage counts ICP bytes from it.
    if (e.size != null && p.size !== null && p.size !== e.size) return true;
    return e.content_hash != null && p.sha256 !== null && p.sha256 !== e.content_hash;
  });
}

export async function upsertEdges(
  ctx: ServiceContext,
  verifier: PresenceVerifier,
  user: { id: string; principal: string },
  edges: readonly EdgeInput[],
): Promise<{ upserted: number }> {
  const seen = new Set<string>();
  for (const e of edges) {
    const k = edgeKey(e);
    if (seen.has(k)) throw new ApiError('INVALID_ARGUMENT', `duplicate edge in batch: ${k}`);
    seen.add(k);
  }
  await requireMemories(ctx, user.id, edges.map((e) => e.memory_id));
  let unconfirmed: EdgeInput[];
  try {
    unconfirmed = await unconfirmedIcpEdges(verifier, user.principal, edges);
  } catch (error) {
    if (error instanceof IcUnavailableError) throw new ApiError('IC_UNAVAILABLE', 'could not verify presence on the canister');
    throw error;
  }
  if (unconfirmed.length > 0) {
    throw new ApiError(
      'ICP_PRESENCE_UNCONFIRMED',
      `the canister does not confirm ${unconfirmed.length} edge(s), e.g. ${edgeKey(unconfirmed[0])}`,
      { unconfirmed: unconfirmed.slice(0, 100).map((e) => ({ memory_id: e.memory_id, artifact: e.artifact })) },
    );
  }
  const now = toIso(ctx.now());
  await ctx.db.transaction().execute(async (trx) => {
    // 12 bind parameters per row.
    for (const part of chunks(edges, 400)) {
      await trx
        .insertInto('storage_edges')
        .values(
          part.map((e) => ({
            user_id: user.id,
            memory_id: e.memory_id,
            artifact: e.artifact,
            backend: e.backend,
            present: e.present ? 1 : 0,
            location: e.location ?? null,
            content_hash: e.content_hash ?? null,
            size: e.size ?? null,
            sync_state: e.sync_state,
            error: e.error ?? null,
            created_at: now,
            updated_at: now,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['user_id', 'memory_id', 'artifact', 'backend']).doUpdateSet((eb) => ({
            present: eb.ref('excluded.present'),
            location: eb.ref('excluded.location'),
            content_hash: eb.ref('excluded.content_hash'),
            size: eb.ref('excluded.size'),
            sync_state: eb.ref('excluded.sync_state'),
            error: eb.ref('excluded.error'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }
  });
  return { upserted: edges.length };
}

// Cursor: the last row's key, base64url-encoded (opaque to clients).
const encodeCursor = (r: Pick<EdgeRow, 'memory_id' | 'artifact' | 'backend'>): string =>
  Buffer.from(`${r.memory_id}|${r.artifact}|${r.backend}`).toString('base64url');

function decodeCursor(cursor: string): [string, Artifact, Backend] {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const [memoryId, artifact, backend] = parts;
  if (parts.length !== 3 || !UUID_RE.test(memoryId) || !isArtifact(artifact) || !isBackend(backend)) {
    throw new ApiError('INVALID_ARGUMENT', 'cursor: malformed');
  }
  return [memoryId, artifact, backend];
}

export async function listEdges(ctx: ServiceContext, userId: string, f: EdgesQuery): Promise<{ edges: EdgeView[]; next_cursor: string | null }> {
  let q = ctx.db.selectFrom('storage_edges as e').selectAll('e').where('e.user_id', '=', userId);
  if (f.memory_id) q = q.where('e.memory_id', '=', f.memory_id);
  if (f.backend) q = q.where('e.backend', '=', f.backend);
  if (f.artifact) q = q.where('e.artifact', '=', f.artifact);
  if (f.sync_state) q = q.where('e.sync_state', '=', f.sync_state);
  if (f.present !== undefined) q = q.where('e.present', '=', f.present ? 1 : 0);
  if (f.memory_type) {
    const type = f.memory_type;
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('memories as m')
          .select(sql`1`.as('one'))
          .whereRef('m.user_id', '=', 'e.user_id')
          .whereRef('m.id', '=', 'e.memory_id')
          .where('m.memory_type', '=', type),
      ),
    );
  }
  if (f.cursor) {
    const [m, a, b] = decodeCursor(f.cursor);
    q = q.where((eb) => eb(eb.refTuple('e.memory_id', 'e.artifact', 'e.backend'), '>', eb.tuple(m, a, b)));
  }
  const rows = await q.orderBy('e.memory_id').orderBy('e.artifact').orderBy('e.backend').limit(f.limit + 1).execute();
  const page = rows.slice(0, f.limit);
  return { edges: page.map(toEdgeView), next_cursor: rows.length > f.limit ? encodeCursor(page[page.length - 1]) : null };
}
