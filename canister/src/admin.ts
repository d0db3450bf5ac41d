// Usage and limits (the caller's usage, the public limits) and the
// controllers' administration: limits, quotas, presence verifiers, stats.
import { Principal } from '@dfinity/principal';
import { bytesEqual } from './bytes';
import type { Limits, Stats, Usage } from './candid-types';
import { invalid } from './errors';
import { type Env, limitsView, type State } from './state';
import { WORK } from './store';
import { validateLimits } from './upload-rules';
import { LIMITS } from './validate';

export function usage(env: Env, st: State, p: Uint8Array): Usage {
  const c = st.config();
  const o = st.owner(p);
  const live = st.liveSessions(env, o);
  let reserved = 0n;
  for (const s of live) reserved += s.totalSize;
  return {
    used_bytes: o.usedBytes,
    reserved_bytes: reserved,
    limit_bytes: st.quotaOf(o, c),
    memories: BigInt(o.memoryCount),
    galleries: BigInt(o.galleryCount),
    assets: BigInt(o.assetCount),
    active_uploads: live.length,
    max_active_uploads: c.maxLiveSessions,
  };
}

export function get_usage(env: Env, st: State): Usage {
  return usage(env, st, env.caller.toUint8Array());
}

export function get_limits(st: State): Limits {
  return limitsView(st.config());
}

export function set_limits(env: Env, st: State, l: Limits): Limits {
  st.requireAdmin(env);
  validateLimits(l);
  const c = st.config();
  c.maxFileSize = l.max_file_size;
  c.chunkSize = l.chunk_size;
  c.sessionTtlSeconds = l.session_ttl_seconds;
  c.maxLiveSessions = l.max_live_sessions;
  c.defaultQuotaBytes = l.default_quota_bytes;
  st.saveConfig(c);
  return limitsView(c);
}

export function set_quota(env: Env, st: State, p: Principal, quota: [] | [bigint]): Usage {
  st.requireAdmin(env);
  if (p.isAnonymous()) throw invalid('the anonymous principal cannot store anything');
  const key = p.toUint8Array();
  const o = st.owner(key);
  o.quota = quota[0];
  st.saveOwner(key, o);
  return usage(env, st, key);
}

export function set_presence_verifiers(env: Env, st: State, verifiers: Principal[]): Principal[] {
  st.requireAdmin(env);
  return replace_presence_verifiers(st, verifiers);
}

/** The verifiers checked and stored (also from the init argument, where no caller is checked). */
export function replace_presence_verifiers(st: State, verifiers: Principal[]): Principal[] {
  if (verifiers.length > LIMITS.verifiers) throw invalid(`at most ${LIMITS.verifiers} presence verifiers`);
  if (verifiers.some((v) => v.isAnonymous())) throw invalid('the anonymous principal cannot be a presence verifier');
  const c = st.config();
  c.verifiers = [];
  for (const v of verifiers) {
    const b = v.toUint8Array();
    if (!c.verifiers.some((x) => bytesEqual(x, b))) c.verifiers.push(b);
  }
  st.saveConfig(c);
  return c.verifiers.map((b) => Principal.fromUint8Array(b));
}

export function get_presence_verifiers(env: Env, st: State): Principal[] {
  st.requireAdmin(env);
  return st.config().verifiers.map((b) => Principal.fromUint8Array(b));
}

export function get_stats(env: Env, st: State): Stats {
  st.requireAdmin(env);
  const c = st.config();
  let live = 0n;
  let freeing = 0n;
  for (const [, kind] of st.t.work.items()) {
    if (kind[0] === WORK.live) live++;
    else freeing++;
  }
  return {
    principals: BigInt(st.t.owners.len()),
    memories: BigInt(st.t.memories.len()),
    galleries: BigInt(st.t.galleries.len()),
    assets: c.assets,
    stored_bytes: c.storedBytes,
    live_sessions: live,
    chunks: BigInt(st.t.chunks.len()),
    session_records: BigInt(st.t.sessions.len()),
    pending_proofs: BigInt(st.t.proofs.len()),
    sessions_freeing: freeing,
  };
}
