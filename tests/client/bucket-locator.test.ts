// Finding the user's bucket (src/lib/upload/adapters/bucket-locator.ts,
// certified-bucket.ts, bucket-index.ts): the index's certified answer is
// verified with @dfinity/agent's Certificate against the root key (here the
// local IC's own certificate code signs it, as it signs data certificates for
// canisters), kept per principal in the queue's IndexedDB, asked again when a
// bucket answers WrongBucket, and a newcomer is placed with assign_bucket.
import { lebEncode } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { describe, expect, it } from 'vitest';
import { encodeCbor } from '../../canister/local/http/cbor';
import { certify } from '../../canister/local/http/certified-state';
import { label, node, rootHash, toHashTree, type LabeledTree } from '../../canister/local/http/hash-tree';
import { loadOrCreateKeys, type IcKeys } from '../../canister/local/http/keys';
import { BucketLocator, BucketUnavailableError, IndexBusyError, routedActor, type BucketIndex } from '../../src/lib/upload/adapters/bucket-locator';
import { queueStoreBucketCache } from '../../src/lib/upload/adapters/bucket-index';
import { UncertifiedBucketError, verifyCertifiedBucket } from '../../src/lib/upload/adapters/certified-bucket';
import { freshStore } from './support/engine-harness';

const INDEX = Principal.fromText('bkyz2-fmaaa-aaaaa-qaaaq-cai');
const BUCKET_A = Principal.fromText('bd3sg-teaaa-aaaaa-qaaba-cai');
const BUCKET_B = Principal.fromText('be2us-64aaa-aaaaa-qaabq-cai');
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/** What the index answers: a certificate over its certified data (the root of `assignments`) and the tree pruned to `caller`. */
function indexAnswer(keys: IcKeys, assignments: Array<[Principal, Principal]>, caller: Principal, opts: { certifiedData?: Uint8Array; timeNs?: bigint } = {}) {
  const tree: LabeledTree = node([['bucket', node(assignments.map(([user, bucket]) => [user.toUint8Array(), bucket.toUint8Array()] as const))]]);
  const state = node([
    ['canister', node([[INDEX.toUint8Array(), node([['certified_data', opts.certifiedData ?? rootHash(tree)]])]])],
    ['time', lebEncode(opts.timeNs ?? nowNs())],
  ]);
  const certificate = certify(keys, state, [[label('canister'), INDEX.toUint8Array(), label('certified_data')]]);
  return { certificate, tree: encodeCbor(toHashTree(tree, [[label('bucket'), caller.toUint8Array()]])) };
}

describe('the certified answer of the index', () => {
  const keys = loadOrCreateKeys();
  const alice = Ed25519KeyIdentity.generate().getPrincipal();
  const bob = Ed25519KeyIdentity.generate().getPrincipal();
  const verify = (a: { certificate: Uint8Array; tree: Uint8Array }, principal = alice, rootKey = keys.rootKeyDer) =>
    verifyCertifiedBucket({ ...a, indexId: INDEX.toText(), principal: principal.toText(), rootKey });

  it('names the bucket the certified tree holds for the caller, and proves a newcomer has none', async () => {
    const assignments: Array<[Principal, Principal]> = [
      [alice, BUCKET_A],
      [bob, BUCKET_B],
    ];
    expect(await verify(indexAnswer(keys, assignments, alice))).toBe(BUCKET_A.toText());
    expect(await verify(indexAnswer(keys, assignments, bob), bob)).toBe(BUCKET_B.toText());
    const carol = Ed25519KeyIdentity.generate().getPrincipal();
    expect(await verify(indexAnswer(keys, assignments, carol), carol)).toBeNull();
  });

  it('refuses a tree that is not the certified one, a certificate of another root key and a stale one; a tree that hides the caller names no bucket', async () => {
    const genuine = indexAnswer(keys, [[alice, BUCKET_A]], alice);
    // A replica that swaps in its own tree (alice → B): its root is not the certified data.
    const forgedTree = indexAnswer(keys, [[alice, BUCKET_B]], alice).tree;
    await expect(verify({ certificate: genuine.certificate, tree: forgedTree })).rejects.toThrow(UncertifiedBucketError);
    await expect(verify({ certificate: genuine.certificate, tree: forgedTree })).rejects.toThrow(/root hash is not the index's certified data/);
    // Signed by another key.
    const other = loadOrCreateKeys();
    await expect(verify(indexAnswer(other, [[alice, BUCKET_B]], alice))).rejects.toThrow(UncertifiedBucketError);
    // Certified an hour ago.
    await expect(verify(indexAnswer(keys, [[alice, BUCKET_A]], alice, { timeNs: nowNs() - 3600n * 1_000_000_000n }))).rejects.toThrow(UncertifiedBucketError);
    // A tree pruned to bob's entry never gives alice a bucket: "none", on which the
    // locator asks assign_bucket, an update answered through consensus.
    expect(await verify(indexAnswer(keys, [[alice, BUCKET_A], [bob, BUCKET_B]], bob))).toBeNull();
    // Not CBOR at all.
    await expect(verify({ certificate: genuine.certificate, tree: new Uint8Array([0xff, 1]) })).rejects.toThrow(UncertifiedBucketError);
  });
});

/** An index as the locator sees it, counting questions. */
function countingIndex(opts: { certified: () => string | null; assign?: () => string; busyTimes?: number }) {
  const calls = { certified: 0, assign: 0 };
  let busy = opts.busyTimes ?? 0;
  const index: BucketIndex = {
    async certifiedBucket() {
      calls.certified++;
      return opts.certified();
    },
    async assignBucket() {
      calls.assign++;
      if (busy-- > 0) throw new IndexBusyError();
      return opts.assign!();
    },
  };
  return { index, calls };
}

describe('the bucket locator', () => {
  const noSleep = async () => undefined;

  it('asks the index once per principal and keeps the answer in IndexedDB, for every context of the origin', async () => {
    const store = await freshStore();
    const { index, calls } = countingIndex({ certified: () => BUCKET_A.toText() });
    const page = new BucketLocator({ cache: queueStoreBucketCache(store), sleep: noSleep });
    // Concurrent first calls share one question.
    expect(await Promise.all([page.locate('alice', index), page.locate('alice', index), page.locate('alice', index)])).toEqual(Array(3).fill(BUCKET_A.toText()));
    expect(calls).toEqual({ certified: 1, assign: 0 });
    // A second locator over the same database (the service worker, a later tab) asks nobody.
    const worker = new BucketLocator({ cache: queueStoreBucketCache(store), sleep: noSleep });
    expect(await worker.locate('alice', index)).toBe(BUCKET_A.toText());
    expect(calls.certified).toBe(1);
    // Another principal is asked for itself.
    await worker.locate('bob', index);
    expect(calls.certified).toBe(2);
  });

  it('places a newcomer with assign_bucket, waiting while the index answers Busy', async () => {
    const store = await freshStore();
    const { index, calls } = countingIndex({ certified: () => null, assign: () => BUCKET_B.toText(), busyTimes: 2 });
    const waits: number[] = [];
    const locator = new BucketLocator({ cache: queueStoreBucketCache(store), sleep: async (ms) => void waits.push(ms) });
    expect(await locator.locate('carol', index)).toBe(BUCKET_B.toText());
    expect(calls).toEqual({ certified: 1, assign: 3 });
    expect(waits).toEqual([500, 1000]);
    // Busy for longer than the attempts: a retryable error, nothing cached.
    const always = countingIndex({ certified: () => null, assign: () => 'x', busyTimes: 100 });
    const l2 = new BucketLocator({ cache: queueStoreBucketCache(store), sleep: noSleep, busyAttempts: 3 });
    await expect(l2.locate('dave', always.index)).rejects.toThrow(BucketUnavailableError);
    expect(always.calls.assign).toBe(3);
    expect(await queueStoreBucketCache(store).get('dave')).toBeUndefined();
  });

  it('on WrongBucket forgets the kept bucket and asks the index again; a bucket the index still names is not taken again', async () => {
    const store = await freshStore();
    let where = BUCKET_A.toText();
    const { index, calls } = countingIndex({ certified: () => where });
    const cache = queueStoreBucketCache(store);
    const locator = new BucketLocator({ cache, sleep: noSleep });
    expect(await locator.locate('alice', index)).toBe(BUCKET_A.toText());
    where = BUCKET_B.toText(); // the operator moved alice
    expect(await locator.locate('alice', index)).toBe(BUCKET_A.toText()); // kept: not asked
    expect(await locator.relocate('alice', BUCKET_A.toText(), index)).toBe(BUCKET_B.toText());
    expect(await cache.get('alice')).toBe(BUCKET_B.toText());
    expect(calls.certified).toBe(2);
    // B says WrongBucket too, but the index still names B (the move is switching right now): retry later.
    await expect(locator.relocate('alice', BUCKET_B.toText(), index)).rejects.toThrow(BucketUnavailableError);
    expect(await cache.get('alice')).toBeUndefined();
  });
});

describe('routedActor', () => {
  const service: IDL.InterfaceFactory = ({ IDL }) =>
    IDL.Service({ get_usage: IDL.Func([], [IDL.Nat], ['query']), put: IDL.Func([IDL.Text], [IDL.Nat], []) });
  type Svc = { get_usage(): Promise<unknown>; put(s: string): Promise<unknown> };

  it('calls the located bucket; a WrongBucket answer re-locates and repeats the call once on the new bucket', async () => {
    const seen: string[] = [];
    const answers: Record<string, (method: string) => unknown> = {
      A: () => ({ Err: { WrongBucket: null } }),
      B: (m) => ({ Ok: `${m} from B` }),
    };
    let located = 'A';
    const relocations: string[] = [];
    const actor = routedActor<Svc>(service, {
      locate: async () => located,
      relocate: async (wrong) => {
        relocations.push(wrong);
        located = 'B';
        return 'B';
      },
      create: async (bucket) => ({
        get_usage: async () => (seen.push(`${bucket}.get_usage`), answers[bucket]('get_usage')),
        put: async (s: string) => (seen.push(`${bucket}.put(${s})`), answers[bucket]('put')),
      }),
    });
    // Not a thenable: awaiting it gives the actor itself.
    expect(await Promise.resolve(actor)).toBe(actor);
    expect(await actor.put('x')).toEqual({ Ok: 'put from B' });
    expect(seen).toEqual(['A.put(x)', 'B.put(x)']);
    expect(relocations).toEqual(['A']);
    expect(actor.bucketId()).toBe('B');
    expect(await actor.get_usage()).toEqual({ Ok: 'get_usage from B' });
    expect(seen.slice(2)).toEqual(['B.get_usage']);
    // A second WrongBucket in a row is passed on (the engine retries the item later), never looped.
    answers.B = () => ({ Err: { WrongBucket: null } });
    located = 'A';
    expect(await actor.get_usage()).toEqual({ Err: { WrongBucket: null } });
  });
});
