// Builds the azle canisters with `azle build` (works offline), skipping those
// whose sources are older than their Wasm:
//   - the product's canisters, declared in dfx.json (`forever`);
//   - the test fixtures, declared in tests/fixtures/dfx.json (their own dfx
//     project, so `dfx deploy` of the product never creates them).
// `forever` then gets its native SHA-256 (native-sha256.ts), is checked
// against NIST's test vectors in the local IC (the build fails on a wrong
// digest), and its declarations are printed (post-build.ts).
// Usage: tsx canister/scripts/build.ts [name ...]   (FORCE=1 rebuilds)
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The dfx projects azle builds from: the product's and the test fixtures'. */
const PROJECTS = [root, join(root, 'tests/fixtures')];

interface DfxCanister {
  type: string;
  main: string;
  candid?: string;
}

interface Located extends DfxCanister {
  /** The dfx project directory (where its dfx.json and .azle are). */
  project: string;
}

function projectCanisters(project: string): Record<string, DfxCanister> {
  const file = join(project, 'dfx.json');
  if (!existsSync(file)) return {};
  const dfx = JSON.parse(readFileSync(file, 'utf8')) as { canisters: Record<string, DfxCanister> };
  // `forever` is a custom canister for dfx (its build is this script); what azle builds has a `main`.
  return Object.fromEntries(Object.entries(dfx.canisters).filter(([, c]) => c.type === 'azle' || (c.type === 'custom' && c.main)));
}

/** Every azle canister this repository builds, the product's first. */
export function azleCanisters(): Record<string, Located> {
  const out: Record<string, Located> = {};
  for (const project of PROJECTS) {
    for (const [name, c] of Object.entries(projectCanisters(project))) out[name] ??= { ...c, project };
  }
  return out;
}

function located(name: string): Located {
  const c = azleCanisters()[name];
  if (!c) throw new Error(`no azle canister named ${name} in dfx.json or tests/fixtures/dfx.json`);
  return c;
}

function azleDir(name: string): string {
  return join(located(name).project, '.azle', name);
}

/** Path of the built Wasm of a canister (for `forever`: with its native SHA-256). */
export function wasmPath(name: string): string {
  return join(azleDir(name), `${name}.wasm`);
}

/** `forever` as azle built it, before the native SHA-256 (it cannot install: init traps). */
export function unpatchedWasmPath(): string {
  return join(azleDir('forever'), 'forever.azle.wasm');
}

/** `forever` with the JavaScript block function (and the same chunk space): the benchmarks' baseline, never deployed. */
export function jsHashWasmPath(): string {
  return join(azleDir('forever'), 'forever.jshash.wasm');
}

/** Where `azle build` writes the Candid it derives (inlined types); never a tracked file. */
function azleCandidPath(name: string): string {
  return join(azleDir(name), `${name}.did`);
}

/**
 * A canister's Candid interface: its `candid` entry in dfx.json (for `forever`,
 * generated from canister/src/candid.ts by post-build.ts and committed), else
 * what the azle build derived.
 */
export function candidPath(name: string): string {
  const c = located(name);
  return c.candid ? join(c.project, c.candid) : azleCandidPath(name);
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) newest = Math.max(newest, newestMtime(join(path, entry.name)));
  return newest;
}

function upToDate(name: string, c: Located): boolean {
  const wasm = wasmPath(name);
  if (!existsSync(wasm) || !existsSync(azleCandidPath(name))) return false;
  if (name === 'forever' && (!existsSync(unpatchedWasmPath()) || !existsSync(jsHashWasmPath()))) return false;
  const inputs = Math.max(
    newestMtime(join(c.project, dirname(c.main))),
    // The contract is bundled into the canister; the scripts patch it.
    newestMtime(join(root, 'contract')),
    newestMtime(join(root, 'canister/scripts')),
    statSync(join(root, 'package-lock.json')).mtimeMs,
  );
  return statSync(wasm).mtimeMs >= inputs;
}

/** The literal index.ts hashes by; rewriting it (same length) gives the JavaScript-hash baseline. */
const NATIVE_MARK = 'native:FOREVER_HASH_MODE';
const JS_MARK = 'jshash:FOREVER_HASH_MODE';

function replaceOnce(wasm: Uint8Array, from: string, to: string): Uint8Array {
  const a = Buffer.from(from);
  const buf = Buffer.from(wasm);
  const at = buf.indexOf(a);
  if (at < 0 || buf.indexOf(a, at + 1) >= 0) throw new Error(`the module must hold ${from} exactly once`);
  Buffer.from(to).copy(buf, at);
  return new Uint8Array(buf);
}

async function finishForever(): Promise<void> {
  const built = wasmPath('forever');
  copyFileSync(built, unpatchedWasmPath());
  const azleWasm = new Uint8Array(readFileSync(unpatchedWasmPath()));
  const { patchNativeSha256 } = await import('./native-sha256.js');
  const native = patchNativeSha256(azleWasm);
  // The baseline hashes in JavaScript but keeps the chunk space (its chunks are stored like the shipped module's).
  writeFileSync(jsHashWasmPath(), patchNativeSha256(replaceOnce(azleWasm, NATIVE_MARK, JS_MARK)));
  const { checkNativeSha256 } = await import('./self-check.js');
  await checkNativeSha256(native);
  // Written last: an interrupted or failed build leaves no patched module that looks up to date.
  writeFileSync(built, native);
}

/** Builds one canister now (the work of this script's command line). */
async function build(name: string): Promise<void> {
  const c = located(name);
  mkdirSync(dirname(azleCandidPath(name)), { recursive: true });
  const started = Date.now();
  execFileSync(join(root, 'node_modules/.bin/azle'), ['build', name], {
    cwd: c.project,
    stdio: ['ignore', 'inherit', 'inherit'],
    // Builds (also those run by npm start and the tests) leave tracked files alone.
    env: { ...process.env, AZLE_DFX_ROOT: c.project, CANISTER_CANDID_PATH: azleCandidPath(name) },
  });
  if (name === 'forever') await finishForever();
  console.log(`built canister ${name} in ${Date.now() - started} ms`);
}

/**
 * The path of a canister's Wasm, built first when its sources changed. Sync
 * for its callers (tests, the local deploy): the build itself, which patches
 * and checks in the local IC, runs as this script in a child process.
 */
export function buildCanister(name: string, force = false): string {
  const c = located(name);
  if (!force && upToDate(name, c)) return wasmPath(name);
  execFileSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), fileURLToPath(import.meta.url), name], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, FORCE: '1' },
  });
  return wasmPath(name);
}

/** The built Wasm of a canister, failing when it was not built (the test setup and `npm run build:canister` build it). */
export function builtWasm(name: string): string {
  const p = wasmPath(name);
  if (!existsSync(p)) throw new Error(`${name} is not built: run npm run build:canister`);
  return p;
}

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const force = process.env.FORCE === '1';
  // First the declarations and the canister's own Candid types (an input of its build), from canister/src/candid.ts.
  await import('./post-build.js');
  for (const name of names.length ? names : Object.keys(azleCanisters())) {
    if (force || !upToDate(name, located(name))) await build(name);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
