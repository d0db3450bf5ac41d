// The library: folders (a memory is in at most one), memory thumbnails (a
// small artifact kept with the memory, at most MAX_THUMBNAIL_BYTES), and the
// indexes the library's list and filters read. Same effect on SQLite and
// PostgreSQL.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

const isPostgres = (db: Kysely<unknown>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = isPostgres(db);
  const uuid = pg ? 'uuid' : 'text';
  const ts = pg ? 'timestamptz' : 'text';
  const bytes = pg ? 'bytea' : 'blob';

  await db.schema
    .createTable('folders')
    .addColumn('user_id', uuid, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('id', uuid, (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('folders_pk', ['user_id', 'id'])
    .execute();

  // No foreign key (SQLite cannot add a composite one to an existing table):
  // deleting a folder clears its memories' folder_id in the same transaction
  // (server/services/folders.ts), and writes check that the folder exists.
  await db.schema.alterTable('memories').addColumn('folder_id', uuid).execute();
  await db.schema.createIndex('memories_folder_idx').on('memories').columns(['user_id', 'folder_id']).where(sql.ref('folder_id'), 'is not', null).execute();
  // The library filtered by type, in id order.
  await db.schema.createIndex('memories_type_idx').on('memories').columns(['user_id', 'memory_type', 'id']).execute();

  await db.schema
    .createTable('memory_thumbnails')
    .addColumn('user_id', uuid, (c) => c.notNull())
    .addColumn('memory_id', uuid, (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('bytes', bytes, (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('memory_thumbnails_pk', ['user_id', 'memory_id'])
    .addForeignKeyConstraint('memory_thumbnails_memory_fk', ['user_id', 'memory_id'], 'memories', ['user_id', 'id'], (c) => c.onDelete('cascade'))
    .execute();

  // Deleting a memory frees its blob copy once no edge names the hash: found by hash.
  await db.schema.createIndex('storage_edges_hash_idx').on('storage_edges').columns(['content_hash']).where(sql.ref('content_hash'), 'is not', null).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('storage_edges_hash_idx').ifExists().execute();
  await db.schema.dropTable('memory_thumbnails').ifExists().execute();
  await db.schema.dropIndex('memories_type_idx').ifExists().execute();
  await db.schema.dropIndex('memories_folder_idx').ifExists().execute();
  await db.schema.alterTable('memories').dropColumn('folder_id').execute();
  await db.schema.dropTable('folders').ifExists().execute();
}
