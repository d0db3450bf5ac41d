// Builds every azle canister declared in dfx.json with `azle build` (works
// offline), skipping canisters whose sources are older than their Wasm.
// Usage: tsx canister/scripts/build.ts [name ...]   (FORCE=1 rebuilds)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface DfxCanister {
  type: string;
  main: string;
  candid?: string;
}

export function azleCanisters(): Record<string, DfxCanister> {
  const dfx = JSON.parse(readFileSync(join(root, 'dfx.json'), 'utf8')) as {
    canisters: Record<string, DfxCanister>;
  };
  return Object.fromEntries(Object.entries(dfx.canisters).filter(([, c]) => c.type === 'azle'));
}

/** Path of the built Wasm of a canister (azle's layout). */
export function wasmPath(name: string): string {
  return join(root, '.azle', name, `${name}.wasm`);
}

/** Where `azle build` writes the Candid it derives (inlined types); never a tracked file. */
function azleCandidPath(name: string): string {
  return join(root, '.azle', name, `${name}.did`);
}

/**
 * A canister's Candid interface: its `candid` entry in dfx.json (for `forever`,
 * generated from canister/src/candid.ts by post-build.ts and committed), else
 * what the azle build derived.
 */
export function candidPath(name: string): string {
  const c = azleCanisters()[name];
  if (!c) throw new Error(`no azle canister named ${name} in dfx.json`);
  return join(root, c.candid ?? join('.azle', name, `${name}.did`));
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function upToDate(name: string, c: DfxCanister): boolean {
  const wasm = wasmPath(name);
  if (!existsSync(wasm) || !existsSync(azleCandidPath(name))) return false;
  const srcDir = join(root, dirname(c.main));
  const inputs = Math.max(newestMtime(srcDir), statSync(join(root, 'package-lock.json')).mtimeMs);
  return statSync(wasm).mtimeMs >= inputs;
}

export function buildCanister(name: string, force = false): string {
  const c = azleCanisters()[name];
  if (!c) throw new Error(`no azle canister named ${name} in dfx.json`);
  if (!force && upToDate(name, c)) return wasmPath(name);
  mkdirSync(dirname(azleCandidPath(name)), { recursive: true });
  const started = Date.now();
  execFileSync(join(root, 'node_modules/.bin/azle'), ['build', name], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    // Builds (also those run by npm start and the tests) leave tracked files alone.
    env: { ...process.env, CANISTER_CANDID_PATH: azleCandidPath(name) },
  });
  console.log(`built canister ${name} in ${Date.now() - started} ms`);
  return wasmPath(name);
}

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const force = process.env.FORCE === '1';
  for (const name of names.length ? names : Object.keys(azleCanisters())) {
    buildCanister(name, force);
  }
  // Post-build steps (declaration generation) live next to this script and run when present.
  const post = join(root, 'canister/scripts/post-build.ts');
  if (existsSync(post)) await import(post);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
