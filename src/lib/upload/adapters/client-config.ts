// Where the index canister, the IC interface and the identity provider are. The
// server answers it (one origin serves app, API and IC interface locally);
// the last answer is kept in the queue database so the service worker can
// drain while the server's config endpoint is unreachable but the IC is not.
import type { QueueStore } from './queue-store';

export interface ClientConfig {
  /** The index canister, which names each user's bucket (the product's configuration). */
  indexId?: string;
  /** One standalone `forever` canister for every user instead of an index (tests, single-canister deployments). */
  canisterId?: string;
  /** Origin of the IC HTTP interface. */
  icHost: string;
  identityProvider: string;
  /** Fetch the IC root key (local IC, dfx); never on mainnet. */
  fetchRootKey: boolean;
  /** Origin (+ base path) of the Hono API; '' when it is this origin. */
  apiBase: string;
}

export const CONFIG_PATH = '/api/config';
const META_KEY = 'client-config';

export class ConfigUnavailableError extends Error {
  constructor(reason: string) {
    super(`The app configuration is not available: ${reason}`);
    this.name = 'ConfigUnavailableError';
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Accepts camelCase or snake_case field names; relative URLs resolve against `origin`. Pure. */
export function parseClientConfig(body: unknown, origin: string): ClientConfig {
  const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const indexId = str(o.indexId) ?? str(o.index_id);
  const canisterId = str(o.canisterId) ?? str(o.canister_id);
  if (!indexId && !canisterId) throw new ConfigUnavailableError('no index id in the config');
  const icHost = str(o.icHost) ?? str(o.ic_host) ?? str(o.host) ?? origin;
  const identityProvider = str(o.identityProvider) ?? str(o.identity_provider) ?? `${origin}/ii/`;
  const fetchRootKey = typeof o.fetchRootKey === 'boolean' ? o.fetchRootKey : typeof o.fetch_root_key === 'boolean' ? o.fetch_root_key : !/(^|\.)(ic0\.app|icp0\.io)$/.test(new URL(icHost, origin).hostname);
  return {
    ...(indexId ? { indexId } : { canisterId }),
    icHost: new URL(icHost, origin).origin,
    identityProvider: new URL(identityProvider, origin).href,
    fetchRootKey,
    apiBase: str(o.apiBase) ?? str(o.api_base) ?? '',
  };
}

export async function loadClientConfig(store: QueueStore, origin: string, f: typeof fetch = fetch): Promise<ClientConfig> {
  try {
    const res = await f(`${origin}${CONFIG_PATH}`, { credentials: 'same-origin', cache: 'no-store' });
    if (!res.ok) throw new ConfigUnavailableError(`${CONFIG_PATH} answered ${res.status}`);
    const config = parseClientConfig(await res.json(), origin);
    await store.setMeta(META_KEY, config);
    return config;
  } catch (err) {
    const cached = await store.getMeta<ClientConfig>(META_KEY);
    if (cached) return cached;
    throw err instanceof ConfigUnavailableError ? err : new ConfigUnavailableError(err instanceof Error ? err.message : String(err));
  }
}
