// Opens the database: SQLite (better-sqlite3, a file under the data
// directory) by default, PostgreSQL when a connection string is given.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';

export type Engine = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: Engine;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** An idle PostgreSQL connection failed (server restart, network, shutdown); the pool replaces it. */
  onConnectionError?: (error: Error) => void;
}

// pg returns int8/numeric as strings and timestamptz as Date; the services
// work with numbers (all counters stay far below 2^53) and ISO strings.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    switch (oid) {
      case 20: // int8
      case 1700: // numeric
        return (v: string) => Number(v);
      case 1184: // timestamptz
      case 1114: {
        // timestamp
        const toDate = pg.types.getTypeParser(oid, 'text') as (v: string) => Date;
        return (v: string) => toDate(v).toISOString();
      }
      default:
        return pg.types.getTypeParser(oid, format);
    }
  },
} as pg.CustomTypesConfig;

export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10, types: pgTypes });
    // Without a listener, an idle connection's error (PostgreSQL restarting,
    // or ending a connection while closing) is an uncaught exception.
    pool.on('error', (error) => options.onConnectionError?.(error));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      engine: 'postgres',
      async close() {
        // pool.end() resolves once it has asked every connection to end, not
        // when they have: wait for each to be gone, so a closed handle holds
        // no session on the server.
        let open = pool.totalCount;
        const gone = new Promise<void>((resolve) => {
          if (open === 0) resolve();
          pool.on('remove', () => {
            if (--open <= 0) resolve();
          });
        });
        await db.destroy();
        await gone;
      },
    };
  }
  fs.mkdirSync(options.dataDir, { recursive: true });
  const file = path.join(options.dataDir, 'forever.sqlite');
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, engine: 'sqlite', close: () => db.destroy() };
}
