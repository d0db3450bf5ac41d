// Kysely types of the IPFS tables (migrations/0003_ipfs.ts). They extend the
// server's Database type here, so the rest of the server does not see them.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { IPFS_JOB_STATUSES, type IpfsJobStatus } from '../../contract/index.js';
import type { PinEndpoint } from './quote.js';

export const JOB_STATUSES = IPFS_JOB_STATUSES;
export type JobStatus = IpfsJobStatus;

export interface IpfsJobsTable {
  id: string;
  user_id: string | null;
  memory_id: string | null;
  source: 'memory' | 'inline';
  provider: string;
  endpoint: PinEndpoint | null;
  file_name: string | null;
  content_hash: string | null;
  file_size: number | null;
  amount: string | null;
  network: string | null;
  asset: string | null;
  pay_to: string | null;
  status: JobStatus;
  error: string | null;
  payer: string | null;
  payment_tx: string | null;
  provider_payment: string | null;
  attempts: number;
  cid: string | null;
  gateway_url: string | null;
  profile: string | null;
  idempotency_key: string;
  claim_token: string | null;
  claimed_until: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export interface LedgerAccountsTable {
  network: string;
  asset: string;
  address: string;
  balance: number | string;
  updated_at: string;
}

export interface LedgerAuthorizationsTable {
  network: string;
  asset: string;
  authorizer: string;
  nonce: string;
  tx_hash: string;
  created_at: string;
}

export interface LedgerTransfersTable {
  tx_hash: string;
  network: string;
  asset: string;
  from_address: string;
  to_address: string;
  value: number | string;
  created_at: string;
}

export interface IpfsDatabase extends Database {
  ipfs_jobs: IpfsJobsTable;
  x402_ledger_accounts: LedgerAccountsTable;
  x402_ledger_authorizations: LedgerAuthorizationsTable;
  x402_ledger_transfers: LedgerTransfersTable;
}

export type IpfsDb = Kysely<IpfsDatabase>;
export type IpfsTrx = Transaction<IpfsDatabase>;
export type JobRow = Selectable<IpfsJobsTable>;

/** The server's database seen with the IPFS tables. */
export const ipfsDb = (db: Kysely<Database>): IpfsDb => db as unknown as IpfsDb;
