// vitest globalSetup: provides `pgUrl`, the admin URL of a PostgreSQL server
// the server suites create their own databases in (one per test file, so files
// run in parallel). Uses DATABASE_URL / FOREVER_TEST_PG_URL when set (CI starts
// Debian's postgresql); otherwise starts a throwaway cluster with Debian's
// postgresql 15 binaries in a temp dir, reachable only through a unix socket
// in that dir, and removes it at teardown.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import type {} from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

const PG_BIN = process.env.FOREVER_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const PORT = 5432; // only names the socket file inside our private dir

function ensureInstalled(): void {
  if (fs.existsSync(path.join(PG_BIN, 'initdb'))) return;
  if (process.getuid?.() !== 0) throw new Error(`PostgreSQL not found in ${PG_BIN}; install Debian's postgresql`);
  execFileSync('apt-get', ['install', '-y', 'postgresql'], { stdio: 'inherit' });
}

/** Runs a PostgreSQL binary, as the `postgres` OS user when we are root (initdb refuses root). */
function runPg(bin: string, args: string[]): void {
  const cmd = path.join(PG_BIN, bin);
  const asRoot = process.getuid?.() === 0;
  const result = asRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' })
    : spawnSync(cmd, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${bin} failed: ${result.stderr || result.stdout}`);
}

export interface PostgresCluster {
  url: string;
  stop(): void;
}

/** Starts a throwaway cluster (see the header); `stop` removes it. Also used by bench/server.bench.ts. */
export function startPostgresCluster(): PostgresCluster {
  ensureInstalled();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forever-pg-'));
  const dataDir = path.join(dir, 'data');
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', dir]);
  runPg('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const options = [
    `-p ${PORT}`,
    `-k ${dir}`,
    "-c listen_addresses=''",
    '-c max_connections=300',
    // A throwaway test cluster: durability off for speed.
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
  ].join(' ');
  runPg('pg_ctl', ['-D', dataDir, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  return {
    url: `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(dir)}&port=${PORT}`,
    stop() {
      try {
        runPg('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export default function setup(project: TestProject): (() => void) | undefined {
  const given = process.env.FOREVER_TEST_PG_URL || process.env.DATABASE_URL;
  if (given) {
    project.provide('pgUrl', given);
    return undefined;
  }
  const cluster = startPostgresCluster();
  project.provide('pgUrl', cluster.url);
  return () => cluster.stop();
}
