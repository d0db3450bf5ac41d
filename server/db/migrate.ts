// Applies the Kysely migrations in migrations/ (run at start and by the CLI).
import { Migrator, type Kysely, type MigrationProvider, type MigrationResultSet } from 'kysely';
import { migrations } from '../../migrations/index.js';
import type { Database } from './schema.js';

const provider: MigrationProvider = { getMigrations: async () => migrations };

export function createMigrator(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider });
}

/** Migrates to the latest version; throws (with the failing migration's name) on error. */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationResultSet> {
  const result = await createMigrator(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const cause = result.error instanceof Error ? result.error : new Error(String(result.error));
    throw new Error(`migration ${failed} failed: ${cause.message}`, { cause });
  }
  return result;
}
