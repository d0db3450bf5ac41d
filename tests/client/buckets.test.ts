// The upload engine on the product's back end: the index canister creating
// buckets (one user each here), the client configured with the index only,
// the server finding each user's bucket through the index (sign-in and
// presence). Each user's upload lands in their own bucket; a client whose
// kept bucket is not theirs gets WrongBucket, asks the index again, and the
// upload completes in the right bucket.
import { createHash, randomBytes } from 'node:crypto';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idlFactory } from '../../src/declarations/forever/forever.did.js';
import { queueStoreBucketCache } from '../../src/lib/upload/adapters/bucket-index';
import { inlineHasher } from '../../src/lib/upload/adapters/hasher';
import type { QueueStore } from '../../src/lib/upload/adapters/queue-store';
import { createBrowserEngine } from '../../src/lib/upload/runtime/browser-engine';
import type { EngineConfig } from '../../src/lib/upload/runtime/engine';
import { enqueue } from '../../src/lib/upload/runtime/enqueue';
import { freshStore } from './support/engine-harness';
import { cookieFetch, signIn, startLocalStack, type LocalStack } from './support/local-stack';

const MiB = 1024 * 1024;
const FAST: Partial<EngineConfig> = { callRetry: { retries: 3, baseMs: 5, capMs: 20 }, itemBackoff: { baseMs: 50, capMs: 200, maxAttempts: 5 }, progressIntervalMs: 0 };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ index: { capacityUsers: 1 } });
}, 180_000);
afterAll(async () => stack?.close());

const service = idlFactory({ IDL }) as IDL.ServiceClass;
async function queryBucket<T>(bucket: string, principal: string, name: string, args: unknown[]): Promise<T> {
  const f = service._fields.find(([n]) => n === name)![1];
  const r = await stack.ic.query(Principal.fromText(bucket), name, new Uint8Array(IDL.encode(f.argTypes, args)), { caller: Principal.fromText(principal) });
  if (r.status !== 'replied') throw new Error(r.rejectMessage);
  return IDL.decode(f.retTypes, r.reply)[0] as T;
}

async function queryIndex<T>(name: string, argTypes: IDL.Type[], args: unknown[], ret: IDL.Type): Promise<T> {
  const r = await stack.ic.query(Principal.fromText(stack.indexId!), name, new Uint8Array(IDL.encode(argTypes, args)), { caller: stack.admin.getPrincipal() });
  if (r.status !== 'replied') throw new Error(r.rejectMessage);
  return IDL.decode([ret], r.reply)[0] as T;
}
const lookupBucket = async (p: string) =>
  (await queryIndex<[] | [Principal]>('lookup_bucket', [IDL.Principal], [Principal.fromText(p)], IDL.Opt(IDL.Principal)))[0]?.toText() ?? null;
const listBuckets = () => queryIndex<{ id: Principal; users: number }[]>('list_buckets', [], [], IDL.Vec(IDL.Record({ id: IDL.Principal, users: IDL.Nat32, bytes: IDL.Nat64 })));

async function storeOne(store: QueueStore, f: typeof fetch, name: string) {
  const bytes = randomBytes(MiB + 777);
  const item = await enqueue(store, { blob: new Blob([bytes], { type: 'image/jpeg' }), name });
  const report = await createBrowserEngine({ config: stack.config, store, hasher: inlineHasher, fetch: f, engineConfig: FAST }).drain();
  expect(report.recorded).toEqual([item.id]);
  const edges = ((await (await f(`${stack.origin}/api/storage/edges?memory_id=${item.id}`)).json()) as { edges: { artifact: string; backend: string; present: boolean }[] }).edges;
  // Present only after the server's verify_presence in the user's bucket (found through the index) confirmed them.
  expect(edges.filter((e) => e.backend === 'icp' && e.present).map((e) => e.artifact).sort()).toEqual(['asset', 'metadata']);
  return { id: item.id, bytes };
}

type MemoryResult = { Ok: { asset: [] | [{ sha256: Uint8Array }] } } | { Err: Record<string, unknown> };

describe('uploads through the index', () => {
  let first: { principal: string; bucket: string; id: string };
  let second: { principal: string; bucket: string };

  it("a newcomer is placed in a bucket the index creates; the upload and the server's checks go there", async () => {
    expect(stack.config.indexId).toBe(stack.indexId);
    expect(stack.config.canisterId).toBeUndefined();
    const principal = await signIn();
    const store = await freshStore();
    const { id, bytes } = await storeOne(store, cookieFetch(), 'first.jpg');
    const bucket = await lookupBucket(principal);
    expect(bucket).not.toBeNull();
    // The client kept the bucket it was given, per principal.
    expect(await queueStoreBucketCache(store).get(principal)).toBe(bucket);
    const m = await queryBucket<MemoryResult>(bucket!, principal, 'get_memory', [id]);
    expect('Ok' in m && Buffer.from(m.Ok.asset[0]!.sha256).toString('hex')).toBe(sha(bytes));
    first = { principal, bucket: bucket!, id };
  });

  it('a client whose kept bucket is not its own gets WrongBucket, asks the index again, and stores in its own bucket', async () => {
    const principal = await signIn();
    const store = await freshStore();
    // Kept from somewhere wrong: the first user's bucket, which does not take this principal.
    await queueStoreBucketCache(store).put(principal, first.bucket);
    const wrong = await queryBucket<{ Err?: Record<string, unknown> }>(first.bucket, principal, 'list_memories', [[], []]);
    expect(wrong.Err && 'WrongBucket' in wrong.Err).toBe(true);

    const { id, bytes } = await storeOne(store, cookieFetch(), 'second.jpg');
    const bucket = await lookupBucket(principal);
    expect(bucket).not.toBe(first.bucket);
    expect(await queueStoreBucketCache(store).get(principal)).toBe(bucket);
    const m = await queryBucket<MemoryResult>(bucket!, principal, 'get_memory', [id]);
    expect('Ok' in m && Buffer.from(m.Ok.asset[0]!.sha256).toString('hex')).toBe(sha(bytes));
    // Nothing of it reached the first user's bucket, and each bucket holds one user.
    const there = await queryBucket<{ Err?: Record<string, unknown> }>(first.bucket, principal, 'get_memory', [id]);
    expect(there.Err && 'WrongBucket' in there.Err).toBe(true);
    expect((await listBuckets()).map((b) => [b.id.toText(), b.users])).toEqual([
      [first.bucket, 1],
      [bucket, 1],
    ]);
    second = { principal, bucket: bucket! };
  });

  it("the server opens a session only for the principal whose bucket holds the proof: claiming another's principal gets nothing", async () => {
    const challenge = async () => ((await (await fetch(`${stack.origin}/api/auth/challenge`)).json()) as { nonce: string }).nonce;
    const verify = (body: unknown) => fetch(`${stack.origin}/api/auth/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const prove = async (bucket: string, principal: string, nonce: string) => {
      const f = service._fields.find(([n]) => n === 'prove_principal')![1];
      const r = await stack.ic.update(Principal.fromText(bucket), 'prove_principal', new Uint8Array(IDL.encode(f.argTypes, [nonce])), { caller: Principal.fromText(principal) });
      expect(r.status).toBe('replied');
    };
    // The second user proves a nonce in their own bucket, then claims to be the first user.
    const n1 = await challenge();
    await prove(second.bucket, second.principal, n1);
    const stolen = await verify({ nonce: n1, principal: first.principal });
    expect(stolen.status).toBe(401);
    expect(stolen.headers.get('set-cookie')).toBeNull();
    // Without a principal the server, which has an index, cannot know whose bucket to ask.
    const n2 = await challenge();
    await prove(second.bucket, second.principal, n2);
    expect((await verify({ nonce: n2 })).status).toBe(401);
    // Their own principal: signed in.
    const n3 = await challenge();
    await prove(second.bucket, second.principal, n3);
    const own = await verify({ nonce: n3, principal: second.principal });
    expect(own.status).toBe(200);
    expect(((await own.json()) as { principal: string }).principal).toBe(second.principal);
  });
});
