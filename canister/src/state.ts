// What every feature module works on: the byte maps, the environment of the
// current message and the record helpers they share (config, owners,
// sessions, the caller's checks). No behaviour of its own.
import { Principal } from '@dfinity/principal';
import { bytesEqual } from './bytes';
import type { AssetInfo, Limits } from './candid-types';
import { alreadyExists, invalidHash, notFound, unauthorized, uploadExpired } from './errors';
import {
  type AssetRecord,
  type ConfigRecord,
  decodeConfig,
  decodeOwner,
  decodeSession,
  defaultConfig,
  encodeConfig,
  encodeOwner,
  encodeSession,
  newOwner,
  type OwnerRecord,
  type SessionRecord,
  SessionStatus,
} from './records';
import { type ChunkSpace, MemoryChunkSpace } from './chunk-space';
import { CONFIG_KEY, type Tables } from './store';
import { uuidBytes } from './validate';

export interface Env {
  caller: Principal;
  /** Canister time, ns since epoch. */
  now: bigint;
  isController(p: Principal): boolean;
  /** Instructions this message has executed so far (ic0.performance_counter 0); 0 outside the IC. */
  instructions(): bigint;
  /** Profiling: the phase that just ended. */
  phase(name: string): void;
  /** Asks for a sweep soon (a timer), to finish hashing or freeing that hit the budget. */
  requestSweep(): void;
}

/**
 * Instructions one message may spend on optional work (hashing a backlog of
 * out-of-order chunks, freeing chunks) before leaving the rest to a timer:
 * half the IC's 40 billion limit for updates.
 */
export const WORK_BUDGET = 20_000_000_000n;

export type Bytes = Uint8Array | number[];
export const asBytes = (b: Bytes): Uint8Array => (b instanceof Uint8Array ? b : Uint8Array.from(b));

export function opt<T>(v: T | undefined): [] | [T] {
  return v === undefined ? [] : [v];
}

export class State {
  /** Heap only (an upgrade restarts at 0): the work-map index where the next sweep resumes. */
  sweepFrom = 0;

  constructor(
    readonly t: Tables,
    /** Where chunk bytes live (chunk-slots.ts). */
    readonly space: ChunkSpace = new MemoryChunkSpace(),
  ) {}

  config(): ConfigRecord {
    const b = this.t.config.get(CONFIG_KEY);
    return b ? decodeConfig(b) : defaultConfig();
  }

  saveConfig(c: ConfigRecord): void {
    this.t.config.insert(CONFIG_KEY, encodeConfig(c));
  }

  owner(p: Uint8Array): OwnerRecord {
    const b = this.t.owners.get(p);
    return b ? decodeOwner(b) : newOwner();
  }

  saveOwner(p: Uint8Array, o: OwnerRecord): void {
    this.t.owners.insert(p, encodeOwner(o));
  }

  /** The caller as a writer: anonymous callers cannot store anything. */
  writer(env: Env): Uint8Array {
    if (env.caller.isAnonymous()) throw unauthorized();
    return env.caller.toUint8Array();
  }

  requireAdmin(env: Env): void {
    if (env.caller.isAnonymous() || !env.isController(env.caller)) throw unauthorized();
  }

  session(sid: Uint8Array): SessionRecord | undefined {
    const b = this.t.sessions.get(sid);
    return b ? decodeSession(b) : undefined;
  }

  saveSession(s: SessionRecord): void {
    this.t.sessions.insert(s.id, encodeSession(s));
  }

  /** The caller's session; NotFound or Unauthorized otherwise. */
  ownedSession(env: Env, sessionId: string): SessionRecord {
    const sid = uuidBytes(sessionId, 'session_id');
    const s = this.session(sid);
    if (!s) throw notFound();
    if (env.caller.isAnonymous() || !bytesEqual(s.owner, env.caller.toUint8Array())) throw unauthorized();
    return s;
  }

  requireLive(env: Env, s: SessionRecord): void {
    switch (s.status) {
      case SessionStatus.Live:
        if (s.expiresAt <= env.now) throw uploadExpired();
        return;
      case SessionStatus.Committed:
        throw alreadyExists();
      case SessionStatus.Expired:
        throw uploadExpired();
      case SessionStatus.Failed:
        throw invalidHash();
      default:
        throw notFound();
    }
  }

  /** The owner's sessions that still count as live (status Live, not past expiry). */
  liveSessions(env: Env, o: OwnerRecord): SessionRecord[] {
    const out: SessionRecord[] = [];
    for (const sid of o.liveSessions) {
      const s = this.session(sid);
      if (s && s.status === SessionStatus.Live && s.expiresAt > env.now) out.push(s);
    }
    return out;
  }

  quotaOf(o: OwnerRecord, c: ConfigRecord): bigint {
    return o.quota ?? c.defaultQuotaBytes;
  }
}

export function assetView(memoryId: string, a: AssetRecord): AssetInfo {
  return { memory_id: memoryId, sha256: a.sha256, size: a.size, chunk_count: a.chunkCount, chunk_size: a.chunkSize, committed_at: a.committedAt };
}

export function limitsView(c: ConfigRecord): Limits {
  return {
    max_file_size: c.maxFileSize,
    chunk_size: c.chunkSize,
    session_ttl_seconds: c.sessionTtlSeconds,
    max_live_sessions: c.maxLiveSessions,
    default_quota_bytes: c.defaultQuotaBytes,
  };
}

export const ownerPrincipal = (b: Uint8Array): Principal => Principal.fromUint8Array(b);
