// The forever canister installed in a fresh local IC (manual clock), with
// typed actors for test principals and helpers that run the upload protocol.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Principal } from '@dfinity/principal';
import { v7 as uuidv7 } from 'uuid';
import { LocalIC } from '../../../canister/local/index';
import { buildCanister } from '../../../canister/scripts/build';
import type { MemoryMetadata, UploadSession } from '../../../src/declarations/forever/forever.did';
import { actorFor, type ForeverActor, ok } from './actor';

export const MiB = 1024 * 1024;

/** A deterministic self-authenticating-looking principal (29 bytes, last byte 0x02) per test user. */
export function principal(n: number): Principal {
  const b = new Uint8Array(29);
  new DataView(b.buffer).setUint32(0, n);
  b[28] = 0x02;
  return Principal.fromUint8Array(b);
}

export const ADMIN = principal(1_000_000);

export const newId = (): string => uuidv7();

export const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

export const metadata = (title = 'A memory', over: Partial<MemoryMetadata> = {}): MemoryMetadata => ({
  title,
  description: [],
  tags: [],
  file_name: [],
  mime_type: [],
  taken_at_ms: [],
  ...over,
});

let wasmCache: Uint8Array | undefined;

export function foreverWasm(): Uint8Array {
  // A no-op when the global setup (or an earlier suite) already built it.
  wasmCache ??= new Uint8Array(readFileSync(buildCanister('forever')));
  return wasmCache;
}

export interface Forever {
  ic: LocalIC;
  canisterId: Principal;
  admin: ForeverActor;
  actor(p: Principal): ForeverActor;
  upgrade(): Promise<void>;
  close(): Promise<void>;
}

/** `arg`: the Candid init argument (`opt BucketInit`); none installs a standalone bucket. */
export async function startForever(opts: { dataDir?: string; arg?: Uint8Array } = {}): Promise<Forever> {
  const ic = await LocalIC.create({ clock: 'manual', dataDir: opts.dataDir });
  const canisterId = await ic.createCanister({ controllers: [ADMIN] });
  const wasm = foreverWasm();
  await ic.installCode(canisterId, wasm, { mode: 'install', sender: ADMIN, ...(opts.arg ? { arg: opts.arg } : {}) });
  return {
    ic,
    canisterId,
    admin: actorFor(ic, canisterId, ADMIN),
    actor: (p) => actorFor(ic, canisterId, p),
    upgrade: () => ic.installCode(canisterId, wasm, { mode: 'upgrade', sender: ADMIN }),
    close: () => ic.close(),
  };
}

export function chunksOf(data: Uint8Array, chunkSize: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < data.length; o += chunkSize) out.push(data.subarray(o, Math.min(data.length, o + chunkSize)));
  return out;
}

/** Metadata, begin, every chunk (in `order`, `parallel` at a time), commit: the client's protocol. */
export async function storeFile(
  actor: ForeverActor,
  data: Uint8Array,
  opts: { memoryId?: string; order?: number[]; parallel?: number; chunkSize?: number } = {},
): Promise<{ memoryId: string; session: UploadSession; hash: Uint8Array }> {
  const memoryId = opts.memoryId ?? newId();
  ok(await actor.upsert_metadata(memoryId, { Image: null }, metadata(), `meta-${memoryId}`));
  const hash = sha256(data);
  const chunkSize = opts.chunkSize ?? MiB;
  const chunks = chunksOf(data, chunkSize);
  const session = ok(await actor.begin_asset_upload(memoryId, hash, chunks.length, BigInt(data.length)));
  const order = opts.order ?? chunks.map((_, i) => i);
  const parallel = opts.parallel ?? 1;
  for (let i = 0; i < order.length; i += parallel) {
    await Promise.all(order.slice(i, i + parallel).map(async (index) => ok(await actor.put_chunk(session.session_id, index, chunks[index]))));
  }
  ok(await actor.commit_asset(session.session_id, hash));
  return { memoryId, session, hash };
}

/** Random bytes from a seeded generator (fast, reproducible; crypto quality not needed). */
export function seededBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  const words = new Uint32Array(out.buffer, 0, n >> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < n; i++) out[i] = i & 0xff;
  return out;
}
