// Default IC adapters: the user's bucket (a `forever` canister) through an IC
// HTTP interface (the local IC or a real network) with @dfinity/agent, as any
// client would. With an index, the bucket of a principal is the index's
// answer to `lookup_bucket` (kept briefly, asked again when a bucket answers
// WrongBucket); a bucket id never comes from the client. Without one (a
// standalone canister: tests, single-canister deployments) every principal's
// bucket is `canisterId`.
// Sign-in resolution needs no identity (`nonce_principal` is public); presence
// verification is signed with the server's own identity, which the index
// passes on to every bucket as a presence verifier (server/ic/server-identity.ts).
import { Actor, AnonymousIdentity, HttpAgent, type ActorSubclass, type Identity } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';
import { BucketLookup } from './bucket-lookup.js';
import { foreverIdlFactory, VERIFY_PRESENCE_MAX_IDS, type ForeverService, type MemoryPresence } from './forever-idl.js';
import { indexIdlFactory, type IndexService } from './index-idl.js';
import { toHex } from '../bytes.js';
import { IcUnavailableError, type IcMemoryPresence, type PresenceVerifier, type PrincipalResolver } from './types.js';

export interface CanisterClientOptions {
  icHost: string;
  /** The index that names each principal's bucket. */
  indexId?: string;
  /** One standalone `forever` canister for every principal (when there is no index). */
  canisterId?: string;
  fetchRootKey: boolean;
  /** Signs presence queries and index lookups; anonymous callers are refused by the canister. */
  identity?: Identity;
  /** Transport for the agent (default global fetch). */
  fetch?: typeof fetch;
  /** How long an index answer is kept (default 30 s). */
  bucketTtlMs?: number;
}

export interface CanisterAdapters {
  principalResolver: PrincipalResolver;
  presenceVerifier: PresenceVerifier;
  /** The bucket lookup, when there is an index (tests look at it). */
  buckets: BucketLookup | null;
}

type Presence = { Ok: MemoryPresence[] } | { Err: Record<string, unknown> };

export function createCanisterAdapters(options: CanisterClientOptions): CanisterAdapters {
  if (!options.indexId && !options.canisterId) throw new Error('createCanisterAdapters needs an indexId or a canisterId');
  // Agents are created on first use: the IC may start after the server.
  const lazyAgent = (identity: Identity) => {
    let agent: Promise<HttpAgent> | null = null;
    return (): Promise<HttpAgent> => {
      agent ??= HttpAgent.create({
        host: options.icHost,
        shouldFetchRootKey: options.fetchRootKey,
        identity,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }).catch((error: unknown) => {
        agent = null;
        throw error;
      });
      return agent;
    };
  };
  const anonymousAgent = lazyAgent(new AnonymousIdentity());
  const signedAgent = lazyAgent(options.identity ?? new AnonymousIdentity());
  const bucketActor = async (agent: () => Promise<HttpAgent>, bucket: string) =>
    Actor.createActor<ForeverService>(foreverIdlFactory, { agent: await agent(), canisterId: bucket });
  const call = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (error) {
      if (error instanceof IcUnavailableError) throw error;
      throw new IcUnavailableError(`${what} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, { cause: error });
    }
  };

  let index: Promise<ActorSubclass<IndexService>> | null = null;
  const buckets = options.indexId
    ? new BucketLookup({
        ttlMs: options.bucketTtlMs,
        ask: (principal) =>
          call('lookup_bucket', async () => {
            index ??= signedAgent().then((agent) => Actor.createActor<IndexService>(indexIdlFactory, { agent, canisterId: options.indexId! }));
            index.catch(() => (index = null));
            const r = await (await index).lookup_bucket(Principal.fromText(principal));
            return r[0] ? r[0].toText() : null;
          }),
      })
    : null;
  const bucketOf = async (principal: string): Promise<string | null> => (buckets ? buckets.bucketOf(principal) : options.canisterId!);

  const noncePrincipalAt = async (bucket: string, nonce: string): Promise<string | null> => {
    const r = await call('nonce_principal', async () => (await bucketActor(anonymousAgent, bucket)).nonce_principal(nonce));
    const p = r[0];
    return p && !p.isAnonymous() ? p.toText() : null;
  };

  const presenceAt = (bucket: string, owner: Principal, ids: string[]): Promise<Presence> =>
    call('verify_presence', async () => (await bucketActor(signedAgent, bucket)).verify_presence(owner, ids) as Promise<Presence>);

  return {
    buckets,
    principalResolver: {
      async noncePrincipal(nonce, claimed) {
        if (!buckets) return noncePrincipalAt(options.canisterId!, nonce);
        // With an index the proof is in the claimed principal's bucket, as the index names it.
        if (!claimed) return null;
        let bucket = await buckets.bucketOf(claimed);
        if (!bucket) return null;
        let proved = await noncePrincipalAt(bucket, nonce);
        if (proved !== claimed) {
          // A kept answer may be stale (the user was moved): ask the index once more.
          const again = await buckets.fresh(claimed);
          if (!again || again === bucket) return null;
          bucket = again;
          proved = await noncePrincipalAt(bucket, nonce);
        }
        return proved === claimed ? proved : null;
      },
    },
    presenceVerifier: {
      async presence(owner, memoryIds) {
        const ownerPrincipal = Principal.fromText(owner);
        const out = new Map<string, IcMemoryPresence>();
        for (let i = 0; i < memoryIds.length; i += VERIFY_PRESENCE_MAX_IDS) {
          const ids = memoryIds.slice(i, i + VERIFY_PRESENCE_MAX_IDS);
          let bucket = await bucketOf(owner);
          // No bucket: nothing of this owner is on the IC.
          if (!bucket) return out;
          let r = await presenceAt(bucket, ownerPrincipal, [...ids]);
          if ('Err' in r && 'WrongBucket' in r.Err && buckets) {
            bucket = await buckets.fresh(owner);
            if (!bucket) return out;
            r = await presenceAt(bucket, ownerPrincipal, [...ids]);
          }
          if ('Err' in r) throw new IcUnavailableError(`verify_presence refused: ${Object.keys(r.Err)[0]}`);
          for (const p of r.Ok) {
            // Only the owner's memory confirms anything; absent memories carry no owner.
            if (!p.metadata_present || p.owner.length === 0 || p.owner[0].toText() !== owner) continue;
            out.set(p.memory_id, {
              memory_id: p.memory_id,
              metadata_present: p.metadata_present,
              asset_present: p.asset_present,
              sha256: p.sha256.length ? toHex(p.sha256[0]) : null,
              size: p.size.length ? Number(p.size[0]) : null,
            });
          }
        }
        return out;
      },
    },
  };
}
