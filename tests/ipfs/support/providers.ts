// In-process stand-ins for the pinning services, on loopback, speaking their
// protocols: Pinata's pinFileToIPFS with a JWT, OpenX402's /pin/json and
// /pin/file and x402.storage's /store, both paid through the real @x402/hono
// middleware against the same local facilitator (so their payments move the
// same ledger). Each computes the CID of exactly the bytes it received.
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { x402ResourceServer, type RoutesConfig } from '@x402/core/server';
import { ExactEvmScheme } from '@x402/evm/exact/server';
import { paymentMiddleware } from '@x402/hono';
import { Hono, type Context } from 'hono';
import type { Hex } from 'viem';
import type { IpfsService } from '../../../server/ipfs/service.js';
import { discardBlocks, importFile } from '../../../server/ipfs/unixfs.js';
import { localFacilitatorClient, addressFromLabel } from '../../../server/ipfs/x402/local-facilitator.js';

export type Mode = 'ok' | 'down' | 'flaky';

export interface StandIn {
  url: string;
  /** Every request: path, its PAYMENT-SIGNATURE (if any) and the status answered. */
  calls: { path: string; signature: string | null; status: number }[];
  mode: Mode;
  payTo: Hex;
  close(): Promise<void>;
}

async function listen(app: Hono): Promise<{ server: ServerType; url: string }> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function fileBytes(c: Context): Promise<{ bytes: Uint8Array; name: string }> {
  const form = await c.req.formData();
  const file = form.get('file');
  if (!(file instanceof File)) throw new Error('no file part');
  return { bytes: new Uint8Array(await file.arrayBuffer()), name: file.name };
}

function record(s: StandIn): (c: Context, next: () => Promise<void>) => Promise<void> {
  return async (c, next) => {
    await next();
    s.calls.push({ path: c.req.path, signature: c.req.header('payment-signature') ?? null, status: c.res.status });
  };
}

/** OpenX402 or x402.storage: x402-paid, priced like the broker's token. */
export async function startPaidProvider(kind: 'openx402' | 'x402storage', ipfs: IpfsService, price = '500'): Promise<StandIn> {
  const payTo = addressFromLabel(`${kind} stand-in`);
  const s: StandIn = { url: '', calls: [], mode: 'ok', payTo, close: async () => {} };
  const rs = new x402ResourceServer(localFacilitatorClient(ipfs.ledger!, { failSettlements: 0 })).register(ipfs.config.network as `${string}:${string}`, new ExactEvmScheme());
  const accepts = {
    scheme: 'exact',
    network: ipfs.config.network as `${string}:${string}`,
    payTo,
    price: { amount: price, asset: ipfs.config.asset, extra: { name: ipfs.config.tokenName, version: ipfs.config.tokenVersion } },
    maxTimeoutSeconds: 300,
  };
  const routes: RoutesConfig = kind === 'openx402' ? { 'POST /pin/json': { accepts }, 'POST /pin/file': { accepts } } : { 'POST /store': { accepts } };
  let paidSeen = 0;
  const app = new Hono();
  app.use('*', record(s));
  app.use('*', async (c, next) => {
    if (s.mode === 'down') return c.json({ error: 'service unavailable' }, 503);
    await next();
  });
  app.use('*', paymentMiddleware(routes, rs));
  // Runs only for a verified payment; a 5xx here means the middleware does not settle.
  app.use('*', async (c, next) => {
    paidSeen++;
    if (s.mode === 'flaky' && paidSeen === 1) return c.json({ error: 'temporarily failing' }, 502);
    await next();
  });
  const cidOf = async (bytes: Uint8Array) => (await importFile(bytes, 'unixfs-v0-2015', discardBlocks)).toString();
  app.post('/pin/json', async (c) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    JSON.parse(new TextDecoder().decode(bytes));
    const cid = await cidOf(bytes);
    return c.json({ success: true, id: `pin-${cid}`, ipfsHash: cid, pinataUrl: `https://gateway.example/ipfs/${cid}` });
  });
  app.post('/pin/file', async (c) => {
    const { bytes } = await fileBytes(c);
    const cid = await cidOf(bytes);
    return c.json({ success: true, id: `pin-${cid}`, ipfsHash: cid, pinataUrl: `https://gateway.example/ipfs/${cid}` });
  });
  app.post('/store', async (c) => {
    const { bytes } = await fileBytes(c);
    const cid = await cidOf(bytes);
    return c.json({ success: true, cid, url: `https://x402.storage.example/ipfs/${cid}` });
  });
  const { server, url } = await listen(app);
  s.url = url;
  s.close = () => new Promise((r) => server.close(() => r()));
  return s;
}

export async function startPinata(jwt: string): Promise<StandIn> {
  const s: StandIn = { url: '', calls: [], mode: 'ok', payTo: '0x0000000000000000000000000000000000000000', close: async () => {} };
  const app = new Hono();
  app.use('*', record(s));
  app.post('/pinning/pinFileToIPFS', async (c) => {
    if (s.mode === 'down') return c.json({ error: 'down' }, 503);
    if (c.req.header('authorization') !== `Bearer ${jwt}`) return c.json({ error: { reason: 'INVALID_CREDENTIALS' } }, 401);
    const form = await c.req.formData();
    const file = form.get('file') as File;
    const options = JSON.parse(String(form.get('pinataOptions') ?? '{}')) as { cidVersion?: number };
    const bytes = new Uint8Array(await file.arrayBuffer());
    const cid = await importFile(bytes, options.cidVersion === 0 ? 'unixfs-v0-2015' : 'unixfs-v1-2025', discardBlocks);
    return c.json({ IpfsHash: cid.toString(), PinSize: bytes.byteLength, Timestamp: new Date().toISOString(), isDuplicate: false });
  });
  const { server, url } = await listen(app);
  s.url = url;
  s.close = () => new Promise((r) => server.close(() => r()));
  return s;
}
