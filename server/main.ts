// `npm start`: one local origin serving the web app (build/), the server API
// and, unless IC_HOST points at a real network, the local IC (its HTTP
// interface at /api/v2 and /api/v3, the development identity provider at
// /ii/) with the index canister `forever_index` built and installed or
// upgraded, the bucket module uploaded to it; the index creates the buckets.
//
//   PORT (default 4943), HOST (default 127.0.0.1), DATA_DIR (default .data)
//   BUCKET_CAPACITY_USERS, BUCKET_CAPACITY_BYTES: users and bytes per bucket (local IC)
//   IC_HOST, INDEX_ID, IC_FETCH_ROOT_KEY: use a real network instead
//   CANISTER_ID (without INDEX_ID): one standalone forever canister instead of an index
//   II_URL: identity provider on a real network (default identity.internetcomputer.org)
//   LOG_LEVEL: debug | info | warn (default) | error, JSON lines on stdout
//   FOREVER_SKIP_APP_BUILD=1: serve build/ as it is
//
// It prints where to open the app, where the data lives and how to stop, then
// only warnings and errors (LOG_LEVEL=info shows every step and request).
// The app learns where everything is from GET /api/config (also /env.json).
//
// This file and server/ic/local-network.ts are where `npm start` embeds the
// local IC (canister/local); the rest of the server talks to any IC over HTTP.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { buildAppIfStale } from '../scripts/app-build.js';
import { identityProviderUrl } from '../canister/local/http/local-ic-http.js';
import { createServerApp, createServerDeps } from './app.js';
import { serverConfigFromEnv } from './config.js';
import { gracefulStop } from './http/graceful-stop.js';
import { mountWebApp } from './http/web-app.js';
import { createCanisterAdapters } from './ic/canister-client.js';
import { startLocalNetwork, type LocalNetwork } from './ic/local-network.js';
import { loadOrCreateServerIdentity } from './ic/server-identity.js';
import { DEFAULT_BUCKET_CAPACITY } from '../canister/local/deploy-index.js';
import { createJsonLogger, type LogLevel } from './logging.js';
import { clientConfigRoutes } from './routes/client-config.js';

/** A stop never takes longer than this, whatever is in flight. */
const STOP_BOUND_MS = 5000;
/** Of which the HTTP drain may take this much; the rest closes the database and the IC. */
const HTTP_DRAIN_MS = 3000;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const level = (LEVELS as readonly string[]).includes(env.LOG_LEVEL ?? '') ? (env.LOG_LEVEL as LogLevel) : 'warn';
const logger = createJsonLogger({ level });
const dataDir = path.resolve(env.DATA_DIR ?? '.data');
const host = env.HOST ?? '127.0.0.1';
const port = env.PORT === undefined || env.PORT === '' ? 4943 : Number(env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${env.PORT}`);
const buildDir = path.join(root, 'build');

/** INDEX_ID, else dfx's canister_ids.json at the project root (`forever_index.ic`); or a standalone CANISTER_ID. */
function remoteCanisters(): { indexId?: string; canisterId?: string } {
  if (env.INDEX_ID) return { indexId: env.INDEX_ID };
  if (env.CANISTER_ID) return { canisterId: env.CANISTER_ID };
  try {
    const ids = JSON.parse(readFileSync(path.join(root, 'canister_ids.json'), 'utf8')) as Record<string, Record<string, string>>;
    const id = ids.forever_index?.ic;
    if (id) return { indexId: id };
  } catch {
    // fall through to the error below
  }
  throw new Error('IC_HOST is set: set INDEX_ID (or deploy with dfx so canister_ids.json names forever_index.ic)');
}

const positive = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  return n;
};
const bucketCapacity = {
  users: positive(env.BUCKET_CAPACITY_USERS, 'BUCKET_CAPACITY_USERS') ?? DEFAULT_BUCKET_CAPACITY.users,
  bytes: BigInt(positive(env.BUCKET_CAPACITY_BYTES, 'BUCKET_CAPACITY_BYTES') ?? DEFAULT_BUCKET_CAPACITY.bytes),
};
if (bucketCapacity.users > 0xffff_ffff) throw new Error('BUCKET_CAPACITY_USERS must fit in 32 bits');

// The app bundle is rebuilt when an input is newer than build/index.html.
if (env.FOREVER_SKIP_APP_BUILD !== '1') buildAppIfStale({ root, onBuild: (dir) => logger.info('AppBuild', { dir }) });

// Listen first, answering 503 until ready, so a browser opened early retries.
let app: Hono | undefined;
const server = serve({
  fetch: (req, bindings) => (app ? app.fetch(req, bindings) : new Response('starting', { status: 503, headers: { 'retry-after': '1' } })),
  port,
  hostname: host,
}) as Server;
const stopper = gracefulStop(server);
const address = await new Promise<AddressInfo>((resolve, reject) => {
  server.once('listening', () => resolve(server.address() as AddressInfo));
  server.once('error', reject);
});
const origin = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

const identity = await loadOrCreateServerIdentity(dataDir);
let local: LocalNetwork | undefined;
let canisters: { indexId?: string; canisterId?: string };
if (env.IC_HOST) {
  canisters = remoteCanisters();
} else {
  local = await startLocalNetwork({
    dataDir,
    presenceVerifier: identity.getPrincipal(),
    bucketCapacity,
    log: (event, fields) => logger.info(event, fields),
    canisterLog: (id, line) => logger.debug('CanisterLog', { canister_id: id, line }),
    // Canister messages run on a worker thread: a 1 MiB put_chunk is about a
    // second of Wasm, during which this thread keeps serving the app, the API,
    // the IC interface and the identity provider (docs/local-ic.md).
    thread: 'worker',
  });
  canisters = { indexId: local.indexId.toText() };
}

const config = serverConfigFromEnv(local ? { ...env, INDEX_ID: undefined, CANISTER_ID: undefined } : env, { icHost: origin, ...canisters });
const adapters = createCanisterAdapters({
  icHost: config.icHost,
  indexId: config.indexId,
  canisterId: config.canisterId,
  fetchRootKey: config.fetchRootKey,
  identity,
  // The server's own calls to the embedded IC go straight to its HTTP
  // interface in this process, not through the listener: a stop closes the
  // listener first, and the requests still in flight must reach the IC.
  ...(local ? { fetch: ((input: RequestInfo | URL, init?: RequestInit) => serverApp.fetch(new Request(input, init))) as typeof fetch } : {}),
});
const deps = await createServerDeps({ ...config, logger, principalResolver: adapters.principalResolver, presenceVerifier: adapters.presenceVerifier });
const serverApp = createServerApp(deps) as unknown as Hono;
local?.http.mount(serverApp);
const identityProvider = (here: string) => (local ? identityProviderUrl(here) : (env.II_URL ?? 'https://identity.internetcomputer.org'));
serverApp.route(
  '/',
  clientConfigRoutes({
    indexId: config.indexId,
    canisterId: config.canisterId,
    remoteIcHost: local ? undefined : config.icHost,
    identityProvider,
    fetchRootKey: config.fetchRootKey,
    serverPrincipal: identity.getPrincipal().toText(),
  }),
);
const webApp = mountWebApp(serverApp, buildDir);

app = serverApp;
logger.info('ServerReady', {
  url: origin,
  ...(config.indexId ? { index_id: config.indexId } : { canister_id: config.canisterId }),
  ic_host: config.icHost,
  identity_provider: identityProvider(origin),
  data_dir: dataDir,
  server_principal: identity.getPrincipal().toText(),
  app: webApp,
});
process.stdout.write(
  [
    `Forever is running: open ${origin}/`,
    `  data:  ${dataDir}${config.databaseUrl ? ' (database: DATABASE_URL)' : ''}`,
    `  stop:  press Ctrl+C`,
    ...(webApp ? [] : ['  (build/ has no app yet: only the API and the IC are served)']),
    '',
  ].join('\n'),
);

let stopping = false;
async function stop(signal: string): Promise<void> {
  // A second signal changes nothing: the first stop is already bounded.
  if (stopping) return;
  stopping = true;
  logger.info('ServerStopping', { signal });
  // Whatever hangs, the process is gone within the bound.
  setTimeout(() => {
    logger.error('ServerStopForced', { bound_ms: STOP_BOUND_MS });
    process.exit(1);
  }, STOP_BOUND_MS).unref();
  const { forced } = await stopper.stop(HTTP_DRAIN_MS);
  if (forced) logger.warn('ServerStopCutConnections', { drain_ms: HTTP_DRAIN_MS });
  await deps.close();
  await local?.close();
  logger.info('ServerStopped', { signal });
  process.exit(0);
}
// `on`, not `once`: a listener must stay registered while stopping, or a
// repeated signal (or tsx's relay, which counts listeners) kills the process
// before the stop is done.
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
