// Default IC adapters: query the `forever` canister through an IC HTTP
// interface (the local IC or a real network) with @dfinity/agent.
import { Actor, HttpAgent, type ActorSubclass } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';
import { serverIdlFactory } from './forever-idl.js';
import { IcUnavailableError, type IcMemoryPresence, type PresenceVerifier, type PrincipalResolver } from './types.js';

export interface CanisterClientOptions {
  icHost: string;
  canisterId: string;
  fetchRootKey: boolean;
}

type CanisterError = Record<string, unknown>;

interface ForeverServerActor {
  nonce_principal(nonce: string): Promise<[] | [Principal]>;
  get_memory_list_presence(
    owner: Principal,
    ids: string[],
    cursor: [] | [string],
    limit: [] | [number],
  ): Promise<
    | {
        Ok: {
          items: Array<{ memory_id: string; metadata_present: boolean; asset_present: boolean; sha256: [] | [Uint8Array | number[]]; size: [] | [bigint] }>;
          next_cursor: [] | [string];
        };
      }
    | { Err: CanisterError }
  >;
}

/** The canister answers presence for at most this many ids per call. */
export const PRESENCE_PAGE = 100;

const toHex = (b: Uint8Array | number[]): string => Buffer.from(b as Uint8Array).toString('hex');

export function createCanisterAdapters(options: CanisterClientOptions): { principalResolver: PrincipalResolver; presenceVerifier: PresenceVerifier } {
  // The agent is created on first use: the IC may start after the server.
  let actor: Promise<ActorSubclass<ForeverServerActor>> | null = null;
  const getActor = (): Promise<ActorSubclass<ForeverServerActor>> => {
    actor ??= HttpAgent.create({ host: options.icHost, shouldFetchRootKey: options.fetchRootKey })
      .then((agent) => Actor.createActor<ForeverServerActor>(serverIdlFactory, { agent, canisterId: options.canisterId }))
      .catch((error: unknown) => {
        actor = null;
        throw error;
      });
    return actor;
  };
  const call = async <T>(what: string, f: (a: ActorSubclass<ForeverServerActor>) => Promise<T>): Promise<T> => {
    try {
      return await f(await getActor());
    } catch (error) {
      throw new IcUnavailableError(`${what} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, { cause: error });
    }
  };

  return {
    principalResolver: {
      async noncePrincipal(nonce) {
        const r = await call('nonce_principal', (a) => a.nonce_principal(nonce));
        const p = r[0];
        return p && !p.isAnonymous() ? p.toText() : null;
      },
    },
    presenceVerifier: {
      async presence(owner, memoryIds) {
        const out = new Map<string, IcMemoryPresence>();
        const ownerPrincipal = Principal.fromText(owner);
        for (let i = 0; i < memoryIds.length; i += PRESENCE_PAGE) {
          const ids = memoryIds.slice(i, i + PRESENCE_PAGE);
          const r = await call('get_memory_list_presence', (a) => a.get_memory_list_presence(ownerPrincipal, [...ids], [], [ids.length]));
          if ('Err' in r) throw new IcUnavailableError(`get_memory_list_presence rejected: ${Object.keys(r.Err)[0]}`);
          for (const p of r.Ok.items) {
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
