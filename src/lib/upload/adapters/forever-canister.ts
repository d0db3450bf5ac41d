// The ForeverCanister port over @dfinity/agent and the generated declarations.
// Maps Candid shapes to the engine's (hex hashes, numbers, CanisterError for
// `Err` variants) so nothing else in the client sees Candid.
import { Actor, HttpAgent, type ActorSubclass, type Identity } from '@dfinity/agent';
import { idlFactory } from '../../../declarations/forever/forever.did.js';
import type { _SERVICE, Error as CandidError, MemoryType as CandidMemoryType, MemoryPresence as CandidPresence, Result_chunk } from '../../../declarations/forever/forever.did';
import { CanisterError, type CanisterErrorCode } from '../core/errors';
import type { CanisterLimits, ForeverCanister, MemoryPresence, UploadSessionInfo } from '../core/ports';
import type { MemoryType } from '../core/types';
import { fromHex, toHex } from '../../bytes';
import { encodePutChunkArg } from './put-chunk-arg';
import type { Routed } from './bucket-locator';
import { callWithEncodedArg } from './raw-update';

export type ForeverActor = ActorSubclass<_SERVICE>;

export interface CanisterTarget {
  /** Origin of the IC HTTP interface (the app's own origin locally). */
  host: string;
  canisterId: string;
  /** Fetch the root key: true for the local IC and dfx, never for mainnet. */
  fetchRootKey: boolean;
  /** Replaces global fetch (tests count or break requests with it). */
  fetch?: typeof fetch;
}

/**
 * An actor that signs as `identity`. The agent's own retries are off
 * (`retryTimes: 0`): the engine retries with classification and full jitter,
 * and two retry layers would multiply attempts.
 */
export async function createForeverActor(identity: Identity, target: CanisterTarget): Promise<ForeverActor> {
  const agent = await HttpAgent.create({
    host: target.host,
    identity,
    retryTimes: 0,
    fetch: target.fetch,
    shouldFetchRootKey: target.fetchRootKey,
  });
  return Actor.createActor<_SERVICE>(idlFactory, { agent, canisterId: target.canisterId });
}

function canisterError(err: CandidError): CanisterError {
  const [code, detail] = Object.entries(err)[0] as [CanisterErrorCode, unknown];
  return new CanisterError(code, detail ?? null);
}

function ok<T>(result: { Ok: T } | { Err: CandidError }): T {
  if ('Err' in result) throw canisterError(result.Err);
  return result.Ok;
}

function candidType(t: MemoryType): CandidMemoryType {
  return { [t]: null } as CandidMemoryType;
}

const opt = <T>(v: T | null | undefined): [] | [T] => (v === null || v === undefined ? [] : [v]);

function presence(p: CandidPresence): MemoryPresence {
  return {
    metadataPresent: p.metadata_present,
    assetPresent: p.asset_present,
    sha256: p.sha256.length ? toHex(p.sha256[0]) : null,
    size: p.size.length ? Number(p.size[0]) : null,
  };
}

export function foreverCanister(actor: ForeverActor): ForeverCanister {
  let limits: Promise<CanisterLimits> | null = null;
  return {
    getLimits() {
      // Limits change only by an admin call; one query per actor is enough.
      limits ??= actor.get_limits().then((l) => ({ chunkSize: l.chunk_size, maxFileSize: Number(l.max_file_size), maxLiveSessions: l.max_live_sessions }));
      limits.catch(() => (limits = null));
      return limits;
    },
    async upsertMetadata(memoryId, memoryType, metadata, idempotencyKey) {
      const r = ok(
        await actor.upsert_metadata(
          memoryId,
          candidType(memoryType),
          {
            title: metadata.title,
            tags: metadata.tags ?? [],
            mime_type: opt(metadata.mimeType || null),
            description: opt(metadata.description),
            file_name: opt(metadata.name),
            taken_at_ms: [],
          },
          idempotencyKey,
        ),
      );
      return { created: r.created };
    },
    async beginAssetUpload(memoryId, sha256Hex, chunkCount, totalSize): Promise<UploadSessionInfo> {
      const s = ok(await actor.begin_asset_upload(memoryId, fromHex(sha256Hex), chunkCount, BigInt(totalSize)));
      return { sessionId: s.session_id, chunkSize: s.chunk_size, receivedChunks: [...s.received_chunks], expiresAtMs: Number(s.expires_at / 1_000_000n) };
    },
    async putChunk(sessionId, index, bytes) {
      // The chunk is the message: its argument is encoded by hand (put-chunk-arg.ts), not by IDL.encode.
      const arg = encodePutChunkArg(sessionId, index, bytes);
      const send = (a: ForeverActor) => callWithEncodedArg<Result_chunk>(a, 'put_chunk', arg);
      // A bucket routed through the index (bucket-locator.ts) is not itself an agent actor: the call goes to its bucket's actor.
      const routed = actor as ForeverActor & Partial<Routed<ForeverActor>>;
      const r = ok(await (routed.withBucket ? routed.withBucket(send) : send(actor)));
      return { chunksReceived: r.chunks_received, bytesReceived: Number(r.bytes_received) };
    },
    async commitAsset(sessionId, sha256Hex) {
      ok(await actor.commit_asset(sessionId, fromHex(sha256Hex)));
    },
    async cancelUpload(sessionId) {
      ok(await actor.cancel_upload(sessionId));
    },
    async getMemoryPresence(memoryId) {
      return presence(ok(await actor.get_memory_presence(memoryId)));
    },
    async setThumbnail(memoryId, bytes) {
      ok(await actor.set_thumbnail(memoryId, bytes));
    },
    async provePrincipal(nonce) {
      ok(await actor.prove_principal(nonce));
    },
  };
}
