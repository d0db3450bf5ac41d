// UnixFS import and export over the blob store. Every block's CID uses a
// SHA-256 multihash, so a block is stored in the (SHA-256 addressed) blob
// store under its own digest: the blob store becomes the block store, and a
// raw leaf that is a whole small file shares its blob with the Web2 copy.
import { exporter } from 'ipfs-unixfs-exporter';
import { importBytes } from 'ipfs-unixfs-importer';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import type { BlobStore } from '../blob-copy/blob-store.js';
import type { CidProfile } from './pinner.js';

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export class BlockNotFoundError extends Error {
  constructor(cid: CID) {
    super(`block ${cid.toString()} not found`);
    this.name = 'BlockNotFoundError';
  }
}

function digestKey(cid: CID): string {
  if (cid.multihash.code !== sha256.code) throw new Error(`unsupported multihash 0x${cid.multihash.code.toString(16)}`);
  return hex(cid.multihash.digest);
}

/** The importer's and exporter's view of the blob store. */
export function blobBlockstore(store: BlobStore) {
  return {
    async put(cid: CID, bytes: Uint8Array): Promise<CID> {
      await store.put(digestKey(cid), bytes);
      return cid;
    },
    async *get(cid: CID): AsyncGenerator<Uint8Array> {
      const bytes = await store.get(digestKey(cid));
      if (!bytes) throw new BlockNotFoundError(cid);
      yield bytes;
    },
    has(cid: CID): Promise<boolean> {
      return store.has(digestKey(cid));
    },
  };
}

/** A store that only counts: the CID of some bytes without keeping blocks. */
export const discardBlocks = { put: async (cid: CID) => cid };

/** Imports `bytes` as one UnixFS file and returns its root CID (kubo's `ipfs add` for the profile). */
export async function importFile(bytes: Uint8Array, profile: CidProfile, blocks: { put(cid: CID, bytes: Uint8Array): Promise<CID> }): Promise<CID> {
  const result = await importBytes(bytes, blocks as never, { profile });
  return result.cid;
}

export function parseCid(text: string): CID | null {
  try {
    return CID.parse(text);
  } catch {
    return null;
  }
}

/** The whole file behind `cid`, or null when some block is not in the store. */
export async function exportFile(cid: CID, store: BlobStore, maxBytes: number): Promise<Uint8Array | null> {
  const blocks = blobBlockstore(store);
  let entry;
  try {
    entry = await exporter(cid, blocks as never);
  } catch (error) {
    if (error instanceof BlockNotFoundError || (error as { name?: string }).name === 'NotFoundError') return null;
    throw error;
  }
  if (entry.type !== 'file' && entry.type !== 'raw') return null;
  if (Number(entry.size) > maxBytes) throw new Error('file larger than the gateway serves');
  const out = new Uint8Array(Number(entry.size));
  let offset = 0;
  try {
    for await (const part of entry.content()) {
      out.set(part, offset);
      offset += part.byteLength;
    }
  } catch (error) {
    if (error instanceof BlockNotFoundError) return null;
    throw error;
  }
  return out;
}
