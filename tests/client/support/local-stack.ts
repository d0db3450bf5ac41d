// The whole back end in one Node process for the client suites: the local IC
// with the azle-built `forever` canister, its HTTP interface and the Hono
// server (SQLite in a temp dir; its presence checks signed by its own
// identity, registered as a verifier as `npm start` does) on one origin,
// served on a real socket, and a
// signed-in browser identity (ECDSA session key + delegation chain) written
// to (fake) IndexedDB exactly where @dfinity/auth-client keeps it.
// With `index`, the back end is the product's: the index canister deployed
// as `npm start` deploys it (canister/local/deploy-index.ts), creating
// buckets as users arrive, and the client and server configured with the
// index only.
import 'fake-indexeddb/auto';
import { serve, type ServerType } from '@hono/node-server';
import { IdbStorage, KEY_STORAGE_DELEGATION, KEY_STORAGE_KEY } from '@dfinity/auth-client';
import { DelegationChain, ECDSAKeyIdentity, Ed25519KeyIdentity } from '@dfinity/identity';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { IDL } from '@dfinity/candid';
import { Hono } from 'hono';
import { LocalIC } from '../../../canister/local/index.js';
import { createIcHttpApp } from '../../../canister/local/http/app.js';
import { IcHttpInterface, type TimingPhase } from '../../../canister/local/http/interface.js';
import { loadOrCreateKeys } from '../../../canister/local/http/keys.js';
import { buildCanister } from '../../../canister/scripts/build.js';
import { createServerApp, createServerDeps } from '../../../server/app.js';
import type { ClientConfig } from '../../../src/lib/upload/adapters/client-config';
import { createCanisterAdapters } from '../../../server/ic/canister-client.js';
import { registerPresenceVerifier } from '../../../server/ic/local-network.js';
import { deployIndex } from '../../../canister/local/deploy-index.js';

export interface LocalStack {
  origin: string;
  /** The standalone canister ('' with an index). */
  canisterId: string;
  /** The index canister, when the stack has one. */
  indexId: string | null;
  /** Controller of the index and of every bucket. */
  admin: Ed25519KeyIdentity;
  config: ClientConfig;
  ic: LocalIC;
  close(): Promise<void>;
}

export async function startLocalStack(
  opts: {
    onTiming?: (phase: TimingPhase, ms: number) => void;
    /** Adds routes after the IC interface and the API (the browser suites serve the app). */
    mount?: (root: Hono, config: ClientConfig) => void;
    /** Server settings for one suite (an injected blob store, a fast upload queue). `dataDir` is the stack's temp directory. */
    server?: (dataDir: string) => Partial<Parameters<typeof createServerDeps>[0]>;
    /** Deploy the index (users per bucket) instead of one standalone canister. */
    index?: { capacityUsers: number };
  } = {},
): Promise<LocalStack> {
  const dir = mkdtempSync(join(tmpdir(), 'forever-client-'));
  const ic = await LocalIC.create();
  // As `npm start` sets it up: the controller registers the server's own
  // identity as a presence verifier, and the server asks `verify_presence`
  // with it through the IC interface (server/ic/canister-client.ts).
  const adminIdentity = Ed25519KeyIdentity.generate();
  const admin = adminIdentity.getPrincipal();
  const serverIdentity = Ed25519KeyIdentity.generate();
  let target: { indexId: string } | { canisterId: string };
  if (opts.index) {
    const d = await deployIndex({ ic, dataDir: dir, controller: admin, capacity: { users: opts.index.capacityUsers, bytes: 1n << 40n }, presenceVerifiers: [serverIdentity.getPrincipal()] });
    target = { indexId: d.indexId.toText() };
  } else {
    const canister = await ic.createCanister({ controllers: [admin] });
    await ic.installCode(canister, new Uint8Array(readFileSync(buildCanister('forever'))), { mode: 'install', arg: IDL.encode([], []) });
    await registerPresenceVerifier(ic, canister, admin, serverIdentity.getPrincipal());
    target = { canisterId: canister.toText() };
  }
  const iface = new IcHttpInterface({ runtime: ic, keys: loadOrCreateKeys(), onTiming: opts.onTiming });

  // The server's IC adapters need the origin, known only once listening.
  let origin = '';
  const root = new Hono();
  root.route('/', createIcHttpApp(iface));
  let server: ServerType | null = null;
  await new Promise<void>((resolve) => {
    server = serve({ fetch: (req) => root.fetch(req), port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      origin = `http://127.0.0.1:${info.port}`;
      resolve();
    });
  });
  const adapters = createCanisterAdapters({ icHost: origin, ...target, fetchRootKey: true, identity: serverIdentity });
  const deps = await createServerDeps({
    dataDir: dir,
    icHost: origin,
    ...target,
    fetchRootKey: true,
    principalResolver: adapters.principalResolver,
    presenceVerifier: adapters.presenceVerifier,
    ...opts.server?.(dir),
  });
  root.route('/', createServerApp(deps));
  const config: ClientConfig = { ...target, icHost: origin, identityProvider: `${origin}/ii/`, fetchRootKey: true, apiBase: origin };
  opts.mount?.(root, { ...config, apiBase: '' });
  return {
    origin,
    canisterId: 'canisterId' in target ? target.canisterId : '',
    indexId: 'indexId' in target ? target.indexId : null,
    admin: adminIdentity,
    config,
    ic,
    async close() {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await deps.close();
      await ic.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Signs in the way the auth client does after II: a fresh non-extractable
 * ECDSA session key, delegated to by a user key for `ttlMs`, both stored in
 * `auth-client-db`. Returns the user's principal.
 */
export async function signIn(ttlMs = 30 * 60_000, userKey = Ed25519KeyIdentity.generate()): Promise<string> {
  const session = await ECDSAKeyIdentity.generate({ extractable: false });
  const chain = await DelegationChain.create(userKey, session.getPublicKey(), new Date(Date.now() + ttlMs));
  const storage = new IdbStorage();
  await storage.set(KEY_STORAGE_KEY, session.getKeyPair());
  await storage.set(KEY_STORAGE_DELEGATION, JSON.stringify(chain.toJSON()));
  return userKey.getPrincipal().toText();
}

/** Node's fetch keeps no cookies; the server's session is a cookie. */
export function cookieFetch(): typeof fetch {
  const jar = new Map<string, string>();
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(input, { ...init, headers });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
    return res;
  };
}
