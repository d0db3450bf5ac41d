// The index's assignment tree (canister/src/index-canister/assignment-tree.ts)
// checked with agent-js's own hash-tree code: its CBOR decoder reads the
// witness, its reconstruct() gives the root the index certifies, and its
// lookup_path finds the caller's bucket; updates touch a group and 16 fork
// nodes, whatever the number of users.
import { Cbor, lookup_path, LookupPathStatus, reconstruct, type HashTree as AgentTree } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';
import { describe, expect, it } from 'vitest';
import { decodeGroup, DEPTH, encodeGroup, rootHash, setEntry, type TreeStore, witness } from '../../canister/src/index-canister/assignment-tree';
import { encodeCbor } from '../../canister/src/index-canister/hash-tree';

function memoryStore(): TreeStore & { writes: number } {
  const groups = new Map<number, Uint8Array>();
  const nodes = new Map<number, Uint8Array>();
  const s = {
    writes: 0,
    getGroup: (g: number) => decodeGroup(groups.get(g)),
    setGroup: (g: number, e: Array<[Uint8Array, Uint8Array]>) => {
      s.writes++;
      if (e.length) groups.set(g, encodeGroup(e));
      else groups.delete(g);
    },
    getNode: (n: number) => nodes.get(n),
    setNode: (n: number, h: Uint8Array | undefined) => {
      s.writes++;
      if (h) nodes.set(n, h);
      else nodes.delete(n);
    },
  };
  return s;
}

/** Pseudo-random 29-byte self-authenticating principals. */
function user(i: number): Principal {
  const b = new Uint8Array(29);
  let x = (i + 1) * 2654435761;
  for (let k = 0; k < 28; k++) {
    x = (x ^ (x << 13) ^ (x >>> 7)) >>> 0;
    b[k] = x & 0xff;
  }
  b[28] = 0x02;
  return Principal.fromUint8Array(b);
}
const bucketA = Principal.fromText('bkyz2-fmaaa-aaaaa-qaaaq-cai');
const bucketB = Principal.fromText('bd3sg-teaaa-aaaaa-qaaba-cai');

async function check(store: TreeStore, p: Principal): Promise<{ status: LookupPathStatus; value?: Uint8Array }> {
  const w = witness(store, p.toUint8Array());
  const tree = Cbor.decode<AgentTree>(encodeCbor(w.tree));
  expect(Buffer.from(await reconstruct(tree)).toString('hex')).toBe(Buffer.from(rootHash(store)).toString('hex'));
  const r = lookup_path(['bucket', p.toUint8Array()], tree);
  return r.status === LookupPathStatus.Found ? { status: r.status, value: r.value as Uint8Array } : { status: r.status };
}

describe('the assignment tree', () => {
  it('leads each caller to its bucket, proves the others neither way, and changes with each assignment', async () => {
    const store = memoryStore();
    const users = Array.from({ length: 300 }, (_, i) => user(i));
    // Two users in the same group too (same first two bytes).
    const twin = Principal.fromUint8Array(Uint8Array.from([...users[0].toUint8Array().slice(0, 2), ...new Uint8Array(26).fill(7), 2]));
    users.push(twin);
    const roots = new Set<string>();
    for (const [i, u] of users.entries()) {
      roots.add(Buffer.from(setEntry(store, u.toUint8Array(), (i % 2 ? bucketB : bucketA).toUint8Array())).toString('hex'));
    }
    expect(roots.size).toBe(users.length);
    for (const [i, u] of users.entries()) {
      const r = await check(store, u);
      expect(r.status).toBe(LookupPathStatus.Found);
      expect(Principal.fromUint8Array(r.value!).toText()).toBe((i % 2 ? bucketB : bucketA).toText());
    }
    // A stranger: never found; the witness names nobody else.
    const stranger = user(100_000);
    expect((await check(store, stranger)).status).not.toBe(LookupPathStatus.Found);
    const w = encodeCbor(witness(store, users[5].toUint8Array()).tree);
    expect(Buffer.from(w).includes(Buffer.from(users[6].toUint8Array()))).toBe(false);
    // Moved, then removed.
    setEntry(store, users[0].toUint8Array(), bucketB.toUint8Array());
    expect(Principal.fromUint8Array((await check(store, users[0])).value!).toText()).toBe(bucketB.toText());
    expect(Principal.fromUint8Array((await check(store, twin)).value!).toText()).toBe(bucketA.toText());
    setEntry(store, users[0].toUint8Array(), undefined);
    expect((await check(store, users[0])).status).not.toBe(LookupPathStatus.Found);
  });

  it('an assignment writes one group and the fork nodes above it, not O(users)', () => {
    const store = memoryStore();
    for (let i = 0; i < 2000; i++) setEntry(store, user(i).toUint8Array(), bucketA.toUint8Array());
    store.writes = 0;
    setEntry(store, user(5000).toUint8Array(), bucketA.toUint8Array());
    expect(store.writes).toBe(1 + 1 + DEPTH);
  });

  it('a tampered witness does not reconstruct to the certified root', async () => {
    const store = memoryStore();
    setEntry(store, user(1).toUint8Array(), bucketA.toUint8Array());
    setEntry(store, user(2).toUint8Array(), bucketA.toUint8Array());
    const w = witness(store, user(1).toUint8Array()).tree;
    const tampered = JSON.parse(JSON.stringify(w, (_k, v) => (v instanceof Uint8Array ? { b: [...v] } : v)), (_k, v) =>
      v && typeof v === 'object' && 'b' in v ? Uint8Array.from(v.b) : v,
    );
    const text = (t: unknown): string => JSON.stringify(t, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
    const leafPath = text(tampered).replace(Buffer.from(bucketA.toUint8Array()).toString('hex'), Buffer.from(bucketB.toUint8Array()).toString('hex'));
    expect(leafPath).not.toBe(text(tampered));
    const forged = JSON.parse(leafPath, (_k, v) => (typeof v === 'string' && /^[0-9a-f]+$/.test(v) ? Uint8Array.from(Buffer.from(v, 'hex')) : v));
    const tree = Cbor.decode<AgentTree>(encodeCbor(forged));
    expect(Buffer.from(await reconstruct(tree)).toString('hex')).not.toBe(Buffer.from(rootHash(store)).toString('hex'));
  });
});
