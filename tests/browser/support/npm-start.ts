// Runs `npm start` (server/main.ts) as a child process on a free port with a
// throwaway data directory, and reports its origin and index canister from
// the ServerReady log. The product as shipped: the local IC executing on its
// worker thread, the index `forever_index` deployed by the server with the
// bucket module, creating buckets (each with the server's identity as
// presence verifier) as users arrive. `env` adds settings (bucket capacity).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface StartedServer {
  origin: string;
  indexId: string;
  /** The server's data directory (DATA_DIR: database, blobs, upload queue). */
  dataDir: string;
  close(): Promise<void>;
}

/** `env`: extra settings for the server (its queue's retries, say). */
export async function npmStart(env: Record<string, string> = {}): Promise<StartedServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'forever-start-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    // The test global setup built the app already.
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, FOREVER_SKIP_APP_BUILD: '1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ url: string; index_id: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code} before it was ready`)));
    lines.on('line', (line) => {
      if (!line.includes('"ServerReady"')) return;
      resolve(JSON.parse(line) as { url: string; index_id: string });
    });
  });
  return {
    origin: ready.url,
    indexId: ready.index_id,
    dataDir,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
