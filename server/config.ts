// Server configuration: one typed object, built from the environment by
// `serverConfigFromEnv` (used by server/main.ts and the migrate CLI) or by
// hand in tests. Defaults live here and only here.
import path from 'node:path';
import { MAX_FILE_BYTES } from '../contract/index.js';
import type { Logger } from './logging.js';
import type { BlobStore } from './blob-copy/blob-store.js';
import type { PresenceVerifier, PrincipalResolver } from './ic/types.js';
import { ipfsConfigFromEnv, type IpfsConfig } from './ipfs/config.js';

export interface QuotaConfig {
  /** Bytes a principal may keep in the blob store. */
  maxBytes: number;
  /** Store Forever operations a principal may start per calendar month (UTC). */
  storeForeverOpsPerMonth: number;
}

export interface QueueConfig {
  /** Directory for bytes waiting to be retried (default `<dataDir>/upload-queue`). */
  dir?: string;
  /** Start the worker with the deps (default true). */
  enabled?: boolean;
  /** Poll interval when nothing is due, in ms (default 1000). */
  pollIntervalMs?: number;
  maxRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A claimed item whose worker died becomes due again after this lease (default 60 s). */
  leaseMs?: number;
  /** Items claimed per round (default 4). */
  batchSize?: number;
}

export interface ServerConfig {
  dataDir: string;
  /** PostgreSQL connection string; SQLite in `<dataDir>/forever.sqlite` when absent. */
  databaseUrl?: string;
  icHost: string;
  /** The index canister that names each principal's bucket (the product's configuration). */
  indexId?: string;
  /** One standalone `forever` canister for every principal, when there is no index. */
  canisterId?: string;
  /** Fetch the IC root key (local IC / dfx only, never mainnet). */
  fetchRootKey: boolean;
  logger?: Logger;
  quotas?: Partial<QuotaConfig>;
  queue?: QueueConfig;
  /** Largest body `POST /api/upload_file` accepts (default `MAX_FILE_BYTES`, the limit every tier shares). */
  maxUploadBytes?: number;
  /** Blob store directory (default `<dataDir>/blobs`); ignored when `blobStore` is given. */
  blobDir?: string;
  /** Injected blob store (tests wrap a real directory store to inject failures). */
  blobStore?: BlobStore;
  /** Injected IC adapters; by default they talk to `icHost` with @dfinity/agent. */
  principalResolver?: PrincipalResolver;
  presenceVerifier?: PresenceVerifier;
  /** Session cookie lifetime (default 7 days) and `Secure` flag (default false: local http). */
  sessionTtlMs?: number;
  secureCookies?: boolean;
  /** Sign-in nonce lifetime (default 5 minutes). */
  nonceTtlMs?: number;
  /** Clock, injectable for tests. */
  now?: () => Date;
  /** IPFS pins paid with x402 (server/ipfs/config.ts). */
  ipfs?: IpfsConfig;
}

export const DEFAULT_QUOTAS: QuotaConfig = {
  maxBytes: 10 * 1024 * 1024 * 1024,
  storeForeverOpsPerMonth: 10_000,
};

/** The file limit every tier shares (100 MiB). */
export const DEFAULT_MAX_UPLOAD_BYTES = MAX_FILE_BYTES;
export const DEFAULT_SESSION_TTL_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_NONCE_TTL_MS = 5 * 60 * 1000;

export interface ResolvedQueueConfig {
  dir: string;
  enabled: boolean;
  pollIntervalMs: number;
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  leaseMs: number;
  batchSize: number;
}

export function resolveQueueConfig(config: ServerConfig): ResolvedQueueConfig {
  const q = config.queue ?? {};
  return {
    dir: q.dir ?? path.join(config.dataDir, 'upload-queue'),
    enabled: q.enabled ?? true,
    pollIntervalMs: q.pollIntervalMs ?? 1000,
    maxRetries: q.maxRetries ?? 5,
    baseDelayMs: q.baseDelayMs ?? 1000,
    maxDelayMs: q.maxDelayMs ?? 5 * 60 * 1000,
    leaseMs: q.leaseMs ?? 60_000,
    batchSize: q.batchSize ?? 4,
  };
}

type Env = Record<string, string | undefined>;

const int = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
};

/** Whether an IC host URL names this machine (a local IC or dfx replica). */
export function isLoopbackHost(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Reads `DATA_DIR`, `DATABASE_URL`, `IC_HOST`, `INDEX_ID`, `CANISTER_ID`, `IC_FETCH_ROOT_KEY`, quota and queue settings. */
export function serverConfigFromEnv(env: Env, defaults: { icHost: string; indexId?: string; canisterId?: string }): ServerConfig {
  const icHost = env.IC_HOST ?? defaults.icHost;
  const indexId = env.INDEX_ID || defaults.indexId;
  const canisterId = env.CANISTER_ID || defaults.canisterId;
  return {
    dataDir: path.resolve(env.DATA_DIR ?? '.data'),
    databaseUrl: env.DATABASE_URL || undefined,
    icHost,
    // An index, when there is one, names the buckets; CANISTER_ID alone is one standalone canister.
    ...(indexId ? { indexId } : { canisterId }),
    // Only a local replica hands out its root key; trusting a key fetched from
    // any other host would let that host forge every certificate.
    fetchRootKey: env.IC_FETCH_ROOT_KEY ? env.IC_FETCH_ROOT_KEY === '1' : isLoopbackHost(icHost),
    quotas: {
      maxBytes: int(env.QUOTA_MAX_BYTES, 'QUOTA_MAX_BYTES'),
      storeForeverOpsPerMonth: int(env.QUOTA_STORE_FOREVER_OPS_PER_MONTH, 'QUOTA_STORE_FOREVER_OPS_PER_MONTH'),
    },
    queue: {
      dir: env.UPLOAD_QUEUE_DIR || undefined,
      maxRetries: int(env.UPLOAD_QUEUE_MAX_RETRIES, 'UPLOAD_QUEUE_MAX_RETRIES'),
    },
    blobDir: env.BLOB_DIR || undefined,
    secureCookies: env.SECURE_COOKIES === '1',
    ipfs: ipfsConfigFromEnv(env),
  };
}
