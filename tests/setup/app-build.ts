// Global setup: builds the app (`vite build` → build/) when any of its inputs
// is newer than the last build, so the browser suites and `npm start` serve
// current code without paying for a build on every run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.cwd();
const INPUTS = ['src', 'src-worker', 'static', 'svelte.config.js', 'vite.config.ts', 'package-lock.json'];
const STAMP = join(ROOT, 'build', 'index.html');

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function appBuildIsCurrent(): boolean {
  if (!existsSync(STAMP)) return false;
  const built = statSync(STAMP).mtimeMs;
  return INPUTS.every((p) => newestMtime(join(ROOT, p)) <= built);
}

/** Builds unless current. A lock directory keeps two test runs from building into build/ at once. */
export function buildApp(): void {
  const lock = join(ROOT, '.svelte-kit', 'app-build.lock');
  mkdirSync(join(ROOT, '.svelte-kit'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another run is building; a lock older than the deadline is stale.
      if (Date.now() > deadline || Date.now() - statSync(lock).mtimeMs > 180_000) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    if (!appBuildIsCurrent()) execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit', cwd: ROOT });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export default function setup(): void {
  if (process.env.FOREVER_SKIP_APP_BUILD === '1') return;
  buildApp();
}
