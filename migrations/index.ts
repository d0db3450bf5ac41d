// The migration list, imported statically so it works the same under tsx,
// vitest and any bundler (Kysely's FileMigrationProvider relies on a runtime
// dynamic import of .ts files, which only some loaders support).
// Add each new migration on a line of its own (import and entry); names sort
// in the order they run.
import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_library.js';
import * as m0003 from './0003_ipfs.js';

export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_library': m0002,
  '0003_ipfs': m0003,
};
