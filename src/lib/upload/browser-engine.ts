// Wires the engine for a browser context (page or service worker): sessions
// signed with the stored II delegation, the canister over @dfinity/agent, the
// server recorder on this origin.
import { createForeverActor, foreverCanister } from './canister-client';
import type { ClientConfig } from './client-config';
import { UploadEngine, type EngineConfig, type EngineEvent } from './engine';
import type { Hasher } from './hasher';
import type { Session, SessionProvider } from './ports';
import type { QueueStore } from './queue-store';
import { ServerEdgeRecorder } from './server-client';
import { delegationExpiryMs, loadStoredIdentity } from './stored-identity';

/** Sessions from the stored delegation; one agent per (principal, delegation), rebuilt after a new sign-in. */
export function storedSessions(config: ClientConfig): SessionProvider {
  let cached: { key: string; session: Session } | null = null;
  return async () => {
    const identity = await loadStoredIdentity();
    const principal = identity.getPrincipal().toText();
    const key = `${principal}/${delegationExpiryMs(identity.getDelegation())}`;
    if (cached?.key !== key) {
      const actor = await createForeverActor(identity, { host: config.icHost, canisterId: config.canisterId, fetchRootKey: config.fetchRootKey });
      cached = { key, session: { principal, canister: foreverCanister(actor) } };
    }
    return cached.session;
  };
}

export function createBrowserEngine(opts: {
  config: ClientConfig;
  store: QueueStore;
  hasher: Hasher;
  onEvent?: (e: EngineEvent) => void;
  engineConfig?: Partial<EngineConfig>;
}): UploadEngine {
  return new UploadEngine({
    store: opts.store,
    sessions: storedSessions(opts.config),
    hasher: opts.hasher,
    recorder: (session) => new ServerEdgeRecorder({ baseUrl: opts.config.apiBase, canister: session.canister }),
    onEvent: opts.onEvent,
    config: opts.engineConfig,
  });
}
