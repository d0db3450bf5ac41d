// Builds the web app (`vite build` → build/) when any of its inputs is newer
// than the last build. One module for both callers: `npm start`
// (server/main.ts) and the test global setup (tests/setup/app-build.ts), so
// they agree on what "stale" means. A lock directory keeps two processes (two
// test runs, or a test run and `npm start`) from building into build/ at once.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What the bundle is made of; package-lock.json because a dependency update changes it too. */
const INPUTS = ['src', 'src-worker', 'static', 'svelte.config.js', 'vite.config.ts', 'package-lock.json'];
/** Written last by the build (adapter-static's fallback page). */
const STAMP = join('build', 'index.html');
/** A lock older than this is left over from a killed build. */
const LOCK_STALE_MS = 180_000;

/** Newest mtime under `path`, directories included (a deleted file changes its directory's mtime). */
function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function appBuildIsCurrent(root = PROJECT_ROOT): boolean {
  const stamp = join(root, STAMP);
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return INPUTS.every((p) => newestMtime(join(root, p)) <= built);
}

export interface AppBuildOptions {
  root?: string;
  /** Called just before `vite build` runs (not when the build is current). */
  onBuild?: (buildDir: string) => void;
}

/**
 * Builds unless the build is current; returns whether it built. Without
 * vite.config.ts (a deployment with build/ only) there is nothing to build.
 * Synchronous: callers run it before they serve anything.
 */
export function buildAppIfStale(opts: AppBuildOptions = {}): boolean {
  const root = opts.root ?? PROJECT_ROOT;
  if (!existsSync(join(root, 'vite.config.ts'))) return false;
  if (appBuildIsCurrent(root)) return false;
  const lock = join(root, '.svelte-kit', 'app-build.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another process is building (or just finished: the lock is gone, try again).
      const held = statSync(lock, { throwIfNoEntry: false });
      if (!held) continue;
      // A lock older than the deadline is stale.
      if (Date.now() > deadline || Date.now() - held.mtimeMs > LOCK_STALE_MS) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    // The other process may have built while we waited for the lock.
    if (appBuildIsCurrent(root)) return false;
    opts.onBuild?.(join(root, 'build'));
    execFileSync(join(root, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    return true;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
