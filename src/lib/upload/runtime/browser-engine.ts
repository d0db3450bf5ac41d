// Wires the engine for a browser context (page or service worker): sessions
// signed with the stored II delegation, the user's bucket (found through the
// index) over @dfinity/agent, the server's API (Web2 copy and edges) on this origin.
import { foreverCanister } from '../adapters/forever-canister';
import { locatorFor, userForeverActor } from '../adapters/user-bucket';
import type { ClientConfig } from '../adapters/client-config';
import { UploadEngine, type EngineConfig, type EngineEvent } from './engine';
import type { Hasher } from '../adapters/hasher';
import type { Session, SessionProvider } from '../core/ports';
import type { QueueStore } from '../adapters/queue-store';
import { ServerApi } from '../adapters/server-api';
import type { Thumbnailer } from '../core/ports';
import { delegationExpiryMs, loadStoredIdentity } from '../adapters/stored-identity';

/** Sessions from the stored delegation; one agent per (principal, delegation), rebuilt after a new sign-in. */
export function storedSessions(config: ClientConfig, store: QueueStore, f?: typeof fetch): SessionProvider {
  let cached: { key: string; session: Session } | null = null;
  return async () => {
    const identity = await loadStoredIdentity();
    const principal = identity.getPrincipal().toText();
    const key = `${principal}/${delegationExpiryMs(identity.getDelegation())}`;
    if (cached?.key !== key) {
      const actor = await userForeverActor(identity, config, locatorFor(store), f);
      cached = { key, session: { principal, canister: foreverCanister(actor) } };
    }
    return cached.session;
  };
}

export function createBrowserEngine(opts: {
  config: ClientConfig;
  store: QueueStore;
  hasher: Hasher;
  thumbnailer?: Thumbnailer;
  onEvent?: (e: EngineEvent) => void;
  engineConfig?: Partial<EngineConfig>;
  /** Replaces global fetch for the agent and the server (Node tests: cookies, injected faults). */
  fetch?: typeof fetch;
}): UploadEngine {
  // One server client per session, so its server sign-in is shared by all items.
  const servers = new WeakMap<Session, ServerApi>();
  const server = (session: Session) => {
    let r = servers.get(session);
    if (!r) servers.set(session, (r = new ServerApi({ baseUrl: opts.config.apiBase, canister: session.canister, principal: session.principal, fetch: opts.fetch })));
    return r;
  };
  return new UploadEngine({
    store: opts.store,
    sessions: storedSessions(opts.config, opts.store, opts.fetch),
    hasher: opts.hasher,
    thumbnailer: opts.thumbnailer,
    recorder: server,
    web2: server,
    onEvent: opts.onEvent,
    config: opts.engineConfig,
  });
}
