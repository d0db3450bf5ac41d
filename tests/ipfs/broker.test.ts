// The broker end to end on both engines: the store API's scenarios, the x402
// v2 protocol through the real @x402/hono middleware and the local
// facilitator (real EIP-712 signatures, a SQL ledger for the chain), the
// memory route, the executor's result and the gateway's bytes.
import { createHash } from 'node:crypto';
import { decodePaymentRequiredHeader, decodePaymentResponseHeader, decodePaymentSignatureHeader, encodePaymentSignatureHeader } from '@x402/core/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import type { Hex } from 'viem';
import { ENGINES } from '../server/support/database.js';
import { startTestServer, type TestServer } from '../server/support/server.js';
import type { IpfsService } from '../../server/ipfs/service.js';
import { appFetch, toRequest, newPayer, type Payer } from './support/payer.js';

type Json = Record<string, any>;
const BASE = 'http://forever.test';
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

describe.each(ENGINES)('IPFS broker on %s', (engine) => {
  let s: TestServer;
  let ipfs: IpfsService;
  let token: { network: string; asset: Hex };
  const fetchApp = () => appFetch(s.app as never);

  beforeAll(async () => {
    s = await startTestServer(engine, {
      ipfs: { rateLimit: { max: 40, windowMs: 60_000 }, clientAddress: (req) => req.headers.get('x-test-client') ?? 'tests' },
    });
    ipfs = s.deps.ipfs!;
    token = { network: ipfs.config.network, asset: ipfs.config.asset };
  });
  afterAll(async () => s?.close());

  const store = (body: unknown, f: typeof fetch = fetchApp(), headers: Record<string, string> = {}) =>
    f(`${BASE}/api/ipfs/store`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: JSON.stringify(body) });
  const job = async (id: string) => (await s.deps.db.selectFrom('ipfs_jobs' as never).selectAll().where('id' as never, '=', id as never).executeTakeFirstOrThrow()) as Json;
  async function fundedPayer(units = 1_000_000n): Promise<Payer> {
    const p = newPayer(fetchApp(), token);
    await ipfs.ledger!.mint(p.account.address, units);
    return p;
  }
  const balance = (a: string) => ipfs.ledger!.balanceOf(a);

  it('answers an unpaid store with 402, the v2 PAYMENT-REQUIRED header and the job (the four scenarios)', async () => {
    const scenarios = [
      { body: { data: '{"name": "Alice", "age": 30}', filename: 'user.json', options: { ttl: 3600 } }, endpoint: 'pin/json', price: 0.01, amount: '10000', size: 28 },
      { body: { data: '{"name": "Bob", "age": 25}', options: { ttl: 3600 } }, endpoint: 'pin/json', price: 0.01, amount: '10000', size: 26 },
      { body: { data: 'eyJuYW1lIjogIkNoYXJsaWUiLCAiYWdlIjogMzV9', encoding: 'base64', filename: 'data.json', options: { ttl: 3600 } }, endpoint: 'pin/json', price: 0.01, amount: '10000', size: 30 },
      { body: { data: 'SGVsbG8gV29ybGQ=', encoding: 'base64', filename: 'hello.txt', options: { ttl: 3600 } }, endpoint: 'pin/file', price: 0.001, amount: '1000', size: 11 },
    ];
    for (const sc of scenarios) {
      const r = await store(sc.body);
      expect(r.status).toBe(402);
      const b = (await r.json()) as Json;
      expect(b).toMatchObject({ provider: 'local', endpoint: sc.endpoint, price_usd: sc.price, file_size_bytes: sc.size, status: 'pending_payment' });
      const header = decodePaymentRequiredHeader(r.headers.get('PAYMENT-REQUIRED')!);
      expect(header.x402Version).toBe(2);
      expect(header.resource.url).toBe(`${BASE}/api/ipfs/store`);
      expect(header.accepts).toHaveLength(1);
      const a = header.accepts[0];
      expect(a).toMatchObject({ scheme: 'exact', network: 'eip155:31337', amount: sc.amount, maxTimeoutSeconds: 300, extra: { name: 'Forever Local USD', version: '1' } });
      expect(a.asset).toMatch(/^0x[0-9a-fA-F]{40}$/);
      expect(a.payTo).toMatch(/^0x[0-9a-fA-F]{40}$/);
      expect(b.payment.accepts).toEqual(header.accepts);
      expect((await job(b.jobId)).status).toBe('pending_payment');
      // The same request again joins the same unpaid job.
      expect(((await (await store(sc.body)).json()) as Json).jobId).toBe(b.jobId);
    }
    // Nothing unpaid reached the blob store.
    expect(await ipfs.blobStore.has(sha('{"name": "Alice", "age": 30}'))).toBe(false);
  });

  it('refuses a .json name with invalid content and a request without data, keeping the failed job', async () => {
    const bad = await store({ data: '{"name": oops', filename: 'broken.json' });
    expect(bad.status).toBe(400);
    const b = (await bad.json()) as Json;
    expect(b).toMatchObject({ status: 'failed', endpoint: 'pin/json', price_usd: 0.01, error: 'Invalid JSON content in fileInline' });
    expect(await job(b.jobId)).toMatchObject({ status: 'failed', error: 'Invalid JSON content in fileInline' });
    const missing = await store({ filename: 'x.txt', options: { permanent: true } });
    expect(missing.status).toBe(400);
    const m = (await missing.json()) as Json;
    expect(m).toMatchObject({ status: 'failed', endpoint: null, price_usd: null, error: 'Either fileInline or fileUrl is required' });
    expect((await job(m.jobId)).status).toBe('failed');
    // Malformed requests change nothing.
    const before = await s.deps.db.selectFrom('ipfs_jobs' as never).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect((await store({ data: 'x', encoding: 'base64' })).status).toBe(400);
    expect((await fetchApp()(`${BASE}/api/ipfs/store`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' })).status).toBe(400);
    expect((await store({ fileUrl: 'http://169.254.169.254/latest' })).status).toBe(400);
    const after = await s.deps.db.selectFrom('ipfs_jobs' as never).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('pays through @x402/fetch: 202 with PAYMENT-RESPONSE, the job paid, then pinned with bytes the gateway returns exactly', async () => {
    const payer = await fundedPayer();
    const payTo = ipfs.config.payTo;
    const payToBefore = await balance(payTo);
    const body = { data: 'eyJuYW1lIjogIkNoYXJsaWUiLCAiYWdlIjogMzV9', encoding: 'base64', filename: 'data.json' };
    const r = await store(body, payer.pay);
    expect(r.status).toBe(202);
    const receipt = decodePaymentResponseHeader(r.headers.get('PAYMENT-RESPONSE')!);
    expect(receipt).toMatchObject({ success: true, network: 'eip155:31337', payer: payer.account.address });
    expect(receipt.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    const b = (await r.json()) as Json;
    expect(b).toMatchObject({ status: 'paid', endpoint: 'pin/json', price_usd: 0.01 });
    expect(payer.signatures).toHaveLength(1);
    expect(await balance(payer.account.address)).toBe(990_000n);
    expect((await balance(payTo)) - payToBefore).toBe(10_000n);

    expect(await ipfs.executor.runOnce()).toBe(1);
    const done = (await (await fetchApp()(`${BASE}/api/ipfs/jobs/${b.jobId}`)).json()) as Json;
    const decoded = '{"name": "Charlie", "age": 35}';
    expect(done).toMatchObject({ status: 'completed', attempts: 1, error: null, result: { success: true, endpoint: '/pin/json', priceUsd: 0.01, profile: 'unixfs-v0-2015' } });
    expect(done.result.cid).toMatch(/^Qm/);
    expect(done.result.ipfsUrl).toBe(`/ipfs/${done.result.cid}`);
    const gw = await fetchApp()(`${BASE}/ipfs/${done.result.cid}`);
    expect(gw.status).toBe(200);
    expect(await gw.text()).toBe(decoded);
    expect(gw.headers.get('access-control-allow-origin')).toBe('*');
    // Paid again: the completed job answers without asking for money.
    const again = await store(body, payer.pay);
    expect(again.status).toBe(200);
    expect(payer.signatures).toHaveLength(1);
  });

  it('refuses a replayed payment, a tampered amount and an insufficient balance with 402, and pins nothing', async () => {
    const payer = await fundedPayer();
    const first = await store({ data: '{"replay": 1}' }, payer.pay);
    expect(first.status).toBe(202);
    const used = payer.signatures[0];
    const start = await balance(payer.account.address);

    // Replay: the same signature offered for another job at the same price.
    const other = await store({ data: '{"replay": 2}' }, fetchApp(), { 'payment-signature': used });
    expect(other.status).toBe(402);
    const ob = (await other.json()) as Json;
    expect(ob.error).toMatch(/nonce|simulation/);
    expect((await job(ob.jobId)).status).toBe('pending_payment');

    // Tampered: a valid signature for the right job, with the amount lowered afterwards.
    const unpaid = await store({ data: 'a file, not JSON', filename: 'note.txt' });
    const required = decodePaymentRequiredHeader(unpaid.headers.get('PAYMENT-REQUIRED')!);
    const payload = await payer.client.createPaymentPayload(required);
    const tampered = structuredClone(payload) as Json;
    tampered.accepted.amount = '1';
    tampered.payload.authorization.value = '1';
    const t = await store({ data: 'a file, not JSON', filename: 'note.txt' }, fetchApp(), { 'payment-signature': encodePaymentSignatureHeader(tampered as never) });
    expect(t.status).toBe(402);
    const onlyValue = structuredClone(payload) as Json;
    onlyValue.payload.authorization.value = '1';
    expect((await store({ data: 'a file, not JSON', filename: 'note.txt' }, fetchApp(), { 'payment-signature': encodePaymentSignatureHeader(onlyValue as never) })).status).toBe(402);
    const unpaidJob = ((await unpaid.json()) as Json).jobId;
    expect((await job(unpaidJob)).status).toBe('pending_payment');

    // Insufficient balance: a signer with nothing on the ledger.
    const broke = newPayer(fetchApp(), token);
    const poor = await store({ data: '{"poor": true}' }, broke.pay);
    expect(poor.status).toBe(402);
    const pb = (await poor.json()) as Json;
    expect(pb.error).toBe('invalid_exact_evm_insufficient_balance');
    expect((await job(pb.jobId)).status).toBe('pending_payment');

    expect(await balance(payer.account.address)).toBe(start);
    // Only the first, paid job is due.
    expect(await ipfs.executor.runOnce()).toBe(1);
    expect(await ipfs.executor.runOnce()).toBe(0);
    expect(decodePaymentSignatureHeader(used).payload).toHaveProperty('authorization');
  });

  it('a failed settlement leaves the job unpaid and pins nothing; a new payment then succeeds once', async () => {
    const payer = await fundedPayer();
    ipfs.ledgerFaults.failSettlements = 1;
    const r = await store({ data: '{"settle": "fails"}' }, payer.pay);
    expect(r.status).toBe(402);
    const b = (await r.json()) as Json;
    expect(r.headers.get('PAYMENT-RESPONSE')).toBeTruthy();
    expect(decodePaymentResponseHeader(r.headers.get('PAYMENT-RESPONSE')!).success).toBe(false);
    expect((await job(b.jobId)).status).toBe('pending_payment');
    expect(await ipfs.executor.runOnce()).toBe(0);
    expect(await balance(payer.account.address)).toBe(1_000_000n);
    const retry = await store({ data: '{"settle": "fails"}' }, payer.pay);
    expect(retry.status).toBe(202);
    expect(((await retry.json()) as Json).jobId).toBe(b.jobId);
    expect(await balance(payer.account.address)).toBe(990_000n);
    expect(await ipfs.executor.runOnce()).toBe(1);
  });

  it('lets a browser read and send the payment headers (CORS)', async () => {
    const pre = await fetchApp()(`${BASE}/api/ipfs/store`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, payment-signature' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('payment-signature');
    const r = await store({ data: '{"cors": 1}' }, fetchApp(), { origin: 'https://app.example' });
    expect(r.status).toBe(402);
    const exposed = r.headers.get('access-control-expose-headers')?.toLowerCase() ?? '';
    expect(exposed).toContain('payment-required');
    expect(exposed).toContain('payment-response');
  });

  it('rate-limits the store API per client address and bounds its body', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 41; i++) codes.push((await store({ data: `{"n": ${i}}` }, fetchApp(), { 'x-test-client': 'flood' })).status);
    expect(codes.slice(0, 40).every((c) => c === 402)).toBe(true);
    expect(codes[40]).toBe(429);
    expect((await store({ data: '{"n": 0}' }, fetchApp(), { 'x-test-client': 'someone-else' })).status).toBe(402);
    const huge = 'a'.repeat(Math.ceil((ipfs.config.maxInlineBytes * 4) / 3) + 70 * 1024);
    expect((await store({ data: huge }, fetchApp(), { 'x-test-client': 'big' })).status).toBe(413);
  });

  it('pins a memory from the blob copy for its owner only, as an ipfs storage edge', async () => {
    const cookie = await s.signIn(`ipfs-${uuidv7()}`);
    const me = (await (await s.request('/api/auth/me', { cookie })).json()) as Json;
    const memoryId = uuidv7();
    expect((await s.request(`/api/memories/${memoryId}`, { method: 'PUT', cookie, json: { memory_type: 'document', title: 'scan', metadata: { file_name: 'scan.bin' } } })).status).toBe(201);
    const jobsReq = (c?: string) => s.request('/api/ipfs/jobs', { method: 'POST', cookie: c, json: { memory_id: memoryId } });
    expect((await jobsReq()).status).toBe(401);
    expect((await jobsReq(cookie)).status).toBe(409);
    const bytes = new Uint8Array(300 * 1024).map((_, i) => (i * 31) % 251);
    const up = await s.request(`/api/upload_file?memory_id=${memoryId}`, { method: 'POST', cookie, body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect(up.status).toBe(201);
    // An ICP edge the pin must never touch.
    await s.deps.db
      .insertInto('storage_edges')
      .values({ user_id: me.user_id, memory_id: memoryId, artifact: 'asset', backend: 'icp', present: 1, location: null, content_hash: sha(bytes), size: bytes.byteLength, sync_state: 'idle', error: null, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' })
      .execute();

    const presence = async () => ({
      one: ((await (await s.request(`/api/memories/${memoryId}/presence`, { cookie })).json()) as Json),
      listed: ((await (await s.request('/api/memories?limit=50', { cookie })).json()) as Json).memories.find((m: Json) => m.id === memoryId).presence,
    });
    const before = await presence();
    for (const p of [before.one, before.listed]) expect(p).toMatchObject({ asset_icp: true, asset_ipfs: false, storage_status: { blob: true, ipfs: false } });

    const unpaid = await jobsReq(cookie);
    expect(unpaid.status).toBe(402);
    const u = (await unpaid.json()) as Json;
    expect(u).toMatchObject({ endpoint: 'pin/file', file_size_bytes: 300 * 1024, price_usd: 0.001 });

    const payer = await fundedPayer();
    const withCookie = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = toRequest(input, init);
      req.headers.set('cookie', cookie);
      return s.app.fetch(req);
    }) as typeof fetch;
    const paying = newPayer(withCookie, token, undefined);
    await ipfs.ledger!.mint(paying.account.address, 1_000_000n);
    const paid = await paying.pay(`${BASE}/api/ipfs/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ memory_id: memoryId }) });
    expect(paid.status).toBe(202);
    expect(((await paid.json()) as Json).jobId).toBe(u.jobId);
    expect(await ipfs.executor.runOnce()).toBe(1);

    const edges = await s.deps.db.selectFrom('storage_edges').selectAll().where('memory_id', '=', memoryId).orderBy('backend').execute();
    expect(edges.map((e) => [e.backend, e.present])).toEqual([['blob', 1], ['icp', 1], ['ipfs', 1]]);
    const icp = edges.find((e) => e.backend === 'icp')!;
    expect(icp.updated_at).toBe('2026-01-01T00:00:00.000Z');
    const ipfsEdge = edges.find((e) => e.backend === 'ipfs')!;
    const list = (await (await s.request(`/api/ipfs/jobs?memory_id=${memoryId}`, { cookie })).json()) as Json;
    expect(list.jobs[0]).toMatchObject({ status: 'completed', memory_id: memoryId, filename: 'scan.bin' });
    const cid = list.jobs[0].result.cid;
    expect(ipfsEdge).toMatchObject({ location: `ipfs://${cid}`, content_hash: sha(bytes), sync_state: 'idle' });
    // Presence reports the pin beside the other backends, and the ICP status is unchanged.
    const after = await presence();
    for (const p of [after.one, after.listed]) expect(p).toMatchObject({ asset_icp: true, asset_ipfs: true, storage_status: { blob: true, ipfs: true }, overall_status: before.one.overall_status });
    const gw = await fetchApp()(`${BASE}/ipfs/${cid}`);
    expect(sha(new Uint8Array(await gw.arrayBuffer()))).toBe(sha(bytes));

    // Clients cannot write ipfs edges: only a pin makes one.
    const forged = await s.request('/api/storage/edges', { method: 'PUT', cookie, json: { edges: [{ memory_id: memoryId, artifact: 'asset', backend: 'ipfs', present: true, location: 'ipfs://forged' }] } });
    expect(forged.status).toBe(400);
    expect((await s.deps.db.selectFrom('storage_edges').select('location').where('memory_id', '=', memoryId).where('backend', '=', 'ipfs').executeTakeFirstOrThrow()).location).toBe(`ipfs://${cid}`);
    const filtered = (await (await s.request(`/api/storage/edges?memory_id=${memoryId}&backend=ipfs`, { cookie })).json()) as Json;
    expect(JSON.stringify(filtered)).toContain(`ipfs://${cid}`);

    // Another user learns nothing of the job; the gateway serves only pinned CIDs.
    const stranger = await s.signIn(`ipfs-${uuidv7()}`);
    expect((await s.request(`/api/ipfs/jobs/${u.jobId}`, { cookie: stranger })).status).toBe(404);
    expect((await s.request(`/api/ipfs/jobs/${u.jobId}`, { cookie })).status).toBe(200);
    expect((await fetchApp()(`${BASE}/ipfs/bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e`)).status).toBe(404);
    expect((await fetchApp()(`${BASE}/ipfs/not-a-cid`)).status).toBe(400);
    void payer;
  });
});
