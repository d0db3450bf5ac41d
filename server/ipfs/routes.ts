// The broker's HTTP API, mounted at /api/ipfs:
//   POST /store           {data, filename?, url?, encoding?, options?}  no session: the payment authorizes
//   POST /jobs            {memory_id}                                   the memory's bytes from the blob copy
//   GET  /jobs/:id        a job (a memory job only for its owner)
//   GET  /jobs?memory_id= a memory's jobs, newest first
//   GET  /config          network, token, payee and prices, for clients
//   POST /dev/faucet      {address, amount?}  credits the local ledger (local facilitator only)
//   GET  /dev/balance/:address
// An unpaid POST answers 402 with the x402 v2 PAYMENT-REQUIRED header and the
// body {jobId, provider, price_usd, file_size_bytes, payment:{accepts}}; the
// paid retry of the same request (same body, PAYMENT-SIGNATURE) is verified
// and settled by @x402/hono, and only then is the job `paid` and queued.
import { createHash } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from '@x402/core/http';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { csrf } from 'hono/csrf';
import { getAddress, isAddress } from 'viem';
import { z } from 'zod';
import { TEXT_LIMITS, utf8Length } from '../../contract/index.js';
import { ApiError } from '../errors.js';
import type { AppEnv } from '../http/env.js';
import { requireUser } from '../http/session.js';
import { validate } from '../http/validate.js';
import { uuid } from '../schemas.js';
import { getJob, insertJob, jobsForMemory, liveJobByKey, markPaid, toJobView, type NewJob } from './jobs.js';
import { decodeData, PIN_ERRORS, quote, QuoteInputError, unitsToUsd, validateForPin } from './quote.js';
import type { JobRow } from './schema.js';
import type { IpfsService } from './service.js';

const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** CORS for the payment headers: a browser must read PAYMENT-REQUIRED and PAYMENT-RESPONSE and send PAYMENT-SIGNATURE. */
export const paymentCors = () =>
  cors({
    origin: '*',
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'PAYMENT-SIGNATURE', 'X-PAYMENT'],
    exposeHeaders: ['PAYMENT-REQUIRED', 'PAYMENT-RESPONSE', 'X-PAYMENT-RESPONSE'],
    maxAge: 600,
  });

const tooLarge = (max: number) =>
  bodyLimit({ maxSize: max, onError: () => { throw new ApiError('PAYLOAD_TOO_LARGE', `body larger than ${max} bytes`); } });

const fileName = z
  .string()
  .refine((s) => utf8Length(s) <= TEXT_LIMITS.fileName, `at most ${TEXT_LIMITS.fileName} UTF-8 bytes`)
  .refine((s) => !/[\u0000-\u001f/\\]/.test(s), 'no control characters or path separators');

const storeBody = z.object({
  data: z.string().optional(),
  fileInline: z.string().optional(),
  filename: fileName.optional(),
  url: z.string().max(2048).optional(),
  fileUrl: z.string().max(2048).optional(),
  encoding: z.enum(['utf8', 'base64']).optional(),
  // Accepted for compatibility with the store API's clients: a pin here is always permanent.
  options: z.object({ permanent: z.boolean().optional(), ttl: z.number().int().nonnegative().optional() }).strict().optional(),
});

function clientAddress(ipfs: IpfsService, c: Context): string {
  if (ipfs.config.clientAddress) return ipfs.config.clientAddress(c.req.raw, c.env);
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const rateLimited = (ipfs: IpfsService): MiddlewareHandler => async (c, next) => {
  const wait = ipfs.rateLimiter.hit(clientAddress(ipfs, c));
  if (wait > 0) {
    c.header('Retry-After', String(wait));
    return c.json({ error: { code: 'RATE_LIMITED', message: 'too many requests from this address' } }, 429);
  }
  await next();
};

export function ipfsRoutes(ipfs: IpfsService) {
  const { ctx, config } = ipfs;
  const app = new Hono<AppEnv>();
  const auth = requireUser(ctx);

  const paymentDefaults = { network: config.network, asset: getAddress(config.asset), payTo: getAddress(config.payTo) };

  /** A job refused before payment: kept failed with its error, answered 400. */
  async function refuse(c: Context, job: Omit<NewJob, 'failedWith' | 'idempotencyKey'>, error: string) {
    const row = await insertJob(ipfs.db, { ...job, idempotencyKey: `refused:${crypto.randomUUID()}`, failedWith: error }, ctx.now());
    return c.json(toJobView(row), 400);
  }

  /** The 402 body: the job, its price, and the requirements of the PAYMENT-REQUIRED header. */
  function paymentRequired(res: Response, job: JobRow): Response {
    const header = res.headers.get('PAYMENT-REQUIRED');
    const required = header ? decodePaymentRequiredHeader(header) : null;
    const view = toJobView(job);
    const body = {
      jobId: job.id,
      status: job.status,
      provider: job.provider,
      endpoint: job.endpoint,
      price_usd: view.price_usd,
      amount: job.amount,
      file_size_bytes: view.file_size_bytes,
      error: required?.error ?? 'Payment required',
      payment: { x402Version: required?.x402Version ?? 2, accepts: required?.accepts ?? [] },
    };
    const headers = new Headers(res.headers);
    headers.set('content-type', 'application/json');
    return new Response(JSON.stringify(body), { status: 402, headers });
  }

  /**
   * Runs the x402 middleware for a pending job. `onVerified` runs after the
   * payment verified and before it settles; the job becomes `paid` only when
   * the settlement succeeded.
   */
  async function payForJob(c: Context, job: JobRow, onVerified?: () => Promise<void>): Promise<Response> {
    const response = await ipfs.jobLocks.run(job.id, () => settleJob(c, job, onVerified));
    // The middleware already set c.res (Hono then ignores a returned response): replace it whole.
    c.res = undefined as never;
    c.res = response;
    return response;
  }

  async function settleJob(c: Context, job: JobRow, onVerified?: () => Promise<void>): Promise<Response> {
    {
      const fresh = (await getJob(ipfs.db, job.id))!;
      if (fresh.status !== 'pending_payment') return c.json(toJobView(fresh), fresh.status === 'completed' ? 200 : 202);
      await ipfs.payments.ready();
      let handled = false;
      const returned = await ipfs.payments.middlewareFor(fresh)(c, async () => {
        await onVerified?.();
        handled = true;
        c.res = c.json({ jobId: fresh.id, status: 'paying' }, 202);
      });
      const res = (returned as Response | undefined) ?? c.res;
      if (res.status === 402) return paymentRequired(res, fresh);
      if (!handled || res.status !== 202) return res;
      const receipt = res.headers.get('PAYMENT-RESPONSE');
      const settled = receipt ? decodePaymentResponseHeader(receipt) : null;
      if (!settled?.success) return res;
      await markPaid(ipfs.db, fresh.id, settled.payer ?? null, settled.transaction || null, ctx.now());
      ctx.logger.info('IpfsJobPaid', { job_id: fresh.id, amount: fresh.amount, network: settled.network });
      const headers = new Headers(res.headers);
      headers.set('content-type', 'application/json');
      headers.delete('content-length');
      return new Response(JSON.stringify(toJobView((await getJob(ipfs.db, fresh.id))!)), { status: 202, headers });
    }
  }

  app.use('/store', paymentCors());
  app.use('/config', paymentCors());
  app.post('/store', rateLimited(ipfs), tooLarge(Math.ceil((config.maxInlineBytes * 4) / 3) + 64 * 1024), async (c) => {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw new ApiError('INVALID_ARGUMENT', 'body must be a JSON object');
    }
    const parsed = storeBody.safeParse(raw);
    if (!parsed.success) throw new ApiError('INVALID_ARGUMENT', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    const b = parsed.data;
    const data = b.data ?? b.fileInline;
    const base = { userId: null, memoryId: null, source: 'inline' as const, provider: config.provider, fileName: b.filename ?? null };
    if (data === undefined || data === '') {
      // Fetching a URL on a client's behalf would let anyone make this server request any address.
      if (b.fileUrl || b.url) throw new ApiError('INVALID_ARGUMENT', 'fileUrl is not fetched: send the bytes as data');
      return refuse(c, { ...base, contentHash: null, quote: null, payment: null }, PIN_ERRORS.missingData);
    }
    let bytes: Uint8Array;
    try {
      bytes = decodeData(data, b.encoding);
    } catch (error) {
      if (error instanceof QuoteInputError) throw new ApiError('INVALID_ARGUMENT', error.message);
      throw error;
    }
    if (bytes.byteLength > config.maxInlineBytes) throw new ApiError('PAYLOAD_TOO_LARGE', `data larger than ${config.maxInlineBytes} bytes`);
    const q = quote({ bytes, fileName: b.filename, url: b.url ?? b.fileUrl }, config.pricing);
    const hash = sha256Hex(bytes);
    const invalid = validateForPin(q, bytes);
    if (invalid) return refuse(c, { ...base, contentHash: hash, quote: q, payment: null }, invalid);
    const key = `inline:${hash}:${q.endpoint}:${config.provider}:${config.profile}:${b.filename ?? ''}`;
    const job = (await liveJobByKey(ipfs.db, key)) ?? (await insertJob(ipfs.db, { ...base, contentHash: hash, quote: q, payment: paymentDefaults, idempotencyKey: key }, ctx.now()));
    // The bytes are kept only once a payment verified (an unpaid request stores nothing).
    return payForJob(c, job, async () => {
      await ipfs.blobStore.put(hash, bytes);
    });
  });

  app.post('/jobs', csrf(), auth, tooLarge(16 * 1024), validate('json', z.object({ memory_id: uuid }).strict()), async (c) => {
    const user = c.get('user');
    const { memory_id } = c.req.valid('json');
    const memory = await ctx.db.selectFrom('memories').selectAll().where('user_id', '=', user.id).where('id', '=', memory_id).executeTakeFirst();
    if (!memory) throw new ApiError('NOT_FOUND', 'memory not found');
    const edge = await ctx.db
      .selectFrom('storage_edges')
      .select(['content_hash', 'size'])
      .where('user_id', '=', user.id)
      .where('memory_id', '=', memory_id)
      .where('artifact', '=', 'asset')
      .where('backend', '=', 'blob')
      .where('present', '=', 1)
      .executeTakeFirst();
    const bytes = edge?.content_hash ? await ipfs.blobStore.get(edge.content_hash) : null;
    if (!edge?.content_hash || !bytes) throw new ApiError('CONFLICT', 'the memory has no bytes in the blob copy yet');
    const meta = (typeof memory.metadata === 'string' ? JSON.parse(memory.metadata) : memory.metadata) as Record<string, unknown>;
    const name = [meta.file_name, meta.fileName, meta.name, memory.title].find((v): v is string => typeof v === 'string' && v !== '') ?? memory_id;
    const q = quote({ bytes, fileName: name }, config.pricing);
    const base = { userId: user.id, memoryId: memory_id, source: 'memory' as const, provider: config.provider, fileName: name, contentHash: edge.content_hash };
    const invalid = validateForPin(q, bytes);
    if (invalid) return refuse(c, { ...base, quote: q, payment: null }, invalid);
    const key = `memory:${user.id}:${memory_id}:${edge.content_hash}:${config.provider}:${config.profile}`;
    const job = (await liveJobByKey(ipfs.db, key)) ?? (await insertJob(ipfs.db, { ...base, quote: q, payment: paymentDefaults, idempotencyKey: key }, ctx.now()));
    return payForJob(c, job);
  });

  app.get('/jobs', auth, validate('query', z.object({ memory_id: uuid })), async (c) => {
    const rows = await jobsForMemory(ipfs.db, c.get('user').id, c.req.valid('query').memory_id);
    return c.json({ jobs: rows.map(toJobView) });
  });

  app.get('/jobs/:id', paymentCors(), async (c) => {
    const id = c.req.param('id');
    if (!uuid.safeParse(id).success) throw new ApiError('INVALID_ARGUMENT', 'job id must be a lowercase UUID');
    const job = await getJob(ipfs.db, id);
    if (!job) throw new ApiError('NOT_FOUND', 'job not found');
    if (job.user_id) {
      // A memory's job is its owner's: anyone else learns nothing, not even that it exists.
      let ownerOk = false;
      await auth(c as never, async () => {
        ownerOk = c.get('user').id === job.user_id;
      }).catch(() => undefined);
      if (!ownerOk) throw new ApiError('NOT_FOUND', 'job not found');
    }
    return c.json(toJobView(job));
  });

  app.get('/config', (c) =>
    c.json({
      provider: config.provider,
      profile: config.provider === 'local' ? config.profile : null,
      network: config.network,
      asset: getAddress(config.asset),
      token: { name: config.tokenName, version: config.tokenVersion, decimals: 6 },
      payTo: getAddress(config.payTo),
      pricing: {
        json_amount: config.pricing.jsonAmount.toString(),
        json_price_usd: unitsToUsd(config.pricing.jsonAmount),
        file_price_per_byte_usd: config.pricing.filePricePerByteUsd,
        file_min_amount: config.pricing.fileMinAmount.toString(),
      },
      max_inline_bytes: config.maxInlineBytes,
      dev_faucet: Boolean(config.devFaucet && ipfs.ledger),
    }),
  );

  const faucetBody = z.object({ address: z.string().refine((a) => isAddress(a), 'must be an EVM address'), amount: z.string().regex(/^\d{1,12}$/).optional() }).strict();
  app.post('/dev/faucet', rateLimited(ipfs), tooLarge(4 * 1024), validate('json', faucetBody), async (c) => {
    if (!config.devFaucet || !ipfs.ledger) throw new ApiError('NOT_FOUND', 'the faucet exists only on the local ledger');
    const { address, amount } = c.req.valid('json');
    // At most 100 USD per call: it is play money, but a bounded one.
    const units = BigInt(amount ?? '10000000');
    if (units < 1n || units > 100_000_000n) throw new ApiError('INVALID_ARGUMENT', 'amount must be 1 to 100,000,000 units');
    const balance = await ipfs.ledger.mint(address, units);
    return c.json({ address: getAddress(address), network: config.network, asset: getAddress(config.asset), balance: balance.toString() });
  });

  app.get('/dev/balance/:address', async (c) => {
    if (!ipfs.ledger) throw new ApiError('NOT_FOUND', 'balances exist only on the local ledger');
    const address = c.req.param('address');
    if (!isAddress(address)) throw new ApiError('INVALID_ARGUMENT', 'must be an EVM address');
    return c.json({ address: getAddress(address), balance: (await ipfs.ledger.balanceOf(address)).toString() });
  });

  return app;
}
