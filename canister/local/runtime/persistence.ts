// Durable canister state under the data directory:
//
//   modules/<sha256>.wasm             installed modules (and the instrumentation cache)
//   canisters/<id>/stable.img         stable memory image as of the last checkpoint (+ later writes)
//   canisters/<id>/stable.wal         write-ahead log of committed messages since that checkpoint
//   canisters/<id>/meta.json          controllers, module hash, certified data, status... at the checkpoint
//   canisters/<id>/chunks/<sha256>    the Wasm chunk store (upload_chunk), one durable file per chunk
//
// Each flush appends, per canister, one checksummed WAL record holding the
// full contents of every 4 KiB stable block committed messages changed, plus
// the canister's metadata, and fdatasyncs it before any reply is returned.
// Only then are the blocks written into the image (not synced). Recovery loads
// the image and replays every intact WAL record in order (records carry whole
// blocks, so replay is idempotent); a torn record at the tail — a SIGKILL or
// power cut during the append — is ignored, and with it the messages whose
// replies were never sent. A checkpoint fsyncs the image, rewrites meta.json
// atomically and only then truncates the WAL.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { syncDir, writeFileDurable } from '../durable-file.js';
import { Principal } from '@dfinity/principal';
import type { Canister } from './canister.js';
import type { LoadedModule } from './module.js';
import { BLOCK, StableMemory, WASM_PAGE } from './stable-memory.js';

export interface PersistedCanister {
  id: Principal;
  controllers: Principal[];
  stable: StableMemory;
  certifiedData: Uint8Array;
  version: bigint;
  lastInstallArg: Uint8Array;
  wasm: Uint8Array | undefined;
  status: 'running' | 'stopping' | 'stopped';
  /** The chunk store: hex SHA-256 and bytes of each chunk. */
  chunks: [string, Uint8Array][];
}

interface Meta {
  controllers: string[];
  moduleHash: string | null;
  certifiedData: string;
  version: string;
  lastInstallArg: string;
  stablePages: number;
  /** Absent in files written before stop_canister existed: running. */
  status?: 'running' | 'stopping' | 'stopped';
}

const MAGIC = 0x4c494357; // "LICW"
const HEADER = 12;
/** WAL size after which the next flush checkpoints. */
const CHECKPOINT_BYTES = 64 * 1024 * 1024;

interface Pending {
  canister: Canister;
  blocks: Set<number>;
  reset: boolean;
}

interface Files {
  wal: FileHandle;
  walSize: number;
  img: FileHandle;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function metaOf(c: Canister): Meta {
  return {
    controllers: c.controllers.map((p) => p.toText()),
    moduleHash: c.module ? c.module.hashHex : null,
    certifiedData: hex(c.certifiedData),
    version: c.version.toString(),
    lastInstallArg: hex(c.lastInstallArg),
    stablePages: c.stable.sizePages,
    status: c.status,
  };
}

/** Encodes one WAL record. */
export function encodeRecord(meta: Meta, reset: boolean, blocks: [number, Uint8Array][]): Buffer {
  const metaBytes = Buffer.from(JSON.stringify({ ...meta, reset }));
  const payload = Buffer.alloc(4 + metaBytes.length + 4 + blocks.length * (4 + BLOCK));
  let off = payload.writeUInt32LE(metaBytes.length, 0);
  off += metaBytes.copy(payload, off);
  off = payload.writeUInt32LE(blocks.length, off);
  for (const [index, data] of blocks) {
    off = payload.writeUInt32LE(index, off);
    payload.set(data, off);
    off += BLOCK;
  }
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(payload.length, 4);
  header.writeUInt32LE(crc32(payload), 8);
  return Buffer.concat([header, payload]);
}

/** Decodes the intact records at the start of a WAL; stops at the first torn or corrupt one. */
export function decodeRecords(wal: Buffer): { meta: Meta; reset: boolean; blocks: [number, Buffer][] }[] {
  const out: { meta: Meta; reset: boolean; blocks: [number, Buffer][] }[] = [];
  let off = 0;
  while (off + HEADER <= wal.length) {
    if (wal.readUInt32LE(off) !== MAGIC) break;
    const len = wal.readUInt32LE(off + 4);
    const sum = wal.readUInt32LE(off + 8);
    if (off + HEADER + len > wal.length) break;
    const payload = wal.subarray(off + HEADER, off + HEADER + len);
    if (crc32(payload) !== sum) break;
    const metaLen = payload.readUInt32LE(0);
    const parsed = JSON.parse(payload.subarray(4, 4 + metaLen).toString('utf8')) as Meta & { reset: boolean };
    let p = 4 + metaLen;
    const n = payload.readUInt32LE(p);
    p += 4;
    const blocks: [number, Buffer][] = [];
    for (let i = 0; i < n; i++) {
      blocks.push([payload.readUInt32LE(p), payload.subarray(p + 4, p + 4 + BLOCK)]);
      p += 4 + BLOCK;
    }
    const { reset, ...meta } = parsed;
    out.push({ meta, reset, blocks });
    off += HEADER + len;
  }
  return out;
}

export class Persistence {
  readonly moduleCacheDir: string;
  private readonly canistersDir: string;
  private readonly pending = new Map<string, Pending>();
  private readonly files = new Map<string, Files>();

  constructor(readonly dataDir: string) {
    this.moduleCacheDir = join(dataDir, 'modules');
    this.canistersDir = join(dataDir, 'canisters');
  }

  /**
   * Loads every canister (or those `only` admits: one runtime of a threaded
   * local IC loads its own), replays the WALs and checkpoints.
   */
  async open(only?: (id: string) => boolean): Promise<{ nextIndex: bigint; canisters: PersistedCanister[] }> {
    mkdirSync(this.moduleCacheDir, { recursive: true });
    mkdirSync(this.canistersDir, { recursive: true });
    const canisters: PersistedCanister[] = [];
    let nextIndex = 0n;
    for (const id of persistedCanisterIds(this.dataDir)) {
      const name = id.toText();
      if (only && !only(name)) continue;
      const dir = join(this.canistersDir, name);
      const loaded = this.load(dir);
      if (!loaded) continue;
      const { meta, stable, replayed } = loaded;
      const wasm = meta.moduleHash ? readFileSync(join(this.moduleCacheDir, `${meta.moduleHash}.wasm`)) : undefined;
      canisters.push({
        id,
        controllers: meta.controllers.map((t) => Principal.fromText(t)),
        stable,
        certifiedData: Buffer.from(meta.certifiedData, 'hex'),
        version: BigInt(meta.version),
        lastInstallArg: Buffer.from(meta.lastInstallArg, 'hex'),
        wasm: wasm ? new Uint8Array(wasm) : undefined,
        status: meta.status ?? 'running',
        chunks: readChunks(join(dir, 'chunks')),
      });
      const bytes = id.toUint8Array();
      if (bytes.length === 10 && bytes[8] === 1 && bytes[9] === 1) {
        const index = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0);
        if (index + 1n > nextIndex) nextIndex = index + 1n;
      }
      // Checkpoint what was just replayed: a fresh image, then meta, then an
      // empty WAL. With nothing replayed the image and meta are already durable.
      if (replayed > 0) {
        this.writeImage(dir, stable);
        writeFileDurable(join(dir, 'meta.json'), JSON.stringify(meta));
        writeFileSync(join(dir, 'stable.wal'), new Uint8Array(0));
        syncDir(dir);
      }
    }
    return { nextIndex, canisters };
  }

  private load(dir: string): { meta: Meta; stable: StableMemory; replayed: number } | undefined {
    let meta: Meta | undefined;
    const metaPath = join(dir, 'meta.json');
    if (existsSync(metaPath)) meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Meta;
    const stable = new StableMemory();
    const imgPath = join(dir, 'stable.img');
    if (existsSync(imgPath)) readImage(imgPath, stable);
    const walPath = join(dir, 'stable.wal');
    let replayed = 0;
    if (existsSync(walPath)) {
      for (const record of decodeRecords(readFileSync(walPath))) {
        if (record.reset) stable.clear();
        for (const [index, data] of record.blocks) stable.restoreBlock(index, data);
        meta = record.meta;
        replayed++;
      }
    }
    if (!meta) return undefined;
    stable.restoreSize(meta.stablePages);
    return { meta, stable, replayed };
  }

  private writeImage(dir: string, stable: StableMemory): void {
    const tmp = join(dir, 'stable.img.tmp');
    const fd = openSync(tmp, 'w');
    try {
      for (const [index, page] of stable.allocatedPages()) {
        writeSyncAt(fd, page, index * WASM_PAGE);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, 'stable.img'));
  }

  /** Stores a module file (once per hash) before any record refers to it. */
  saveModule(module: LoadedModule): void {
    const path = join(this.moduleCacheDir, `${module.hashHex}.wasm`);
    if (existsSync(path)) return;
    mkdirSync(this.moduleCacheDir, { recursive: true });
    writeFileDurable(path, module.raw);
  }

  /** Stores a chunk of the canister's chunk store durably (before upload_chunk replies). */
  saveChunk(c: Canister, hashHex: string, chunk: Uint8Array): void {
    writeFileDurable(join(this.canistersDir, c.idText, 'chunks', hashHex), chunk);
  }

  /** Empties the canister's chunk store on disk. */
  clearChunks(c: Canister): void {
    const dir = join(this.canistersDir, c.idText, 'chunks');
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) rmSync(join(dir, name), { force: true });
    syncDir(dir);
  }

  /** Remembers that committed messages changed these blocks (and maybe metadata). */
  noteCommit(c: Canister, blocks: number[], _metaChanged: boolean, reset = false): void {
    let p = this.pending.get(c.idText);
    if (!p) {
      p = { canister: c, blocks: new Set(), reset: false };
      this.pending.set(c.idText, p);
    }
    if (reset) {
      p.reset = true;
      p.blocks.clear();
    }
    for (const b of blocks) p.blocks.add(b);
  }

  /** Makes everything noted so far durable. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const work = [...this.pending.values()];
    this.pending.clear();
    for (const p of work) {
      const c = p.canister;
      const files = await this.filesFor(c);
      const blocks = [...p.blocks].sort((a, b) => a - b).map((i): [number, Uint8Array] => [i, c.stable.block(i)]);
      const record = encodeRecord(metaOf(c), p.reset, blocks);
      await files.wal.write(record, 0, record.length, files.walSize);
      files.walSize += record.length;
      await files.wal.datasync();
      // The record is durable: now bring the image up to date (synced at the next checkpoint).
      if (p.reset) await files.img.truncate(0);
      for (const [first, data] of coalesce(blocks)) await files.img.write(data, 0, data.length, first * BLOCK);
      if (files.walSize > CHECKPOINT_BYTES) await this.checkpoint(c, files);
    }
  }

  private async checkpoint(c: Canister, files: Files): Promise<void> {
    const dir = join(this.canistersDir, c.idText);
    await files.img.sync();
    writeFileDurable(join(dir, 'meta.json'), JSON.stringify(metaOf(c)));
    await files.wal.truncate(0);
    await files.wal.sync();
    files.walSize = 0;
  }

  private async filesFor(c: Canister): Promise<Files> {
    let f = this.files.get(c.idText);
    if (f) return f;
    const dir = join(this.canistersDir, c.idText);
    const created = !existsSync(dir);
    mkdirSync(dir, { recursive: true });
    if (created) syncDir(this.canistersDir);
    const walPath = join(dir, 'stable.wal');
    const wal = await open(walPath, existsSync(walPath) ? 'r+' : 'w+');
    const walSize = (await wal.stat()).size;
    const imgPath = join(dir, 'stable.img');
    const img = await open(imgPath, existsSync(imgPath) ? 'r+' : 'w+');
    f = { wal, walSize, img };
    this.files.set(c.idText, f);
    return f;
  }

  async close(): Promise<void> {
    for (const f of this.files.values()) {
      await f.wal.close();
      await f.img.close();
    }
    this.files.clear();
  }
}

/** The canisters stored under `dataDir`, in id order (also read by the threaded runtime's host to place them). */
export function persistedCanisterIds(dataDir: string): Principal[] {
  const dir = join(dataDir, 'canisters');
  if (!existsSync(dir)) return [];
  const out: Principal[] = [];
  for (const name of readdirSync(dir).sort()) {
    try {
      out.push(Principal.fromText(name));
    } catch {
      // not a canister's directory
    }
  }
  return out;
}

/** Reads an image page by page (it may be larger than a Buffer), keeping only pages that hold data. */
function readImage(path: string, stable: StableMemory): void {
  const fd = openSync(path, 'r');
  const page = Buffer.alloc(WASM_PAGE);
  try {
    for (let off = 0; ; off += WASM_PAGE) {
      const n = readSync(fd, page, 0, WASM_PAGE, off);
      if (n === 0) break;
      page.fill(0, n);
      for (let b = 0; b < WASM_PAGE; b += BLOCK) stable.restoreBlock((off + b) / BLOCK, page.subarray(b, b + BLOCK));
      if (n < WASM_PAGE) break;
    }
  } finally {
    closeSync(fd);
  }
}

/** The chunk files of a canister (a `.tmp` is a write that never completed). */
function readChunks(dir: string): [string, Uint8Array][] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^[0-9a-f]{64}$/.test(name))
    .map((name): [string, Uint8Array] => [name, new Uint8Array(readFileSync(join(dir, name)))]);
}

/** Joins runs of consecutive blocks into single writes. */
function coalesce(blocks: [number, Uint8Array][]): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  let i = 0;
  while (i < blocks.length) {
    let j = i + 1;
    while (j < blocks.length && blocks[j][0] === blocks[j - 1][0] + 1) j++;
    out.push([blocks[i][0], j - i === 1 ? blocks[i][1] : Buffer.concat(blocks.slice(i, j).map((b) => b[1]))]);
    i = j;
  }
  return out;
}

function writeSyncAt(fd: number, data: Uint8Array, position: number): void {
  let written = 0;
  while (written < data.length) {
    written += writeSync(fd, data, written, data.length - written, position + written);
  }
}
