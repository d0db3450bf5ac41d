// Global setup: builds the app when any of its inputs is newer than the last
// build (scripts/app-build.ts, shared with `npm start`), so the browser suites
// serve current code without paying for a build on every run.
import { buildAppIfStale } from '../../scripts/app-build';

/** Builds unless current (bench/client.bench.ts calls it too). */
export function buildApp(): void {
  buildAppIfStale();
}

export default function setup(): void {
  if (process.env.FOREVER_SKIP_APP_BUILD === '1') return;
  buildApp();
}
