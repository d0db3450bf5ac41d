// The browser's IPFS client (src/lib/ipfs) against the real server app: the
// offer a screen shows, the development wallet funded by the local ledger,
// payment of exactly the shown price through @x402/fetch, the job polled to
// its CID, and the gateway's bytes equal to the memory's.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { quote } from '../../server/ipfs/quote.js';
import type { IpfsService } from '../../server/ipfs/service.js';
import { developmentWallet, formatUsd, IpfsClient, IpfsClientError, offerFrom402, requirementWithin } from '../../src/lib/ipfs/index.js';
import { startTestServer, type TestServer } from '../server/support/server.js';
import { toRequest } from './support/payer.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('src/lib/ipfs', () => {
  it('reads an offer and formats prices (pure)', () => {
    const accepts = [{ scheme: 'exact', network: 'eip155:31337', amount: '1000', asset: '0x' + '1'.repeat(40), payTo: '0x' + '2'.repeat(40), maxTimeoutSeconds: 300 }];
    expect(offerFrom402({ jobId: 'j', provider: 'local', endpoint: 'pin/file', price_usd: 0.001, file_size_bytes: 11, payment: { accepts } })).toEqual({
      jobId: 'j', provider: 'local', endpoint: 'pin/file', priceUsd: 0.001, amount: '1000', fileSizeBytes: 11, accepts,
    });
    expect(() => offerFrom402({ error: 'x' })).toThrow(IpfsClientError);
    expect([formatUsd(0.01), formatUsd(0.001), formatUsd(1), formatUsd(0.000123)]).toEqual(['$0.01', '$0.001', '$1.00', '$0.000123']);
    expect(requirementWithin(accepts, '1000')).toBe(accepts[0]);
    expect(() => requirementWithin(accepts, '999')).toThrow(/no longer/);
  });

  describe('against the server', () => {
    let s: TestServer;
    let ipfs: IpfsService;
    let cookie: string;
    let client: IpfsClient;
    const keys = new Map<string, string>();
    const storage = { getItem: (k: string) => keys.get(k) ?? null, setItem: (k: string, v: string) => void keys.set(k, v) };

    beforeAll(async () => {
      s = await startTestServer('sqlite');
      ipfs = s.deps.ipfs!;
      cookie = await s.signIn(`client-${uuidv7()}`);
      const pageFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
        const req = toRequest(input, init);
        req.headers.set('cookie', cookie);
        return s.app.fetch(req);
      }) as typeof fetch;
      // Each poll's wait is where the server's worker would run: run the executor there.
      client = new IpfsClient({ baseUrl: 'http://forever.test', fetch: pageFetch, sleep: async () => void (await ipfs.executor.runOnce()) });
    });
    afterAll(async () => s?.close());

    async function memoryWithBytes(bytes: Uint8Array): Promise<string> {
      const id = uuidv7();
      await s.request(`/api/memories/${id}`, { method: 'PUT', cookie, json: { memory_type: 'image', metadata: { file_name: 'photo.jpg' } } });
      const up = await s.request(`/api/upload_file?memory_id=${id}`, { method: 'POST', cookie, body: bytes as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/octet-stream' } });
      expect(up.status).toBe(201);
      return id;
    }

    it('shows the quoted price, pays it with the development wallet, and gets the CID of the exact bytes', async () => {
      const bytes = new Uint8Array(2 * 1024 * 1024).map((_, i) => (i * 7) % 256);
      const memoryId = await memoryWithBytes(bytes);
      const first = await client.offerForMemory(memoryId);
      if (!('offer' in first)) throw new Error('expected an offer');
      const expected = quote({ bytes, fileName: 'photo.jpg' }, ipfs.config.pricing);
      expect(first.offer.priceUsd).toBe(expected.priceUsd);
      expect(first.offer.amount).toBe(expected.amount);
      expect(formatUsd(first.offer.priceUsd)).toBe('$0.001');

      const wallet = await developmentWallet(client, storage);
      expect(wallet.kind).toBe('development');
      expect(await client.balance(wallet.signer.address)).toBe(10_000_000n);
      // The same browser keeps the same wallet.
      expect((await developmentWallet(client, storage)).signer.address).toBe(wallet.signer.address);

      const paid = await client.payMemory(memoryId, first.offer, wallet);
      expect(paid).toMatchObject({ jobId: first.offer.jobId, status: 'paid' });
      expect(await client.balance(wallet.signer.address)).toBe(10_000_000n - BigInt(expected.amount));
      const done = await client.waitForJob(paid.jobId, { intervalMs: 0 });
      expect(done.status).toBe('completed');
      const gw = await s.app.request(done.result!.ipfsUrl);
      expect(sha(new Uint8Array(await gw.arrayBuffer()))).toBe(sha(bytes));
      expect((await client.jobsForMemory(memoryId))[0].result?.cid).toBe(done.result!.cid);
      // Asked again, the memory needs no payment.
      const again = await client.offerForMemory(memoryId);
      expect('job' in again && again.job.status).toBe('completed');
    });

    it('refuses to pay more than the price that was shown, signing nothing', async () => {
      const memoryId = await memoryWithBytes(new Uint8Array(10).fill(3));
      const o = await client.offerForMemory(memoryId);
      if (!('offer' in o)) throw new Error('expected an offer');
      const wallet = await developmentWallet(client, storage);
      const before = await client.balance(wallet.signer.address);
      const shownLower = { ...o.offer, amount: String(BigInt(o.offer.amount) - 1n) };
      await expect(client.payMemory(memoryId, shownLower, wallet)).rejects.toMatchObject({ code: 'PRICE_CHANGED' });
      expect(await client.balance(wallet.signer.address)).toBe(before);
      expect((await client.job(o.offer.jobId)).status).toBe('pending_payment');
    });
  });
});
