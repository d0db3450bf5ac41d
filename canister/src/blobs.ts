// Stored bytes and who uses them. A blob is the chunks one upload session
// wrote (key: its session id). An owner's assets with the same SHA-256 point
// at one blob, so the bytes are stored and counted once; the blob is freed
// when its last asset goes. Blobs never cross owners: identical files of two
// owners are stored twice, so neither cost nor timing tells one owner what
// the other holds.
import { readU32be, u32be, bytesEqual, concatBytes } from './bytes';
import { type AssetRecord, type BlobRecord, type ConfigRecord, decodeBlob, encodeBlob, type OwnerRecord } from './records';
import { type Env, type State, WORK_BUDGET } from './state';
import { removeChunk } from './chunk-slots';
import { blobIndexKey, WORK } from './store';

/** The blob an asset points at; assets from before blob records count as its only reference. */
export function blobOf(st: State, owner: Uint8Array, a: AssetRecord): BlobRecord {
  const b = st.t.blobs.get(a.blob);
  if (b) return decodeBlob(b);
  return { owner, sha256: a.sha256, size: a.size, chunkCount: a.chunkCount, chunkSize: a.chunkSize, refs: 1 };
}

/** The owner's blob with these bytes (same SHA-256 and size), if any. */
export function findBlob(st: State, owner: Uint8Array, sha256: Uint8Array, size: bigint): { id: Uint8Array; blob: BlobRecord } | undefined {
  const id = st.t.blobIndex.get(blobIndexKey(owner, sha256));
  if (!id) return undefined;
  const b = st.t.blobs.get(id);
  if (!b) return undefined;
  const blob = decodeBlob(b);
  if (blob.size !== size || !bytesEqual(blob.owner, owner)) return undefined;
  return { id, blob };
}

/** Records a newly committed blob with its first reference; it becomes the owner's copy of these bytes. */
export function addBlob(st: State, id: Uint8Array, blob: BlobRecord): void {
  st.t.blobs.insert(id, encodeBlob(blob));
  const ik = blobIndexKey(blob.owner, blob.sha256);
  if (!st.t.blobIndex.has(ik)) st.t.blobIndex.insert(ik, id);
}

export function addReference(st: State, id: Uint8Array, blob: BlobRecord): void {
  st.t.blobs.insert(id, encodeBlob({ ...blob, refs: blob.refs + 1 }));
}

/**
 * Drops one asset's reference to its blob. The last reference frees it:
 * usage and the stored total go down at once, the chunks are removed within
 * the work budget and the sweeper removes the rest. Returns the bytes taken
 * off the owner's usage.
 */
export function releaseBlob(env: Env, st: State, owner: Uint8Array, a: AssetRecord, o: OwnerRecord, c: ConfigRecord): bigint {
  const blob = blobOf(st, owner, a);
  if (blob.refs > 1) {
    st.t.blobs.insert(a.blob, encodeBlob({ ...blob, refs: blob.refs - 1 }));
    return 0n;
  }
  if (st.t.blobs.has(a.blob)) st.t.blobs.remove(a.blob);
  const ik = blobIndexKey(owner, blob.sha256);
  const indexed = st.t.blobIndex.get(ik);
  if (indexed && bytesEqual(indexed, a.blob)) st.t.blobIndex.remove(ik);
  o.usedBytes -= blob.size;
  c.storedBytes -= blob.size;
  st.t.work.insert(a.blob, concatBytes(new Uint8Array([WORK.freeBlob]), u32be(blob.chunkCount)));
  freeBlobChunks(env, st, a.blob);
  return blob.size;
}

/** Removes a freed blob's chunks from the last down, within the work budget; keeps the count left in its work entry. */
export function freeBlobChunks(env: Env, st: State, id: Uint8Array): void {
  const w = st.t.work.get(id);
  if (!w || w[0] !== WORK.freeBlob) return;
  let left = readU32be(w, 1);
  let last = env.instructions();
  let perChunk = 0n;
  while (left > 0) {
    if (perChunk > 0n && last + perChunk > WORK_BUDGET) {
      env.requestSweep();
      break;
    }
    left--;
    removeChunk(st, id, left);
    const now = env.instructions();
    if (now - last > perChunk) perChunk = now - last;
    last = now;
  }
  if (left === 0) st.t.work.remove(id);
  else st.t.work.insert(id, concatBytes(new Uint8Array([WORK.freeBlob]), u32be(left)));
}

/** Chunks still held by a freed blob (its work entry), for the invariant check. */
export function chunksLeft(work: Uint8Array): number {
  return readU32be(work, 1);
}
