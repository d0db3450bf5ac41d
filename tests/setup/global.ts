// Global test setup: builds every azle canister once per run so suites share
// the same Wasm (building takes a few seconds per canister).
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  if (process.env.FOREVER_SKIP_CANISTER_BUILD === '1') return;
  execFileSync('npx', ['tsx', 'canister/scripts/build.ts'], { stdio: 'inherit' });
}
