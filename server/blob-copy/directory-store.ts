// Default blob store: a directory addressed by SHA-256, `<root>/<aa>/<bb>/<hex>`.
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { writeFileAtomic } from '../atomic-write.js';
import { BlobStoreError, type BlobStore, type StoredBlob } from './blob-store.js';

const HEX64 = /^[0-9a-f]{64}$/;

export class DirectoryBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  pathFor(sha256: string): string {
    if (!HEX64.test(sha256)) throw new BlobStoreError('invalid', 'blob key must be a hex SHA-256');
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await fs.access(this.pathFor(sha256));
      return true;
    } catch {
      return false;
    }
  }

  async put(sha256: string, bytes: Uint8Array): Promise<StoredBlob> {
    const file = this.pathFor(sha256);
    const location = `blob:sha256/${sha256}`;
    // Same hash, same bytes: an existing file is the blob (atomic writes never
    // leave a partial file under the final name).
    if (await this.has(sha256)) return { location, created: false };
    try {
      await writeFileAtomic(file, bytes);
    } catch (error) {
      throw new BlobStoreError('io', 'blob write failed', { cause: error });
    }
    return { location, created: true };
  }

  async size(sha256: string): Promise<number | null> {
    try {
      return (await fs.stat(this.pathFor(sha256))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  stream(sha256: string, start: number, end: number): ReadableStream<Uint8Array> {
    return Readable.toWeb(createReadStream(this.pathFor(sha256), { start, end })) as ReadableStream<Uint8Array>;
  }

  async delete(sha256: string): Promise<boolean> {
    try {
      await fs.unlink(this.pathFor(sha256));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  sweep(): Promise<number> {
    return sweepBlobTempFiles(this.root);
  }

  async get(sha256: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await fs.readFile(this.pathFor(sha256)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }
}

/** Removes leftovers of blob writes interrupted by a crash (`.tmp-*` files). */
export async function sweepBlobTempFiles(root: string): Promise<number> {
  let names: string[];
  try {
    names = (await fs.readdir(root, { recursive: true })) as string[];
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (path.basename(name).startsWith('.tmp-')) {
      await fs.rm(path.join(root, name), { force: true });
      removed++;
    }
  }
  return removed;
}
