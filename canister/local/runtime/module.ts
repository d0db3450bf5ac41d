// Loading a canister module: hash it, check its imports against the system
// API, instrument it (cached on disk by module hash, so a restart does not
// redo the work) and compile it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Reader, readSections, SECTION } from '../wasm/binary.js';
import { instrumentModule, type InstrumentResult } from '../wasm/instrument.js';
import { LocalICError } from './errors.js';
import { IMPLEMENTED_IC0 } from './system-api.js';

export interface LoadedModule {
  /** SHA-256 of the module as installed (what `module_hash` reports). */
  hash: Uint8Array;
  hashHex: string;
  raw: Uint8Array;
  compiled: WebAssembly.Module;
  info: Omit<InstrumentResult, 'wasm'>;
  /** The instrumented module's bytes. */
  instrumented: Uint8Array;
  exports: Set<string>;
  metering: boolean;
}

/** Bumped whenever the instrumentation changes, so stale cache entries are ignored. */
const INSTRUMENTATION_VERSION = 4;

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

export function checkImports(compiled: WebAssembly.Module): void {
  const missing: string[] = [];
  for (const imp of WebAssembly.Module.imports(compiled)) {
    if (imp.module !== 'ic0' || imp.kind !== 'function' || !IMPLEMENTED_IC0.has(imp.name)) {
      missing.push(`${imp.module}.${imp.name} (${imp.kind})`);
    }
  }
  if (missing.length > 0) {
    throw new LocalICError(
      `The module imports ${missing.length} function(s) the local IC does not implement: ${missing.join(', ')}`,
      'MissingImports',
    );
  }
}

function cacheFile(dir: string, hashHex: string, metering: boolean): string {
  return join(dir, `${hashHex}.v${INSTRUMENTATION_VERSION}${metering ? '' : '.nometer'}.wasm`);
}

/** Stores an instrumented module; write-then-rename so a reader never sees half a file. */
function writeCache(file: string, wasm: Uint8Array, info: Omit<InstrumentResult, 'wasm'>): void {
  if (existsSync(file) && existsSync(`${file}.json`)) return;
  mkdirSync(dirname(file), { recursive: true });
  // Temporary names of this thread's own: the runtime's workers and the
  // query worker may write the same module at once.
  const tmp = `.${process.pid}.${threadId}.tmp`;
  writeFileSync(`${file}.json${tmp}`, JSON.stringify(info));
  renameSync(`${file}.json${tmp}`, `${file}.json`);
  writeFileSync(`${file}${tmp}`, wasm);
  renameSync(`${file}${tmp}`, file);
}

/** WebAssembly wants bytes backed by a plain ArrayBuffer. */
function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

const memoryCache = new Map<string, LoadedModule>();

// A module with one 64-bit memory of 0 pages.
const MEMORY64_PROBE = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 0x04, 0]);

/**
 * moc's enhanced orthogonal persistence emits a 64-bit memory (memory64).
 * Node 20's V8 (11.3) validates it only behind `--experimental-wasm-memory64`,
 * which can be switched on at run time: V8 reads it when it compiles a
 * module. Newer V8s accept memory64 without it, so it is set only when
 * needed.
 */
export function enableMemory64(): boolean {
  if (WebAssembly.validate(MEMORY64_PROBE)) return true;
  setFlagsFromString('--experimental-wasm-memory64');
  return WebAssembly.validate(MEMORY64_PROBE);
}

/** Whether the module defines a 64-bit memory or table (limits flag 0x04). */
function uses64BitLimits(raw: Uint8Array): boolean {
  try {
    for (const s of readSections(raw)) {
      if (s.id !== SECTION.memory && s.id !== SECTION.table) continue;
      const r = new Reader(s.payload);
      if (r.u32() === 0) continue;
      if (s.id === SECTION.table) r.byte(); // reference type
      if (r.byte() & 0x04) return true;
    }
  } catch {
    return false;
  }
  return false;
}

export function loadModule(raw: Uint8Array, opts: { metering: boolean; cacheDir?: string }): LoadedModule {
  const hash = sha256(raw);
  const hashHex = Buffer.from(hash).toString('hex');
  const key = `${hashHex}:${opts.metering}`;
  const cached = memoryCache.get(key);
  if (cached) {
    if (opts.cacheDir) writeCache(cacheFile(opts.cacheDir, hashHex, opts.metering), cached.instrumented, cached.info);
    return cached;
  }

  const wide = uses64BitLimits(raw);
  if (wide) enableMemory64();
  try {
    // A 64-bit table does not validate on Node 20 at all; it is checked after
    // the instrumentation lowered it to a 32-bit one.
    checkImports(new WebAssembly.Module(bufferSource(raw)));
  } catch (err) {
    if (err instanceof LocalICError) throw err;
    if (!wide) throw new LocalICError(`Invalid Wasm module: ${(err as Error).message}`, 'InvalidModule');
  }

  const file = opts.cacheDir ? cacheFile(opts.cacheDir, hashHex, opts.metering) : undefined;
  let instrumented: { wasm: Uint8Array; info: Omit<InstrumentResult, 'wasm'> } | undefined;
  if (file) {
    try {
      const bytes = readFileSync(file);
      const meta = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as Omit<InstrumentResult, 'wasm'>;
      instrumented = { wasm: bytes, info: meta };
    } catch {
      instrumented = undefined;
    }
  }
  if (!instrumented) {
    let result: InstrumentResult;
    try {
      result = instrumentModule(raw, { metering: opts.metering });
    } catch (err) {
      throw new LocalICError(`Cannot instrument the module: ${(err as Error).message}`, 'InvalidModule');
    }
    const { wasm, ...info } = result;
    instrumented = { wasm, info };
    if (file) writeCache(file, wasm, info);
  }
  let compiled: WebAssembly.Module;
  try {
    compiled = new WebAssembly.Module(bufferSource(instrumented.wasm));
  } catch (err) {
    throw new LocalICError(`Invalid Wasm module: ${(err as Error).message}`, 'InvalidModule');
  }
  if (wide) checkImports(compiled);
  const loaded: LoadedModule = {
    hash,
    hashHex,
    raw,
    compiled,
    info: instrumented.info,
    instrumented: instrumented.wasm,
    exports: new Set(WebAssembly.Module.exports(compiled).map((e) => e.name)),
    metering: opts.metering,
  };
  memoryCache.set(key, loaded);
  return loaded;
}

/** Reads `icp:public <name>` or `icp:private <name>` custom sections. */
export function moduleMetadata(module: LoadedModule, name: string): Uint8Array | undefined {
  for (const vis of ['public', 'private']) {
    const sections = WebAssembly.Module.customSections(module.compiled, `icp:${vis} ${name}`);
    if (sections.length > 0) return new Uint8Array(sections[0]);
  }
  return undefined;
}

/**
 * Every `icp:public` / `icp:private` section of a module as [name, contents]
 * (name without the prefix; public before private, as in `moduleMetadata`).
 * The worker host mirrors these on the main thread, where `metadata()` must
 * answer synchronously.
 */
export function moduleMetadataEntries(module: LoadedModule): [string, Uint8Array][] {
  return [...metadataSections(module)].map(([name, { data }]) => [name, data]);
}

/** Names of the sections that are `icp:private` (and not also public): only controllers may read them. */
export function modulePrivateMetadataNames(module: LoadedModule): string[] {
  return [...metadataSections(module)].filter(([, s]) => s.visibility === 'private').map(([name]) => name);
}

function metadataSections(module: LoadedModule): Map<string, { visibility: string; data: Uint8Array }> {
  const found = new Map<string, { visibility: string; data: Uint8Array }>();
  for (const section of readSections(module.raw)) {
    if (section.id !== 0) continue;
    const r = new Reader(section.payload);
    const m = /^icp:(public|private) (.*)$/s.exec(r.name());
    if (!m) continue;
    const seen = found.get(m[2]);
    if (seen && (seen.visibility === 'public' || m[1] === 'private')) continue;
    found.set(m[2], { visibility: m[1], data: new Uint8Array(section.payload.subarray(r.pos)) });
  }
  return found;
}
