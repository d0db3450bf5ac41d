// Moving a user from one bucket to another, the index's side: a state
// machine whose every step is recorded in stable memory before the next
// begins, so a trap, an upgrade or a restart at any moment resumes from the
// recorded step (move_user again, or the index's timer). The buckets' side
// is canister/src/transfer.ts.
//
//   freeze     source.freeze_owner: the user's writes get `Moving`; what there is to copy
//   prepare    target.begin_import
//   memories   source.export_memories → target.import_memories, page by page
//   assets     source.export_assets; per asset target.import_asset_begin (what is
//              missing), source.export_chunk → target.import_chunk (one chunk of at
//              most 1 MiB per message), target.import_asset_commit (the target's
//              native SHA-256 must equal the recorded one)
//   galleries  as memories
//   proofs     as memories (pending sign-in proofs)
//   verify     target.finish_import: its counts equal the source's, the freeze lifts
//   admit      target.admit_owner
//   switch     the index's entry names the target (no call: one atomic write)
//   evict      source.evict_owner
//   delete     source.delete_owner_data until it answers done (work budget per call)
//
// Every bucket call is idempotent, so a step re-run after a crash writes
// nothing twice. Progress is written with a compare-and-set on the recorded
// step and cursor: two drivers of one move (a retry timer and a caller)
// cannot move it backwards. No I/O here: the adapter (main.ts) passes the
// stable store and the inter-canister calls.

export const STEPS = ['freeze', 'prepare', 'memories', 'assets', 'galleries', 'proofs', 'verify', 'admit', 'switch', 'evict', 'delete', 'done'] as const;
export type Step = (typeof STEPS)[number];

export interface Summary {
  used_bytes: bigint;
  memories: number;
  galleries: number;
  assets: number;
  quota: [] | [bigint];
}

export interface MoveRecord {
  principal: string;
  source: string;
  target: string;
  step: Step;
  /** Position in the step's pages (memories, assets, galleries, proofs). */
  cursor: number;
  /** What the source held when it froze the user (set by `freeze`). */
  summary?: Summary;
  /** The last failure; cleared by the next step that succeeds. */
  error?: string;
}

export interface MoveStore {
  get(principal: string): MoveRecord | undefined;
  put(m: MoveRecord): void;
  /** The index's entry for the user names `target` (and the bucket counts follow). */
  switchBucket(principal: string, source: string, target: string): void;
}

/** Calls a bucket method; resolves to the `Ok` value, throws on `Err` or a reject. */
export type BucketCall = (bucket: string, method: string, args: unknown[]) => Promise<any>;

export function encodeMove(m: MoveRecord): string {
  return JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

export function decodeMove(s: string): MoveRecord {
  return JSON.parse(s, (_k, v) => (typeof v === 'string' && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)) as MoveRecord;
}

export class MoveFailed extends Error {}

/**
 * Writes `patch` only if the move is still at `at` (step and cursor): the
 * outcome of a call is recorded once, by the driver that read that state.
 */
function advance(store: MoveStore, at: MoveRecord, patch: Partial<MoveRecord>): MoveRecord | undefined {
  const now = store.get(at.principal);
  if (!now || now.step !== at.step || now.cursor !== at.cursor || now.target !== at.target) return undefined;
  const next: MoveRecord = { ...now, ...patch };
  delete next.error;
  store.put(next);
  return next;
}

/** Runs the move of `principal` until it is done or a step fails (recorded in `error`). */
export async function drive(store: MoveStore, call: BucketCall, principal: { toText(): string }, describe: (e: unknown) => string): Promise<MoveRecord | undefined> {
  const key = principal.toText();
  for (;;) {
    const m = store.get(key);
    if (!m || m.step === 'done') return m;
    try {
      await runStep(store, call, principal, m);
    } catch (e) {
      const now = store.get(key);
      if (now && now.step === m.step && now.cursor === m.cursor) store.put({ ...now, error: `${m.step}: ${describe(e)}` });
      return store.get(key);
    }
  }
}

async function runStep(store: MoveStore, call: BucketCall, p: { toText(): string }, m: MoveRecord): Promise<void> {
  const src = m.source;
  const dst = m.target;
  switch (m.step) {
    case 'freeze': {
      const summary = (await call(src, 'freeze_owner', [p])) as Summary;
      advance(store, m, { step: 'prepare', cursor: 0, summary });
      return;
    }
    case 'prepare':
      await call(dst, 'begin_import', [p]);
      advance(store, m, { step: 'memories', cursor: 0 });
      return;
    case 'memories':
    case 'galleries':
    case 'proofs': {
      const [exp, imp, next]: [string, string, Step] =
        m.step === 'memories'
          ? ['export_memories', 'import_memories', 'assets']
          : m.step === 'galleries'
            ? ['export_galleries', 'import_galleries', 'proofs']
            : ['export_proofs', 'import_proofs', 'verify'];
      const page = (await call(src, exp, [p, m.cursor])) as { items: unknown[]; next: [] | [number] };
      if (page.items.length > 0) await call(dst, imp, [p, page.items]);
      advance(store, m, page.next.length ? { cursor: page.next[0] } : { step: next, cursor: 0 });
      return;
    }
    case 'assets': {
      const page = (await call(src, 'export_assets', [p, m.cursor])) as { items: { memory_id: string }[]; next: [] | [number] };
      // A page re-run after a crash finds its finished assets Stored and sends nothing for them.
      for (const asset of page.items) {
        const begun = (await call(dst, 'import_asset_begin', [p, asset])) as { Stored: null } | { Missing: number[] };
        if ('Stored' in begun) continue;
        for (const index of begun.Missing) {
          const bytes = (await call(src, 'export_chunk', [p, asset.memory_id, index])) as Uint8Array;
          await call(dst, 'import_chunk', [p, asset.memory_id, index, bytes]);
        }
        await call(dst, 'import_asset_commit', [p, asset]);
      }
      advance(store, m, page.next.length ? { cursor: page.next[0] } : { step: 'galleries', cursor: 0 });
      return;
    }
    case 'verify':
      if (!m.summary) throw new MoveFailed('no summary recorded');
      await call(dst, 'finish_import', [p, m.summary]);
      advance(store, m, { step: 'admit' });
      return;
    case 'admit':
      await call(dst, 'admit_owner', [p]);
      advance(store, m, { step: 'switch' });
      return;
    case 'switch': {
      // One message: the entry and the step change together.
      const at = store.get(m.principal);
      if (!at || at.step !== 'switch') return;
      store.switchBucket(m.principal, src, dst);
      advance(store, m, { step: 'evict' });
      return;
    }
    case 'evict':
      await call(src, 'evict_owner', [p]);
      advance(store, m, { step: 'delete' });
      return;
    case 'delete': {
      const done = (await call(src, 'delete_owner_data', [p])) as boolean;
      if (done) advance(store, m, { step: 'done' });
      return;
    }
    default:
      throw new MoveFailed(`unknown step ${String(m.step)}`);
  }
}
