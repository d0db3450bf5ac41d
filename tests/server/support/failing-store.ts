// Boundary double for the blob store: a real DirectoryBlobStore whose `put`
// fails the next N times (or always), the way an object store outage looks
// to the server (a BlobStoreError).
import { BlobStoreError, type BlobStore, type StoredBlob } from '../../../server/blob-copy/blob-store.js';
import { DirectoryBlobStore } from '../../../server/blob-copy/directory-store.js';

export class FailingBlobStore implements BlobStore {
  readonly inner: DirectoryBlobStore;
  /** Remaining failures; Infinity fails every put. */
  failures = 0;
  puts = 0;

  constructor(root: string) {
    this.inner = new DirectoryBlobStore(root);
  }

  async put(sha256: string, bytes: Uint8Array): Promise<StoredBlob> {
    this.puts++;
    if (this.failures > 0) {
      this.failures--;
      throw new BlobStoreError('unavailable', 'injected outage');
    }
    return this.inner.put(sha256, bytes);
  }
  get(sha256: string) {
    return this.inner.get(sha256);
  }
  has(sha256: string) {
    return this.inner.has(sha256);
  }
  size(sha256: string) {
    return this.inner.size(sha256);
  }
  stream(sha256: string, start: number, end: number) {
    return this.inner.stream(sha256, start, end);
  }
  delete(sha256: string) {
    return this.inner.delete(sha256);
  }
  sweep() {
    return this.inner.sweep();
  }
}
