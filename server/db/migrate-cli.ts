// `npm run migrate`: applies pending migrations to the configured database
// (DATABASE_URL, else SQLite under DATA_DIR) and prints what ran.
import path from 'node:path';
import { openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';

async function main(): Promise<void> {
  const handle = openDatabase({
    dataDir: path.resolve(process.env.DATA_DIR ?? '.data'),
    databaseUrl: process.env.DATABASE_URL || undefined,
  });
  try {
    const result = await migrateToLatest(handle.db);
    const ran = result.results ?? [];
    if (ran.length === 0) console.log(`migrate: ${handle.engine} database already up to date`);
    for (const r of ran) console.log(`migrate: ${r.migrationName} ${r.status}`);
  } finally {
    await handle.close();
  }
}

main().catch((error: unknown) => {
  console.error(`migrate: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
