// Initial schema, identical in effect on SQLite and PostgreSQL (see
// server/db/schema.ts for the portable representation). PostgreSQL also gets
// row-level security on upload_queue and storage_usage and the counter
// functions for usage and the monthly counter; SQLite gets the same semantics from
// transactions in server/services/usage.ts.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

const isPostgres = (db: Kysely<unknown>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = isPostgres(db);
  const uuid = pg ? 'uuid' : 'text';
  const ts = pg ? 'timestamptz' : 'text';
  const json = pg ? 'jsonb' : 'text';

  await db.schema
    .createTable('users')
    .addColumn('id', uuid, (c) => c.primaryKey())
    .addColumn('principal', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('auth_nonces')
    .addColumn('nonce', 'text', (c) => c.primaryKey())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('expires_at', ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', uuid, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('expires_at', ts, (c) => c.notNull())
    .execute();

  // Memories and galleries are keyed by (owner, id): one principal can never
  // address, or learn of, another's rows.
  await db.schema
    .createTable('memories')
    .addColumn('user_id', uuid, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('id', uuid, (c) => c.notNull())
    .addColumn('memory_type', 'text', (c) =>
      c.notNull().check(sql`memory_type in ('image','video','audio','document','note')`),
    )
    .addColumn('title', 'text')
    .addColumn('description', 'text')
    .addColumn('metadata', json, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('memories_pk', ['user_id', 'id'])
    .execute();

  await db.schema
    .createTable('galleries')
    .addColumn('user_id', uuid, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('id', uuid, (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('galleries_pk', ['user_id', 'id'])
    .execute();

  await db.schema
    .createTable('gallery_memories')
    .addColumn('user_id', uuid, (c) => c.notNull())
    .addColumn('gallery_id', uuid, (c) => c.notNull())
    .addColumn('memory_id', uuid, (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('gallery_memories_pk', ['user_id', 'gallery_id', 'memory_id'])
    .addForeignKeyConstraint('gallery_memories_gallery_fk', ['user_id', 'gallery_id'], 'galleries', ['user_id', 'id'], (c) =>
      c.onDelete('cascade'),
    )
    .addForeignKeyConstraint('gallery_memories_memory_fk', ['user_id', 'memory_id'], 'memories', ['user_id', 'id'], (c) =>
      c.onDelete('cascade'),
    )
    .execute();
  await db.schema.createIndex('gallery_memories_memory_idx').on('gallery_memories').columns(['user_id', 'memory_id']).execute();

  await db.schema
    .createTable('storage_edges')
    .addColumn('user_id', uuid, (c) => c.notNull())
    .addColumn('memory_id', uuid, (c) => c.notNull())
    .addColumn('artifact', 'text', (c) => c.notNull().check(sql`artifact in ('metadata','asset')`))
    .addColumn('backend', 'text', (c) => c.notNull().check(sql`backend in ('neon','blob','icp')`))
    .addColumn('present', 'integer', (c) => c.notNull().defaultTo(0).check(sql`present in (0,1)`))
    .addColumn('location', 'text')
    .addColumn('content_hash', 'text')
    .addColumn('size', 'bigint', (c) => c.check(sql`size >= 0`))
    .addColumn('sync_state', 'text', (c) => c.notNull().defaultTo('idle').check(sql`sync_state in ('idle','migrating','failed')`))
    .addColumn('error', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('storage_edges_pk', ['user_id', 'memory_id', 'artifact', 'backend'])
    .addForeignKeyConstraint('storage_edges_memory_fk', ['user_id', 'memory_id'], 'memories', ['user_id', 'id'], (c) =>
      c.onDelete('cascade'),
    )
    .execute();
  // No secondary index: every read is by (user_id, memory_id, ...), the primary
  // key's prefix; an index led by (user_id, backend) made the planners scan a
  // user's whole edge set per gallery member.

  await db.schema
    .createTable('upload_queue')
    .addColumn('id', uuid, (c) => c.primaryKey())
    .addColumn('user_id', uuid, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('memory_id', uuid, (c) => c.notNull())
    .addColumn('temp_file_path', 'text', (c) => c.notNull())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('object_path', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('byte_size', 'bigint', (c) => c.notNull().check(sql`byte_size >= 0`))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('pending').check(sql`status in ('pending','processing','stored','failed')`),
    )
    .addColumn('retry_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_retries', 'integer', (c) => c.notNull().defaultTo(5))
    .addColumn('next_retry_at', ts, (c) => c.notNull())
    .addColumn('claim_token', 'text')
    .addColumn('claimed_until', ts)
    .addColumn('error_message', 'text')
    .addColumn('metadata', json, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('completed_at', ts)
    .execute();
  // The worker's "what is due" scan reads only unfinished rows in retry order.
  await db.schema
    .createIndex('idx_upload_queue_next_retry')
    .on('upload_queue')
    .columns(['next_retry_at'])
    .where(sql.ref('status'), 'in', ['pending', 'processing'])
    .execute();
  // At most one live queue item per (user, memory, content): a repeated or
  // concurrent upload of the same bytes joins the existing item.
  await db.schema
    .createIndex('idx_upload_queue_user')
    .on('upload_queue')
    .columns(['user_id', 'memory_id', 'content_hash'])
    .unique()
    .where(sql.ref('status'), 'in', ['pending', 'processing'])
    .execute();

  await db.schema
    .createTable('storage_usage')
    .addColumn('user_id', uuid, (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('total_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('total_sources', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_calculated', ts, (c) => c.notNull())
    .addColumn('interpretation_count_month', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('interpretation_limit_month', 'integer', (c) => c.notNull().defaultTo(100))
    .addColumn('billing_month', 'text', (c) => c.notNull())
    .execute();

  // One row per Store Forever operation a client started: makes the monthly
  // counter idempotent by operation id.
  await db.schema
    .createTable('store_forever_ops')
    .addColumn('user_id', uuid, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('id', uuid, (c) => c.notNull())
    .addColumn('memory_id', uuid)
    .addColumn('gallery_id', uuid)
    .addColumn('billing_month', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('store_forever_ops_pk', ['user_id', 'id'])
    .execute();

  if (pg) await postgresExtras(db);
}

async function postgresExtras(db: Kysely<unknown>): Promise<void> {
  // Service-role-only access: RLS forced even for the owner, with one policy
  // for the role that runs the server (the role applying this migration).
  // Any other role sees and changes nothing.
  for (const table of ['upload_queue', 'storage_usage']) {
    await sql`alter table ${sql.table(table)} enable row level security`.execute(db);
    await sql`alter table ${sql.table(table)} force row level security`.execute(db);
    await sql`revoke all on ${sql.table(table)} from public`.execute(db);
    await sql`create policy ${sql.id(`${table}_service_role`)} on ${sql.table(table)} for all to current_user using (true) with check (true)`.execute(
      db,
    );
  }

  // Adds p_bytes (may be negative: a released reservation) and one source when
  // p_sources = 1. With p_limit, an increase that would pass the limit changes
  // nothing and returns NULL; otherwise returns the new total. One statement,
  // so concurrent calls serialize on the row lock.
  await sql`
    create function increment_storage_usage(p_user_id uuid, p_bytes bigint, p_sources integer default 1, p_limit bigint default null)
    returns bigint language plpgsql as $$
    declare v_total bigint;
    begin
      if p_limit is not null and p_bytes > 0 and p_bytes > p_limit then
        return null;
      end if;
      insert into storage_usage as u (user_id, total_bytes, total_sources, last_calculated, billing_month)
      values (p_user_id, greatest(p_bytes, 0), greatest(p_sources, 0), now(), to_char(now() at time zone 'utc', 'YYYY-MM'))
      on conflict (user_id) do update
        set total_bytes = greatest(u.total_bytes + p_bytes, 0),
            total_sources = greatest(u.total_sources + p_sources, 0),
            last_calculated = now()
        where p_limit is null or p_bytes <= 0 or u.total_bytes + p_bytes <= p_limit
      returning u.total_bytes into v_total;
      return v_total;
    end $$`.execute(db);

  // Monthly counter (in Forever: Store Forever operations): resets when the
  // billing month changed since the last call. p_month defaults to the current
  // UTC month (the server passes its own clock's month). Returns the new count,
  // or NULL (nothing changed) when p_limit would be passed.
  await sql`
    create function increment_interpretation_count(p_user_id uuid, p_limit integer default null, p_month text default null)
    returns integer language plpgsql as $$
    declare v_month text := coalesce(p_month, to_char(now() at time zone 'utc', 'YYYY-MM'));
    declare v_count integer;
    begin
      if p_limit is not null and p_limit < 1 then
        return null;
      end if;
      insert into storage_usage as u (user_id, last_calculated, billing_month, interpretation_count_month, interpretation_limit_month)
      values (p_user_id, now(), v_month, 1, coalesce(p_limit, 100))
      on conflict (user_id) do update
        set interpretation_count_month = case when u.billing_month = v_month then u.interpretation_count_month + 1 else 1 end,
            interpretation_limit_month = coalesce(p_limit, u.interpretation_limit_month),
            billing_month = v_month,
            last_calculated = now()
        where p_limit is null
           or (case when u.billing_month = v_month then u.interpretation_count_month + 1 else 1 end) <= p_limit
      returning u.interpretation_count_month into v_count;
      return v_count;
    end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) {
    await sql`drop function if exists increment_interpretation_count(uuid, integer, text)`.execute(db);
    await sql`drop function if exists increment_storage_usage(uuid, bigint, integer, bigint)`.execute(db);
  }
  for (const t of [
    'store_forever_ops',
    'storage_usage',
    'upload_queue',
    'storage_edges',
    'gallery_memories',
    'galleries',
    'memories',
    'sessions',
    'auth_nonces',
    'users',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
