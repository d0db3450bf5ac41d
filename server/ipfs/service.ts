// Everything IPFS, built once from the server's parts: the ledger and its
// facilitator (or a real facilitator by URL), the broker's payments, the
// pinner the configuration names, and the executor the queue worker runs.
import type { BlobStore } from '../blob-copy/blob-store.js';
import type { ServiceContext } from '../services/context.js';
import { resolveIpfsConfig, type IpfsConfig, type ResolvedIpfsConfig } from './config.js';
import { IpfsExecutor } from './executor.js';
import { LocalPinner } from './local-pinner.js';
import type { Pinner } from './pinner.js';
import { createProviderPinner } from './providers/index.js';
import { KeyedMutex, RateLimiter } from './rate-limit.js';
import { ipfsDb, type IpfsDb } from './schema.js';
import { Ledger } from './x402/ledger.js';
import { localFacilitatorClient, type LedgerSignerFaults } from './x402/local-facilitator.js';
import { BrokerPayments } from './x402/payments.js';

export interface IpfsService {
  config: ResolvedIpfsConfig;
  db: IpfsDb;
  ctx: ServiceContext;
  blobStore: BlobStore;
  /** The local chain (null with a real facilitator). */
  ledger: Ledger | null;
  /** Fault injection at the local chain's boundary (tests). */
  ledgerFaults: LedgerSignerFaults;
  payments: BrokerPayments;
  pinner: Pinner;
  executor: IpfsExecutor;
  rateLimiter: RateLimiter;
  jobLocks: KeyedMutex;
}

export function createIpfsService(ctx: ServiceContext, blobStore: BlobStore, options: IpfsConfig = {}): IpfsService {
  const config = resolveIpfsConfig(options);
  const db = ipfsDb(ctx.db);
  const ledgerFaults: LedgerSignerFaults = { failSettlements: 0 };
  // The chain keeps its own (real) time: payment windows are checked against it.
  const ledger = config.facilitatorUrl
    ? null
    : new Ledger(db, { network: config.network, chainId: config.chainId, asset: config.asset, name: config.tokenName, version: config.tokenVersion }, () => new Date());
  const payments = new BrokerPayments(
    config,
    BrokerPayments.facilitatorFor(config, () => localFacilitatorClient(ledger!, ledgerFaults)),
  );
  const pinner: Pinner =
    config.provider === 'local' ? new LocalPinner(blobStore, { profile: config.profile, gatewayBase: config.gatewayBase }) : createProviderPinner(config);
  const executor = new IpfsExecutor({
    db,
    engine: ctx.engine,
    blobStore,
    pinner,
    now: ctx.now,
    logger: ctx.logger,
    sleep: config.sleep,
    retryDelaysMs: config.retryDelaysMs,
  });
  return {
    config,
    db,
    ctx,
    blobStore,
    ledger,
    ledgerFaults,
    payments,
    pinner,
    executor,
    rateLimiter: new RateLimiter(config.rateLimit.max, config.rateLimit.windowMs),
    jobLocks: new KeyedMutex(),
  };
}
