// Everything the local IC serves over HTTP, ready to mount on one Hono app:
// the IC HTTP interface (/api/v2, /api/v3) and the development identity
// provider (/ii/). Keys (root, node) and identities live in the IC's data
// directory, so agents and stored delegations survive restarts.
import type { Hono } from 'hono';
import { createDevIdentityProviderApp, II_PATH } from '../ii/app.js';
import { IdentityStore } from '../ii/identity-store.js';
import { createIcHttpApp, type IcHttpAppOptions } from './app.js';
import { IcHttpInterface, type TimingPhase } from './interface.js';
import { loadOrCreateKeys } from './keys.js';
import type { IcRuntime } from './runtime.js';

export interface LocalIcHttpOptions extends IcHttpAppOptions {
  runtime: IcRuntime;
  /** The local IC's data directory (keys, identities); in memory without one. */
  dataDir?: string;
  onTiming?: (phase: TimingPhase, ms: number) => void;
}

export interface LocalIcHttp {
  iface: IcHttpInterface;
  identities: IdentityStore;
  /** Mounts the IC interface at /api/v2, /api/v3 and the identity provider at /ii/. */
  mount(app: Hono): void;
}

export async function createLocalIcHttp(opts: LocalIcHttpOptions): Promise<LocalIcHttp> {
  const iface = new IcHttpInterface({ runtime: opts.runtime, keys: loadOrCreateKeys(opts.dataDir), onTiming: opts.onTiming });
  const identities = await IdentityStore.open(opts.dataDir);
  const icApp = createIcHttpApp(iface, opts);
  const iiApp = createDevIdentityProviderApp({ store: identities, nowNs: () => opts.runtime.timeNs() });
  return {
    iface,
    identities,
    mount(app) {
      app.route('/', icApp);
      app.route('/', iiApp);
    },
  };
}

/** The identity provider URL for auth-client on an origin that mounts the local IC. */
export const identityProviderUrl = (origin: string): string => `${origin}${II_PATH}/`;
