// `npm start`: one local origin serving the web app (build/), the server API
// and, unless IC_HOST points at a real network, the local IC (its HTTP
// interface at /api/v2 and /api/v3, the development identity provider at
// /ii/) with the `forever` canister built and installed or upgraded.
//
//   PORT (default 4943), HOST (default 127.0.0.1), DATA_DIR (default .data)
//   IC_HOST, CANISTER_ID, IC_FETCH_ROOT_KEY: use a real network instead
//   II_URL: identity provider on a real network (default identity.internetcomputer.org)
//   FOREVER_SKIP_APP_BUILD=1: serve build/ as it is
//
// The app learns where everything is from GET /api/config (also /env.json).
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Context, Hono } from 'hono';
import { buildAppIfStale } from '../scripts/app-build.js';
import { identityProviderUrl } from '../canister/local/http/local-ic-http.js';
import { createServerApp, createServerDeps } from './app.js';
import { serverConfigFromEnv } from './config.js';
import { createCanisterAdapters } from './ic/canister-client.js';
import { startLocalNetwork, type LocalNetwork } from './ic/local-network.js';
import { loadOrCreateServerIdentity } from './ic/server-identity.js';
import { createJsonLogger } from './logging.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const logger = createJsonLogger({ level: env.LOG_LEVEL === 'debug' ? 'debug' : 'info' });
const dataDir = path.resolve(env.DATA_DIR ?? '.data');
const host = env.HOST ?? '127.0.0.1';
const port = env.PORT === undefined || env.PORT === '' ? 4943 : Number(env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${env.PORT}`);
const buildDir = path.join(root, 'build');

/** CANISTER_ID, else dfx's canister_ids.json at the project root (`forever.ic`). */
function remoteCanisterId(): string {
  if (env.CANISTER_ID) return env.CANISTER_ID;
  try {
    const ids = JSON.parse(readFileSync(path.join(root, 'canister_ids.json'), 'utf8')) as Record<string, Record<string, string>>;
    const id = ids.forever?.ic;
    if (id) return id;
  } catch {
    // fall through to the error below
  }
  throw new Error('IC_HOST is set: set CANISTER_ID (or deploy with dfx so canister_ids.json names forever.ic)');
}

// The app bundle is rebuilt when an input is newer than build/index.html.
if (env.FOREVER_SKIP_APP_BUILD !== '1') buildAppIfStale({ root, onBuild: (dir) => logger.info('AppBuild', { dir }) });

// Listen first: in local mode the server's own IC adapter talks to this origin.
let app: Hono | undefined;
const server = serve({
  fetch: (req, bindings) => (app ? app.fetch(req, bindings) : new Response('starting', { status: 503, headers: { 'retry-after': '1' } })),
  port,
  hostname: host,
});
const address = await new Promise<AddressInfo>((resolve, reject) => {
  server.once('listening', () => resolve(server.address() as AddressInfo));
  server.once('error', reject);
});
const origin = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

const identity = loadOrCreateServerIdentity(dataDir);
let local: LocalNetwork | undefined;
let canisterId: string;
if (env.IC_HOST) {
  canisterId = remoteCanisterId();
} else {
  local = await startLocalNetwork({
    dataDir,
    presenceVerifier: identity.getPrincipal(),
    log: (event, fields) => logger.info(event, fields),
    canisterLog: (id, line) => logger.debug('CanisterLog', { canister_id: id, line }),
    // Canister messages run on a worker thread: a 1 MiB put_chunk is about a
    // second of Wasm, during which this thread keeps serving the app, the API,
    // the IC interface and the identity provider (docs/local-ic.md).
    thread: 'worker',
  });
  canisterId = local.canisterId.toText();
}

const config = serverConfigFromEnv(env, { icHost: origin, canisterId });
const adapters = createCanisterAdapters({ icHost: config.icHost, canisterId: config.canisterId, fetchRootKey: config.fetchRootKey, identity });
const deps = await createServerDeps({ ...config, logger, ...adapters });
const serverApp = createServerApp(deps) as unknown as Hono;
local?.http.mount(serverApp);

// Where the browser finds the canister, the IC and the identity provider
// (src/lib/upload/client-config.ts reads it). With the local IC they are this
// origin, as the page sees it (localhost or 127.0.0.1).
const clientConfig = (c: Context) => {
  const here = new URL(c.req.url).origin;
  c.header('cache-control', 'no-store');
  return c.json({
    canisterId: config.canisterId,
    icHost: local ? here : config.icHost,
    identityProvider: local ? identityProviderUrl(here) : (env.II_URL ?? 'https://identity.internetcomputer.org'),
    fetchRootKey: config.fetchRootKey,
    apiBase: '',
    serverPrincipal: identity.getPrincipal().toText(),
  });
};
serverApp.get('/api/config', clientConfig);
serverApp.get('/env.json', clientConfig);

// The SvelteKit build (adapter-static) with its SPA fallback for client-side routes.
if (existsSync(path.join(buildDir, 'index.html'))) {
  serverApp.use('*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return next();
    if (c.req.path.startsWith('/_app/immutable/')) c.header('cache-control', 'public, max-age=31536000, immutable');
    else c.header('cache-control', 'no-cache');
    return serveStatic({ root: path.relative(process.cwd(), buildDir) || '.' })(c, next);
  });
  serverApp.use('*', async (c, next) => {
    const p = c.req.path;
    const isPage = (c.req.method === 'GET' || c.req.method === 'HEAD') && !p.startsWith('/api/') && !p.startsWith('/ii/') && !path.extname(p);
    if (!isPage) return next();
    c.header('cache-control', 'no-cache');
    return c.html(readFileSync(path.join(buildDir, 'index.html'), 'utf8'));
  });
}

app = serverApp;
logger.info('ServerReady', {
  url: origin,
  canister_id: config.canisterId,
  ic_host: config.icHost,
  identity_provider: local ? identityProviderUrl(origin) : (env.II_URL ?? 'https://identity.internetcomputer.org'),
  data_dir: dataDir,
  server_principal: identity.getPrincipal().toText(),
  app: existsSync(path.join(buildDir, 'index.html')),
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('ServerStopping', { signal });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await deps.close();
  await local?.close();
  process.exit(0);
}
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));
