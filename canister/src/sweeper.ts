// Timer work: expires sessions past their expiry, frees the chunks of ended
// sessions and of blobs no memory uses, finishes hashing backlogs, purges
// old tombstones and proofs; all within the work budget, resuming where the
// last round stopped.
import { freeBlobChunks } from './blobs';
import { toHex } from './bytes';
import type { OwnerRecord } from './records';
import { SessionStatus } from './records';
import { type Env, type State, WORK_BUDGET } from './state';
import { WORK } from './store';
import { FINISHED_RETENTION_NS, hasBit } from './upload-rules';
import { advanceHash, finish, freeChunks } from './uploads';

/** Work-map entries the sweeper reads per batch. */
const SWEEP_BATCH = 100;

/** Returns true when work is left for another round (budget reached). */
export function sweep(env: Env, st: State): boolean {
  // The maps grew into the chunk space's spare slot: move the frame after them now (a timer pays
  // the 8 MiB copy), so that their next growth inside a user's call needs none.
  st.space.keepHeadroom();
  // Bounded housekeeping first (100 entries each), so it runs even when the work map is long.
  // Tombstones, oldest first; stop at the first one still freeing chunks or not yet due.
  for (const [k] of st.t.finished.items(0, 100)) {
    const finishedAt = new DataView(k.buffer, k.byteOffset, 8).getBigUint64(0);
    if (finishedAt + FINISHED_RETENTION_NS > env.now) break;
    const sid = k.slice(8);
    if (st.t.work.has(sid)) break;
    st.t.sessions.remove(sid);
    st.t.finished.remove(k);
  }
  for (const [k] of st.t.proofExpiry.items(0, 100)) {
    const expiresAt = new DataView(k.buffer, k.byteOffset, 8).getBigUint64(0);
    if (expiresAt > env.now) break;
    st.t.proofs.remove(k.slice(8));
    st.t.proofExpiry.remove(k);
  }
  // The work map is read in batches from where the last sweep ran out of budget: restarting at
  // its front each time would spend every round on the same live sessions and never reach the
  // rest (which then never expire nor free their chunks), and reading it whole would not fit a
  // message once it is long.
  const owners = new Map<string, OwnerRecord>();
  const start = st.sweepFrom;
  let pos = start;
  for (;;) {
    const batch = st.t.work.items(pos, SWEEP_BATCH);
    for (const [sid, kind] of batch) {
      if (env.instructions() > WORK_BUDGET) {
        st.sweepFrom = pos;
        return true;
      }
      sweepOne(env, st, sid, kind, owners);
      // An entry that left the map shifts the ones after it down by one.
      if (st.t.work.has(sid)) pos++;
    }
    if (batch.length < SWEEP_BATCH) break;
  }
  st.sweepFrom = 0;
  // Started in the middle: the front of the map is due for another pass.
  return start > 0 || env.instructions() > WORK_BUDGET;
}

function sweepOne(env: Env, st: State, sid: Uint8Array, kind: Uint8Array, owners: Map<string, OwnerRecord>): void {
  if (kind[0] === WORK.freeBlob) {
    freeBlobChunks(env, st, sid);
    return;
  }
  const s = st.session(sid);
  if (!s) {
    st.t.work.remove(sid);
    return;
  }
  if (kind[0] === WORK.live) {
    if (s.status !== SessionStatus.Live) {
      st.t.work.remove(sid);
    } else if (s.expiresAt <= env.now) {
      const hex = toHex(s.owner);
      const o = owners.get(hex) ?? st.owner(s.owner);
      owners.set(hex, o);
      finish(env, st, s, o, SessionStatus.Expired);
    } else if (s.hashedChunks < s.chunkCount && hasBit(s.received, s.hashedChunks)) {
      advanceHash(env, st, s);
      st.saveSession(s);
    }
  } else {
    freeChunks(env, st, s);
  }
}
