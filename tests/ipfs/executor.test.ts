// The executor against the pinning services' stand-ins: attempts and their
// schedule (the sleeper is injected, so the 1 s and 2 s waits are asserted,
// not waited), the same payment signature on every retry, one debit, the
// result or the error on the job and the memory's ipfs edge, and nothing
// else of the memory touched.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { generatePrivateKey } from 'viem/accounts';
import type { Hex } from 'viem';
import { resolveIpfsConfig } from '../../server/ipfs/config.js';
import { IpfsExecutor } from '../../server/ipfs/executor.js';
import { LocalPinner } from '../../server/ipfs/local-pinner.js';
import type { Pinner } from '../../server/ipfs/pinner.js';
import { createProviderPinner } from '../../server/ipfs/providers/index.js';
import { OpenX402Pinner } from '../../server/ipfs/providers/openx402.js';
import { PinataPinner } from '../../server/ipfs/providers/pinata.js';
import { X402Payer } from '../../server/ipfs/providers/x402-payer.js';
import { uploadToStorage, X402StoragePinner } from '../../server/ipfs/providers/x402-storage.js';
import type { IpfsService } from '../../server/ipfs/service.js';
import { discardBlocks, importFile } from '../../server/ipfs/unixfs.js';
import { ENGINES } from '../server/support/database.js';
import { startTestServer, type TestServer } from '../server/support/server.js';
import { appFetch, toRequest, newPayer } from './support/payer.js';
import { startPaidProvider, startPinata, type StandIn } from './support/providers.js';

type Json = Record<string, any>;
const BASE = 'http://forever.test';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const v0Cid = async (b: Uint8Array) => (await importFile(b, 'unixfs-v0-2015', discardBlocks)).toString();

describe.each(ENGINES)('IPFS executor on %s', (engine) => {
  let s: TestServer;
  let ipfs: IpfsService;
  let openx402: StandIn;
  let storage: StandIn;
  let pinata: StandIn;
  const walletKey = generatePrivateKey();
  let wallet: X402Payer;
  let events: string[];
  const sleep = async (ms: number) => {
    events.push(`sleep ${ms}`);
  };

  beforeAll(async () => {
    s = await startTestServer(engine);
    ipfs = s.deps.ipfs!;
    openx402 = await startPaidProvider('openx402', ipfs);
    storage = await startPaidProvider('x402storage', ipfs);
    pinata = await startPinata('good-jwt');
    wallet = new X402Payer(walletKey, { network: ipfs.config.network, asset: ipfs.config.asset });
    await ipfs.ledger!.mint(wallet.address, 1_000_000n);
  });
  afterAll(async () => {
    await Promise.all([openx402?.close(), storage?.close(), pinata?.close()]);
    await s?.close();
  });

  const executorWith = (pinner: Pinner) => {
    events = [];
    return new IpfsExecutor({ db: ipfs.db, engine: s.deps.engine, blobStore: ipfs.blobStore, pinner, now: s.deps.now, logger: s.deps.logger, sleep, retryDelaysMs: [1000, 2000] });
  };
  // Counts the stand-in's answers into the same timeline as the sleeper.
  const tracked = (standIn: StandIn): typeof fetch =>
    (async (input: RequestInfo | URL, init?: RequestInit) => {
      const r = await fetch(input, init);
      events.push(`call ${new URL(toRequest(input).url).pathname} ${r.status}`);
      return r;
    }) as typeof fetch;
  const job = async (id: string) => (await ipfs.db.selectFrom('ipfs_jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow()) as Json;

  /** A user's memory with a blob copy and an ICP edge, paid for pinning through the broker. */
  async function paidMemoryJob(bytes: Uint8Array) {
    const cookie = await s.signIn(`exec-${uuidv7()}`);
    const me = (await (await s.request('/api/auth/me', { cookie })).json()) as Json;
    const memoryId = uuidv7();
    await s.request(`/api/memories/${memoryId}`, { method: 'PUT', cookie, json: { memory_type: 'document', metadata: { file_name: 'doc.bin' } } });
    await s.request(`/api/upload_file?memory_id=${memoryId}`, { method: 'POST', cookie, body: bytes as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/octet-stream' } });
    await s.deps.db
      .insertInto('storage_edges')
      .values({ user_id: me.user_id, memory_id: memoryId, artifact: 'asset', backend: 'icp', present: 1, location: null, content_hash: sha(bytes), size: bytes.byteLength, sync_state: 'idle', error: null, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' })
      .execute();
    const withCookie = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = toRequest(input, init);
      req.headers.set('cookie', cookie);
      return s.app.fetch(req);
    }) as typeof fetch;
    const user = newPayer(withCookie, { network: ipfs.config.network, asset: ipfs.config.asset });
    await ipfs.ledger!.mint(user.account.address, 1_000_000n);
    const r = await user.pay(`${BASE}/api/ipfs/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ memory_id: memoryId }) });
    expect(r.status).toBe(202);
    const b = (await r.json()) as Json;
    return { jobId: b.jobId as string, memoryId, userId: me.user_id as string, payer: user.account.address as Hex, price: BigInt(b.amount) };
  }
  async function paidInlineJob(data: string, filename: string) {
    const user = newPayer(appFetch(s.app as never), { network: ipfs.config.network, asset: ipfs.config.asset });
    await ipfs.ledger!.mint(user.account.address, 1_000_000n);
    const r = await user.pay(`${BASE}/api/ipfs/store`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ data, filename }) });
    expect(r.status).toBe(202);
    return ((await r.json()) as Json).jobId as string;
  }

  it('a provider down: exactly three calls, 1 s and then 2 s apart, the error kept, one debit, the ICP and blob state untouched', async () => {
    const bytes = new Uint8Array(5000).map((_, i) => i % 256);
    const { jobId, memoryId, userId, payer, price } = await paidMemoryJob(bytes);
    openx402.mode = 'down';
    const before = await s.deps.db.selectFrom('storage_edges').selectAll().where('memory_id', '=', memoryId).where('backend', 'in', ['icp', 'blob']).orderBy('backend').execute();
    const ex = executorWith(new OpenX402Pinner(openx402.url, wallet, tracked(openx402)));
    expect(await ex.runOnce()).toBe(1);
    expect(events).toEqual(['call /pin/file 503', 'sleep 1000', 'call /pin/file 503', 'sleep 2000', 'call /pin/file 503']);
    const j = await job(jobId);
    expect(j).toMatchObject({ status: 'failed', attempts: 3, provider_payment: null });
    expect(j.error).toMatch(/^openx402 answered 503/);
    // The user paid the broker once; the server's wallet never paid the provider.
    expect((await ipfs.ledger!.transfersFrom(payer)).map((t) => t.value)).toEqual([price]);
    expect(await ipfs.ledger!.transfersFrom(wallet.address)).toEqual([]);
    const after = await s.deps.db.selectFrom('storage_edges').selectAll().where('memory_id', '=', memoryId).where('backend', 'in', ['icp', 'blob']).orderBy('backend').execute();
    expect(after).toEqual(before);
    const edge = await s.deps.db.selectFrom('storage_edges').selectAll().where('user_id', '=', userId).where('memory_id', '=', memoryId).where('backend', '=', 'ipfs').executeTakeFirstOrThrow();
    expect(edge).toMatchObject({ present: 0, sync_state: 'failed', location: null });
    expect(edge.error).toBe(j.error);
    expect(await ex.runOnce()).toBe(0);
  });

  it('a retry resends the same PAYMENT-SIGNATURE: the provider settles once, and the CID is of the exact bytes', async () => {
    const text = 'plain text, pinned as a file';
    const jobId = await paidInlineJob(text, 'note.txt');
    openx402.mode = 'flaky';
    openx402.calls.length = 0;
    const walletBefore = await ipfs.ledger!.balanceOf(wallet.address);
    const ex = executorWith(new OpenX402Pinner(openx402.url, wallet, tracked(openx402)));
    expect(await ex.runOnce()).toBe(1);
    expect(events).toEqual(['call /pin/file 402', 'call /pin/file 502', 'sleep 1000', 'call /pin/file 200']);
    const [probe, first, second] = openx402.calls;
    expect(probe.signature).toBeNull();
    expect(first.signature).toBeTruthy();
    expect(second.signature).toBe(first.signature);
    const j = await job(jobId);
    expect(j).toMatchObject({ status: 'completed', attempts: 2, error: null, provider_payment: first.signature });
    expect(j.cid).toBe(await v0Cid(new TextEncoder().encode(text)));
    expect(j.gateway_url).toBe(`https://gateway.example/ipfs/${j.cid}`);
    expect(walletBefore - (await ipfs.ledger!.balanceOf(wallet.address))).toBe(500n);
    expect(await ipfs.ledger!.transfersFrom(wallet.address)).toHaveLength(1);
    openx402.mode = 'ok';
  });

  it('OpenX402 takes JSON as the body of /pin/json', async () => {
    const jobId = await paidInlineJob('{"kind": "json"}', 'data.json');
    const ex = executorWith(new OpenX402Pinner(openx402.url, wallet, tracked(openx402)));
    expect(await ex.runOnce()).toBe(1);
    expect(events).toEqual(['call /pin/json 402', 'call /pin/json 200']);
    expect((await job(jobId)).cid).toBe(await v0Cid(new TextEncoder().encode('{"kind": "json"}')));
  });

  it('the x402.storage client: fire-and-forget, three tries 1 s and 2 s apart, a result it never throws', async () => {
    const bytes = new TextEncoder().encode('output of a finished job');
    const signed: string[] = [];
    const o = { baseUrl: storage.url, payer: wallet, delaysMs: [1000, 2000], sleep, fetch: tracked(storage) };
    events = [];
    storage.mode = 'down';
    const down = await uploadToStorage(bytes, 'out.txt', { signature: null, onSigned: async (x) => void signed.push(x) }, o);
    expect(down).toEqual({ success: false, url: null, cid: null, filename: 'out.txt', error: expect.stringMatching(/^x402.storage answered 503/) });
    expect(events).toEqual(['call /store 503', 'sleep 1000', 'call /store 503', 'sleep 2000', 'call /store 503']);
    expect(signed).toEqual([]);

    storage.mode = 'ok';
    events = [];
    const ok = await uploadToStorage(bytes, 'out.txt', { signature: null, onSigned: async (x) => void signed.push(x) }, o);
    const cid = await v0Cid(bytes);
    expect(ok).toEqual({ success: true, url: `https://x402.storage.example/ipfs/${cid}`, cid, filename: 'out.txt', error: null });
    expect(events).toEqual(['call /store 402', 'call /store 200']);
    expect(signed).toHaveLength(1);

    // As the executor's pinner for that provider.
    const jobId = await paidInlineJob('a report', 'report.txt');
    const ex = executorWith(new X402StoragePinner(o));
    expect(await ex.runOnce()).toBe(1);
    expect(await job(jobId)).toMatchObject({ status: 'completed', cid: await v0Cid(new TextEncoder().encode('a report')) });
  });

  it('Pinata with its JWT; a refused credential fails at once without retrying', async () => {
    const jobId = await paidInlineJob('for pinata', 'p.txt');
    const ex = executorWith(new PinataPinner({ url: pinata.url, jwt: 'good-jwt', profile: 'unixfs-v0-2015' }, tracked(pinata)));
    expect(await ex.runOnce()).toBe(1);
    const local = await new LocalPinner(ipfs.blobStore, { profile: 'unixfs-v0-2015', gatewayBase: '' }).add(new TextEncoder().encode('for pinata'));
    expect(await job(jobId)).toMatchObject({ status: 'completed', cid: local, gateway_url: `https://gateway.pinata.cloud/ipfs/${local}` });

    const refused = await paidInlineJob('refused', 'r.txt');
    const bad = executorWith(new PinataPinner({ url: pinata.url, jwt: 'wrong', profile: 'unixfs-v0-2015' }, tracked(pinata)));
    expect(await bad.runOnce()).toBe(1);
    expect(events).toEqual(['call /pinning/pinFileToIPFS 401']);
    expect(await job(refused)).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('the provider is chosen by configuration', () => {
    const key = walletKey;
    expect(createProviderPinner(resolveIpfsConfig({ provider: 'openx402', providers: { openx402: { url: 'http://x' } }, providerWalletKey: key }))).toBeInstanceOf(OpenX402Pinner);
    expect(createProviderPinner(resolveIpfsConfig({ provider: 'x402storage', providers: { x402storage: { url: 'http://x' } }, providerWalletKey: key }))).toBeInstanceOf(X402StoragePinner);
    expect(createProviderPinner(resolveIpfsConfig({ provider: 'pinata', providers: { pinata: { url: 'http://x', jwt: 'j' } } }))).toBeInstanceOf(PinataPinner);
    expect(() => resolveIpfsConfig({ provider: 'openx402', providers: { openx402: { url: 'http://x' } } })).toThrow(/wallet key/);
    expect(() => resolveIpfsConfig({ network: 'eip155:8453' })).toThrow(/facilitator URL/);
  });
});
