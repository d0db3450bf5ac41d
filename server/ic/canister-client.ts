// Default IC adapters: the `forever` canister through an IC HTTP interface
// (the local IC or a real network) with @dfinity/agent, as any client would.
// Sign-in resolution needs no identity (`nonce_principal` is public); presence
// verification is signed with the server's own identity, which the canister's
// controller registers as a presence verifier (server/ic/server-identity.ts).
import { Actor, AnonymousIdentity, HttpAgent, type ActorSubclass, type Identity } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';
import { foreverIdlFactory, VERIFY_PRESENCE_MAX_IDS, type ForeverService } from './forever-idl.js';
import { toHex } from '../bytes.js';
import { IcUnavailableError, type IcMemoryPresence, type PresenceVerifier, type PrincipalResolver } from './types.js';

export interface CanisterClientOptions {
  icHost: string;
  canisterId: string;
  fetchRootKey: boolean;
  /** Signs presence queries (a registered verifier); anonymous callers are refused by the canister. */
  identity?: Identity;
  /** Transport for the agent (default global fetch). */
  fetch?: typeof fetch;
}

export function createCanisterAdapters(options: CanisterClientOptions): { principalResolver: PrincipalResolver; presenceVerifier: PresenceVerifier } {
  // Agents are created on first use: the IC may start after the server.
  const lazyActor = (identity: Identity) => {
    let actor: Promise<ActorSubclass<ForeverService>> | null = null;
    return (): Promise<ActorSubclass<ForeverService>> => {
      actor ??= HttpAgent.create({
        host: options.icHost,
        shouldFetchRootKey: options.fetchRootKey,
        identity,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      })
        .then((agent) => Actor.createActor<ForeverService>(foreverIdlFactory, { agent, canisterId: options.canisterId }))
        .catch((error: unknown) => {
          actor = null;
          throw error;
        });
      return actor;
    };
  };
  const anonymous = lazyActor(new AnonymousIdentity());
  const verifier = lazyActor(options.identity ?? new AnonymousIdentity());
  const call = async <T>(what: string, actor: () => Promise<ActorSubclass<ForeverService>>, f: (a: ActorSubclass<ForeverService>) => Promise<T>): Promise<T> => {
    try {
      return await f(await actor());
    } catch (error) {
      throw new IcUnavailableError(`${what} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, { cause: error });
    }
  };

  return {
    principalResolver: {
      async noncePrincipal(nonce) {
        const r = await call('nonce_principal', anonymous, (a) => a.nonce_principal(nonce));
        const p = r[0];
        return p && !p.isAnonymous() ? p.toText() : null;
      },
    },
    presenceVerifier: {
      async presence(owner, memoryIds) {
        const ownerPrincipal = Principal.fromText(owner);
        const out = new Map<string, IcMemoryPresence>();
        for (let i = 0; i < memoryIds.length; i += VERIFY_PRESENCE_MAX_IDS) {
          const ids = memoryIds.slice(i, i + VERIFY_PRESENCE_MAX_IDS);
          const r = await call('verify_presence', verifier, (a) => a.verify_presence(ownerPrincipal, [...ids]));
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
