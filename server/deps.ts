// Builds everything the app needs from a ServerConfig: database (migrated),
// blob store, IC adapters, metrics, and the upload queue worker (started).
import path from 'node:path';
import { DirectoryBlobStore } from './blob-copy/directory-store.js';
import type { BlobStore } from './blob-copy/blob-store.js';
import {
  DEFAULT_MAX_UPLOAD_BYTES,
  DEFAULT_NONCE_TTL_MS,
  DEFAULT_QUOTAS,
  DEFAULT_SESSION_TTL_MS,
  resolveQueueConfig,
  type ResolvedQueueConfig,
  type ServerConfig,
} from './config.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { createCanisterAdapters } from './ic/canister-client.js';
import type { PresenceVerifier, PrincipalResolver } from './ic/types.js';
import { createJsonLogger } from './logging.js';
import { createServerMetrics } from './metrics.js';
import { queueDepth } from './blob-copy/queue-repo.js';
import { UploadQueueWorker } from './blob-copy/worker.js';
import type { ServiceContext } from './services/context.js';
import { createIpfsService, type IpfsService } from './ipfs/service.js';

export interface ServerLimits {
  maxUploadBytes: number;
  sessionTtlMs: number;
  nonceTtlMs: number;
  secureCookies: boolean;
}

export interface ServerDeps extends ServiceContext {
  blobStore: BlobStore;
  queue: ResolvedQueueConfig;
  principalResolver: PrincipalResolver;
  presenceVerifier: PresenceVerifier;
  limits: ServerLimits;
  /** The running queue worker (null when `queue.enabled` is false). */
  worker: UploadQueueWorker | null;
  /** IPFS pins paid with x402 (null when disabled). */
  ipfs: IpfsService | null;
}

export async function createServerDeps(config: ServerConfig): Promise<ServerDeps & { close(): Promise<void> }> {
  const logger = config.logger ?? createJsonLogger();
  const handle = openDatabase({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    onConnectionError: (error) => logger.warn('DatabaseConnectionError', { error }),
  });
  try {
    await migrateToLatest(handle.db);
  } catch (error) {
    await handle.close();
    throw error;
  }
  const metrics = createServerMetrics();
  const quotas = {
    maxBytes: config.quotas?.maxBytes ?? DEFAULT_QUOTAS.maxBytes,
    storeForeverOpsPerMonth: config.quotas?.storeForeverOpsPerMonth ?? DEFAULT_QUOTAS.storeForeverOpsPerMonth,
  };
  const ctx: ServiceContext = { db: handle.db, engine: handle.engine, now: config.now ?? (() => new Date()), logger, metrics, quotas };
  const queue = resolveQueueConfig(config);
  const blobStore = config.blobStore ?? new DirectoryBlobStore(config.blobDir ?? path.join(config.dataDir, 'blobs'));
  await blobStore.sweep?.();
  const ic =
    config.principalResolver && config.presenceVerifier
      ? { principalResolver: config.principalResolver, presenceVerifier: config.presenceVerifier }
      : createCanisterAdapters({ icHost: config.icHost, indexId: config.indexId, canisterId: config.canisterId, fetchRootKey: config.fetchRootKey });

  metrics.registry.gauge('storage_queue_depth', 'Upload queue items waiting or being retried.', async () => [
    { value: await queueDepth(handle.db) },
  ]);
  metrics.registry.gauge('storage_usage_bytes', 'Bytes accounted in storage_usage, all users.', async () => {
    const r = await handle.db
      .selectFrom('storage_usage')
      .select((eb) => [eb.fn.coalesce(eb.fn.sum<number>('total_bytes'), eb.val(0)).as('bytes'), eb.fn.countAll<number>().as('users')])
      .executeTakeFirstOrThrow();
    return [{ value: Number(r.bytes) }];
  });

  const ipfs = config.ipfs?.enabled === false ? null : createIpfsService(ctx, blobStore, config.ipfs);
  const worker = queue.enabled ? new UploadQueueWorker({ ctx, blobStore, queue, tasks: ipfs ? [ipfs.executor] : [] }) : null;
  await worker?.start();
  logger.info('ServerDepsReady', { engine: handle.engine, queue_enabled: queue.enabled });

  return {
    ...ctx,
    blobStore,
    queue,
    principalResolver: config.principalResolver ?? ic.principalResolver,
    presenceVerifier: config.presenceVerifier ?? ic.presenceVerifier,
    limits: {
      maxUploadBytes: config.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
      sessionTtlMs: config.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
      nonceTtlMs: config.nonceTtlMs ?? DEFAULT_NONCE_TTL_MS,
      secureCookies: config.secureCookies ?? false,
    },
    worker,
    ipfs,
    async close() {
      await worker?.stop();
      await handle.close();
    },
  };
}
