// What every service function needs: the database and the process-wide parts.
import type { Kysely } from 'kysely';
import type { QuotaConfig } from '../config.js';
import type { Engine } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../logging.js';
import type { ServerMetrics } from '../metrics.js';

export interface ServiceContext {
  db: Kysely<Database>;
  engine: Engine;
  now: () => Date;
  logger: Logger;
  metrics: ServerMetrics;
  quotas: QuotaConfig;
}

/** Splits `items` into slices small enough for one statement's bind parameters. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
