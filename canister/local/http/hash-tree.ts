// Hash trees as the IC interface specification defines them: the certified
// state is a labeled tree; a certificate carries a pruned copy of it whose
// root hash is signed. Pure: no I/O.
import { sha256 } from '@noble/hashes/sha2';
import { concatBytes } from '@noble/hashes/utils';

/** The wire form: `[0]`, `[1,l,r]`, `[2,label,sub]`, `[3,value]`, `[4,hash]`. */
export type HashTree =
  | readonly [0]
  | readonly [1, HashTree, HashTree]
  | readonly [2, Uint8Array, HashTree]
  | readonly [3, Uint8Array]
  | readonly [4, Uint8Array];

/** The certified state before hashing: a leaf value or a node of labeled children. */
export type LabeledTree = Uint8Array | LabeledNode;
export interface LabeledNode {
  /** Children sorted by label (bytewise); build them with `node()`. */
  readonly children: ReadonlyArray<readonly [Uint8Array, LabeledTree]>;
}

const enc = new TextEncoder();
const domain = (s: string): Uint8Array => concatBytes(new Uint8Array([s.length]), enc.encode(s));
const EMPTY = domain('ic-hashtree-empty');
const FORK = domain('ic-hashtree-fork');
const LABELED = domain('ic-hashtree-labeled');
const LEAF = domain('ic-hashtree-leaf');

export const label = (l: string | Uint8Array): Uint8Array => (typeof l === 'string' ? enc.encode(l) : l);

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** A node whose children are sorted by label; duplicate labels are a programming error. */
export function node(entries: Iterable<readonly [string | Uint8Array, LabeledTree]>): LabeledNode {
  const children = [...entries].map(([l, t]) => [label(l), t] as const).sort((a, b) => compareBytes(a[0], b[0]));
  for (let i = 1; i < children.length; i++) {
    if (compareBytes(children[i - 1][0], children[i][0]) === 0) throw new Error('duplicate label in hash tree');
  }
  return { children };
}

export function isLeaf(t: LabeledTree): t is Uint8Array {
  return t instanceof Uint8Array;
}

/** Root hash of a wire tree (the `reconstruct` function of the spec). */
export function reconstruct(t: HashTree): Uint8Array {
  switch (t[0]) {
    case 0:
      return sha256(EMPTY);
    case 1:
      return sha256(concatBytes(FORK, reconstruct(t[1]), reconstruct(t[2])));
    case 2:
      return sha256(concatBytes(LABELED, t[1], reconstruct(t[2])));
    case 3:
      return sha256(concatBytes(LEAF, t[1]));
    case 4:
      return t[1];
  }
}

/**
 * A path to reveal: labels from the root. The subtree at its end is revealed
 * in full; every label on the way is revealed. Where a label is missing, its
 * neighbours are revealed (with pruned contents) so the absence is provable.
 */
export type TreePath = ReadonlyArray<string | Uint8Array>;

interface Selection {
  /** Reveal this subtree entirely. */
  all: boolean;
  /** Labels (hex) to descend into. */
  next: Map<string, Selection>;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function select(paths: readonly TreePath[]): Selection {
  const root: Selection = { all: false, next: new Map() };
  for (const path of paths) {
    let s = root;
    for (const l of path) {
      if (s.all) break;
      const k = hex(label(l));
      let n = s.next.get(k);
      if (!n) s.next.set(k, (n = { all: false, next: new Map() }));
      s = n;
    }
    s.all = true;
    s.next.clear();
  }
  return root;
}

/** Wire tree of `t` revealing only `paths` (all of it when `paths` is omitted). */
export function toHashTree(t: LabeledTree, paths?: readonly TreePath[]): HashTree {
  return reveal(t, paths ? select(paths) : { all: true, next: new Map() });
}

/** Root hash of a labeled tree (equal to `reconstruct` of any of its pruned forms). */
export function rootHash(t: LabeledTree): Uint8Array {
  return treeHash(t);
}

// Hashes are memoized per tree object (leaves by their bytes object, nodes by
// node and fork range), so a certificate over a large, mostly unchanged state
// costs hashing what changed plus O(log n) per revealed label, not the whole
// state. Trees are treated as immutable once built.
const leafHashes = new WeakMap<Uint8Array, Uint8Array>();
const rangeHashes = new WeakMap<LabeledNode, Map<number, Uint8Array>>();
const EMPTY_HASH = sha256(EMPTY);

function treeHash(t: LabeledTree): Uint8Array {
  if (isLeaf(t)) {
    let h = leafHashes.get(t);
    if (!h) leafHashes.set(t, (h = sha256(concatBytes(LEAF, t))));
    return h;
  }
  return t.children.length === 0 ? EMPTY_HASH : rangeHash(t, 0, t.children.length);
}

function labeledHash(l: Uint8Array, sub: LabeledTree): Uint8Array {
  return sha256(concatBytes(LABELED, l, treeHash(sub)));
}

/** Children are joined into a balanced binary tree of forks: [lo, mid) left, [mid, hi) right, mid = lo + ceil(n/2). */
function rangeHash(t: LabeledNode, lo: number, hi: number): Uint8Array {
  let memo = rangeHashes.get(t);
  if (!memo) rangeHashes.set(t, (memo = new Map()));
  const key = lo * (t.children.length + 1) + hi;
  let h = memo.get(key);
  if (h) return h;
  if (hi - lo === 1) {
    const [l, sub] = t.children[lo];
    h = labeledHash(l, sub);
  } else {
    const mid = lo + Math.ceil((hi - lo) / 2);
    h = sha256(concatBytes(FORK, rangeHash(t, lo, mid), rangeHash(t, mid, hi)));
  }
  memo.set(key, h);
  return h;
}

const NOTHING: Selection = { all: false, next: new Map() };

function reveal(t: LabeledTree, s: Selection): HashTree {
  if (isLeaf(t)) return s.all ? [3, t] : [4, treeHash(t)];
  const kids = t.children;
  if (kids.length === 0) return [0];
  if (!s.all && s.next.size === 0) return [4, treeHash(t)];
  // Which children to show: selected ones, and for a selected label that is
  // absent, the children just below and above it (absence proof).
  const shown = new Map<number, Selection | 'neighbour'>();
  if (s.all) {
    kids.forEach((_, i) => shown.set(i, { all: true, next: new Map() }));
  } else {
    for (const [k, sub] of s.next) {
      const want = Buffer.from(k, 'hex');
      const i = lowerBound(kids, want);
      if (i < kids.length && compareBytes(kids[i][0], want) === 0) {
        shown.set(i, sub);
      } else {
        if (i > 0 && !shown.has(i - 1)) shown.set(i - 1, 'neighbour');
        if (i < kids.length && !shown.has(i)) shown.set(i, 'neighbour');
      }
    }
  }
  const marks = [...shown.keys()].sort((a, b) => a - b);
  const build = (lo: number, hi: number, from: number): HashTree => {
    // `from`: index into `marks` of the first shown child at or after lo.
    let m = from;
    while (m < marks.length && marks[m] < lo) m++;
    if (m >= marks.length || marks[m] >= hi) return [4, rangeHash(t, lo, hi)];
    if (hi - lo === 1) {
      const [l, sub] = kids[lo];
      const sel = shown.get(lo)!;
      return [2, l, reveal(sub, sel === 'neighbour' ? NOTHING : sel)];
    }
    const mid = lo + Math.ceil((hi - lo) / 2);
    return [1, build(lo, mid, m), build(mid, hi, m)];
  };
  return build(0, kids.length, 0);
}

function lowerBound(kids: LabeledNode['children'], want: Uint8Array): number {
  let lo = 0;
  let hi = kids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareBytes(kids[mid][0], want) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export type Lookup = { status: 'found'; value: Uint8Array } | { status: 'absent' } | { status: 'unknown' } | { status: 'error' };

/** Looks a path up in a wire tree (labels must be sorted, as produced here). */
export function lookupPath(t: HashTree, path: TreePath): Lookup {
  if (path.length === 0) {
    if (t[0] === 3) return { status: 'found', value: t[1] };
    if (t[0] === 4) return { status: 'unknown' };
    if (t[0] === 0) return { status: 'absent' };
    return { status: 'error' };
  }
  const r = findLabel(t, label(path[0]));
  if (r === 'unknown') return { status: 'unknown' };
  if (typeof r === 'string') return { status: 'absent' };
  return lookupPath(r, path.slice(1));
}

type Found = HashTree | 'absent' | 'unknown' | 'less' | 'greater';

// The spec's find_label over sorted labels: 'less'/'greater' say the target
// sorts before/after this subtree, so a pruned neighbour on the far side does
// not make an absent label unknown.
function findLabel(t: HashTree, want: Uint8Array): Found {
  switch (t[0]) {
    case 2: {
      const c = compareBytes(want, t[1]);
      return c === 0 ? t[2] : c < 0 ? 'less' : 'greater';
    }
    case 1: {
      const l = findLabel(t[1], want);
      if (l === 'greater' || l === 'unknown') {
        const r = findLabel(t[2], want);
        if (r === 'less') return l === 'greater' ? 'absent' : 'unknown';
        return r;
      }
      return l;
    }
    case 4:
      return 'unknown';
    default:
      return 'absent';
  }
}
