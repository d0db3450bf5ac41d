// Starts tests/browser/support/app-server.ts as a child process and talks to
// its canister over HTTP like any client would.
import { Actor, HttpAgent, type Identity } from '@dfinity/agent';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { idlFactory } from '../../../src/declarations/forever/forever.did.js';
import type { _SERVICE } from '../../../src/declarations/forever/forever.did';

export interface AppProcess {
  origin: string;
  canisterId: string;
  /** get_usage as `identity`, through the IC HTTP interface. */
  usage(identity: Identity): Promise<{ memories: bigint; assets: bigint; active_uploads: number }>;
  close(): Promise<void>;
}

export async function startAppProcess(): Promise<AppProcess> {
  const entry = fileURLToPath(new URL('./app-server.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', entry], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } });
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ origin: string; canisterId: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`app server exited with ${code} before it was ready`)));
    lines.on('line', (line) => {
      if (line.startsWith('{"origin"')) resolve(JSON.parse(line));
    });
  });
  return {
    ...ready,
    async usage(identity) {
      const agent = await HttpAgent.create({ host: ready.origin, identity, shouldFetchRootKey: true });
      const actor = Actor.createActor<_SERVICE>(idlFactory, { agent, canisterId: ready.canisterId });
      const r = await actor.get_usage();
      if ('Err' in r) throw new Error(`get_usage: ${Object.keys(r.Err)[0]}`);
      return r.Ok;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
