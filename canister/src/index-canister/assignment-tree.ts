// The index's assignments as an IC hash tree, kept incrementally, so that
// `my_bucket_certified` answers with a witness the client checks against the
// index's certified data, and an assignment costs O(its group), not O(users).
//
// Tree: labeled "bucket" → a complete binary fork tree of depth 16 whose
// 65536 leaves are groups, one per value of the principal's first two bytes
// (self-authenticating principals are hashes, so groups fill evenly); a group
// is the balanced fork tree of its labeled leaves, `principal bytes` →
// `bucket principal bytes`, in byte order. Labels thus appear in sorted order
// throughout, as lookups require. Stored: each group's entries, and the hash
// of every non-empty fork node (heap order: node 1 the root, children 2i and
// 2i+1, groups at 65536 + group); an absent node has its level's empty hash.
//
// A witness prunes everything off the caller's path, neighbours included, so
// it shows no other user's assignment: a caller without a bucket in a
// non-empty group looks up as unknown, in an empty group as absent. Pure: the
// adapter passes the storage.
import { concatBytes, readU32be, u32be } from '../bytes';
import { emptyHash, forkHash, type HashTree, labeledHash, leafHash } from './hash-tree';

export const DEPTH = 16;
const GROUPS = 1 << DEPTH;
const BUCKET_LABEL = new TextEncoder().encode('bucket');

export interface TreeStore {
  /** Group id → its entries (sorted by principal bytes). */
  getGroup(group: number): Array<[Uint8Array, Uint8Array]>;
  setGroup(group: number, entries: Array<[Uint8Array, Uint8Array]>): void;
  /** Node index → hash; undefined when the node is empty. */
  getNode(node: number): Uint8Array | undefined;
  setNode(node: number, hash: Uint8Array | undefined): void;
}

/** Which group a principal's entry lives in: its first two bytes. */
export function groupOf(p: Uint8Array): number {
  if (p.length < 2) throw new Error('a principal of fewer than 2 bytes has no group');
  return (p[0] << 8) | p[1];
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

let emptyByLevel: Uint8Array[] | undefined;

/** emptyByLevel[k]: the hash of an empty subtree k levels above the groups. */
function emptyLevels(): Uint8Array[] {
  if (!emptyByLevel) {
    const e = [emptyHash()];
    for (let k = 1; k <= DEPTH; k++) e.push(forkHash(e[k - 1], e[k - 1]));
    emptyByLevel = e;
  }
  return emptyByLevel;
}

const levelOf = (node: number): number => DEPTH - (31 - Math.clz32(node));

function nodeHash(store: TreeStore, node: number): Uint8Array {
  return store.getNode(node) ?? emptyLevels()[levelOf(node)];
}

/** The balanced fork tree over entries[lo, hi), with everything but `keep` (an index) pruned when given. */
function groupTree(entries: Array<[Uint8Array, Uint8Array]>, lo: number, hi: number, keep: number | undefined): { tree: HashTree; hash: Uint8Array } {
  if (hi - lo === 1) {
    const [p, b] = entries[lo];
    const hash = labeledHash(p, leafHash(b));
    return { tree: keep === lo ? [2, p, [3, b]] : [4, hash], hash };
  }
  const mid = (lo + hi) >>> 1;
  const inside = keep !== undefined && keep >= lo && keep < hi;
  const l = groupTree(entries, lo, mid, inside ? keep : undefined);
  const r = groupTree(entries, mid, hi, inside ? keep : undefined);
  const hash = forkHash(l.hash, r.hash);
  return { tree: inside ? [1, l.tree, r.tree] : [4, hash], hash };
}

/** Sets (bucket) or removes (undefined) one principal's entry; returns the new root hash (the certified data). */
export function setEntry(store: TreeStore, principal: Uint8Array, bucket: Uint8Array | undefined): Uint8Array {
  const g = groupOf(principal);
  const entries = store.getGroup(g).filter(([p]) => compare(p, principal) !== 0);
  if (bucket) {
    entries.push([principal, bucket]);
    entries.sort((a, b) => compare(a[0], b[0]));
  }
  store.setGroup(g, entries);
  let node = GROUPS + g;
  store.setNode(node, entries.length ? groupTree(entries, 0, entries.length, undefined).hash : undefined);
  while (node > 1) {
    node >>>= 1;
    const empty = store.getNode(2 * node) === undefined && store.getNode(2 * node + 1) === undefined;
    store.setNode(node, empty ? undefined : forkHash(nodeHash(store, 2 * node), nodeHash(store, 2 * node + 1)));
  }
  return rootHash(store);
}

/** The certified data: the hash of labeled "bucket" over the fork tree. */
export function rootHash(store: TreeStore): Uint8Array {
  return labeledHash(BUCKET_LABEL, nodeHash(store, 1));
}

/** The caller's bucket and the witness: ["bucket", principal] leads to it, or proves nothing about others. */
export function witness(store: TreeStore, principal: Uint8Array): { bucket: Uint8Array | undefined; tree: HashTree } {
  const g = groupOf(principal);
  const entries = store.getGroup(g);
  const at = entries.findIndex(([p]) => compare(p, principal) === 0);
  const groupNode: HashTree = entries.length === 0 ? [0] : groupTree(entries, 0, entries.length, at >= 0 ? at : undefined).tree;
  let tree = groupNode;
  let node = GROUPS + g;
  while (node > 1) {
    const sibling = node ^ 1;
    const pruned: HashTree = [4, nodeHash(store, sibling)];
    tree = node & 1 ? [1, pruned, tree] : [1, tree, pruned];
    node >>>= 1;
  }
  return { bucket: at >= 0 ? entries[at][1] : undefined, tree: [2, BUCKET_LABEL, tree] };
}

/** Group entries as bytes: count, then (len, principal, len, bucket) each. */
export function encodeGroup(entries: Array<[Uint8Array, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [u32be(entries.length)];
  for (const [p, b] of entries) parts.push(new Uint8Array([p.length]), p, new Uint8Array([b.length]), b);
  return concatBytes(...parts);
}

export function decodeGroup(bytes: Uint8Array | undefined): Array<[Uint8Array, Uint8Array]> {
  if (!bytes) return [];
  const n = readU32be(bytes, 0);
  const out: Array<[Uint8Array, Uint8Array]> = [];
  let o = 4;
  for (let i = 0; i < n; i++) {
    const p = bytes.slice(o + 1, o + 1 + bytes[o]);
    o += 1 + bytes[o];
    const b = bytes.slice(o + 1, o + 1 + bytes[o]);
    o += 1 + bytes[o];
    out.push([p, b]);
  }
  return out;
}
