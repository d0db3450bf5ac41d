// IPFS pins paid with x402: the broker's jobs, the local facilitator's ledger
// (balances, used EIP-3009 nonces, transfers), and `ipfs` as a storage-edge
// backend. Same effect on SQLite and PostgreSQL.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

const isPostgres = (db: Kysely<unknown>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

const OLD_BACKENDS = `backend in ('neon','blob','icp')`;
const NEW_BACKENDS = `backend in ('neon','blob','icp','ipfs')`;

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = isPostgres(db);
  const uuid = pg ? 'uuid' : 'text';
  const ts = pg ? 'timestamptz' : 'text';

  await db.schema
    .createTable('ipfs_jobs')
    .addColumn('id', uuid, (c) => c.primaryKey())
    // Memory jobs belong to a user; inline (broker) jobs have none: their payment is their authorization.
    .addColumn('user_id', uuid, (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('memory_id', uuid)
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('memory','inline')`))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('endpoint', 'text', (c) => c.check(sql`endpoint in ('pin/json','pin/file')`))
    .addColumn('file_name', 'text')
    .addColumn('content_hash', 'text')
    .addColumn('file_size', 'bigint', (c) => c.check(sql`file_size >= 0`))
    // Token units (6 decimals) as a decimal string: x402's `amount`.
    .addColumn('amount', 'text')
    .addColumn('network', 'text')
    .addColumn('asset', 'text')
    .addColumn('pay_to', 'text')
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('pending_payment','paid','pinning','completed','failed')`),
    )
    .addColumn('error', 'text')
    .addColumn('payer', 'text')
    .addColumn('payment_tx', 'text')
    // The PAYMENT-SIGNATURE this job sends to a paying provider: every attempt resends it.
    .addColumn('provider_payment', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cid', 'text')
    .addColumn('gateway_url', 'text')
    .addColumn('profile', 'text')
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('claim_token', 'text')
    .addColumn('claimed_until', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('completed_at', ts)
    .execute();
  // One unpaid job per request content: the paid retry of a 402 finds the job the first request created.
  await db.schema
    .createIndex('ipfs_jobs_pending_key')
    .on('ipfs_jobs')
    .column('idempotency_key')
    .unique()
    .where(sql.ref('status'), '=', 'pending_payment')
    .execute();
  await db.schema.createIndex('ipfs_jobs_key').on('ipfs_jobs').column('idempotency_key').execute();
  await db.schema.createIndex('ipfs_jobs_due').on('ipfs_jobs').columns(['status', 'updated_at']).execute();
  await db.schema.createIndex('ipfs_jobs_memory').on('ipfs_jobs').columns(['user_id', 'memory_id']).execute();

  await db.schema
    .createTable('x402_ledger_accounts')
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('balance', 'bigint', (c) => c.notNull().check(sql`balance >= 0`))
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('x402_ledger_accounts_pk', ['network', 'asset', 'address'])
    .execute();
  await db.schema
    .createTable('x402_ledger_authorizations')
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('authorizer', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('tx_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('x402_ledger_authorizations_pk', ['network', 'asset', 'authorizer', 'nonce'])
    .execute();
  await db.schema
    .createTable('x402_ledger_transfers')
    .addColumn('tx_hash', 'text', (c) => c.primaryKey())
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();

  await setBackendCheck(db, OLD_BACKENDS, NEW_BACKENDS);
}

/**
 * PostgreSQL swaps the named check constraint. SQLite cannot alter a check,
 * so the table is rebuilt from its own stored definition (whatever columns
 * earlier migrations gave it) with only the check replaced, then its indexes
 * are recreated.
 */
async function setBackendCheck(db: Kysely<unknown>, from: string, to: string): Promise<void> {
  if (isPostgres(db)) {
    await sql`alter table storage_edges drop constraint if exists storage_edges_backend_check`.execute(db);
    await sql.raw(`alter table storage_edges add constraint storage_edges_backend_check check (${to})`).execute(db);
    return;
  }
  const table = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'storage_edges'`.execute(db);
  const createSql = table.rows[0]?.sql;
  if (!createSql || !createSql.includes(from)) throw new Error('storage_edges has an unexpected backend check');
  const indexes = await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and tbl_name = 'storage_edges' and sql is not null`.execute(db);
  const rebuilt = createSql.replace(from, to).replace(/^create table\s+("?)storage_edges\1/i, 'create table "storage_edges_rebuilt"');
  await sql.raw(rebuilt).execute(db);
  await sql`insert into storage_edges_rebuilt select * from storage_edges`.execute(db);
  await sql`drop table storage_edges`.execute(db);
  await sql`alter table storage_edges_rebuilt rename to storage_edges`.execute(db);
  for (const i of indexes.rows) await sql.raw(i.sql).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from storage_edges where backend = 'ipfs'`.execute(db);
  await setBackendCheck(db, NEW_BACKENDS, OLD_BACKENDS);
  for (const t of ['x402_ledger_transfers', 'x402_ledger_authorizations', 'x402_ledger_accounts', 'ipfs_jobs']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
