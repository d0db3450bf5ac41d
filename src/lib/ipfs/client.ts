// Typed client of the server's IPFS broker (/api/ipfs) with x402 payment
// through @x402/fetch. A screen asks for an offer (the unpaid request: a 402
// with the price), shows it, and then pays exactly that with a wallet; the
// intent to pin can be queued, never a signature (signatures expire).
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { IpfsClientError, isFinal, offerFrom402, requirementWithin, type IpfsJob, type IpfsOffer } from './offer';
import type { IpfsWallet } from './wallet';

export interface IpfsConfigView {
  provider: string;
  profile: string | null;
  network: string;
  asset: string;
  token: { name: string; version: string; decimals: number };
  payTo: string;
  pricing: { json_amount: string; json_price_usd: number; file_price_per_byte_usd: string; file_min_amount: string };
  max_inline_bytes: number;
  dev_faucet: boolean;
}

export interface IpfsClientOptions {
  /** Origin of the server ('' for the page's own). */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Waits between polls of a job (injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

async function errorOf(res: Response): Promise<IpfsClientError> {
  let message = `HTTP ${res.status}`;
  try {
    const b = (await res.json()) as { error?: { message?: string } | string };
    message = typeof b.error === 'string' ? b.error : (b.error?.message ?? message);
  } catch {
    // keep the status
  }
  return new IpfsClientError(res.status === 400 ? 'REFUSED' : 'HTTP', message, res.status);
}

export class IpfsClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(o: IpfsClientOptions = {}) {
    this.base = (o.baseUrl ?? '').replace(/\/+$/, '');
    this.fetchFn = o.fetch ?? ((input, init) => fetch(input, { credentials: 'same-origin', ...init }));
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private url(path: string): string {
    return `${this.base}/api/ipfs${path}`;
  }

  async config(): Promise<IpfsConfigView> {
    const res = await this.fetchFn(this.url('/config'), { headers: { accept: 'application/json' } });
    if (!res.ok) throw await errorOf(res);
    return (await res.json()) as IpfsConfigView;
  }

  /** The unpaid request for a memory: its price, or the job when it needs no payment (already paid or pinned). */
  async offerForMemory(memoryId: string): Promise<{ offer: IpfsOffer } | { job: IpfsJob }> {
    return this.offer('/jobs', { memory_id: memoryId });
  }

  /** The same for bytes sent inline (the store API; no session needed). */
  async offerForData(body: { data: string; filename?: string; encoding?: 'utf8' | 'base64' }): Promise<{ offer: IpfsOffer } | { job: IpfsJob }> {
    return this.offer('/store', body);
  }

  private async offer(path: string, body: unknown): Promise<{ offer: IpfsOffer } | { job: IpfsJob }> {
    const res = await this.fetchFn(this.url(path), { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
    if (res.status === 402) return { offer: offerFrom402(await res.json()) };
    if (res.ok) return { job: (await res.json()) as IpfsJob };
    throw await errorOf(res);
  }

  /**
   * Pays the offer that was shown and returns the paid job. The wallet signs
   * only a requirement of at most `offer.amount`, so a price that changed
   * after it was shown is refused before anything is signed.
   */
  async pay(path: '/jobs' | '/store', body: unknown, offer: IpfsOffer, wallet: IpfsWallet): Promise<IpfsJob> {
    let refused: IpfsClientError | null = null;
    const client = new x402Client((_v, accepts) => {
      try {
        return requirementWithin(accepts as never, offer.amount) as never;
      } catch (error) {
        refused = error as IpfsClientError;
        throw error;
      }
    });
    registerExactEvmScheme(client, { signer: wallet.signer, networks: [offer.accepts[0].network as `${string}:${string}`] });
    // The cap is the selector's (exactly the shown price); the controls only admit the offered token.
    client.setSpendControls({ allowedAssets: offer.accepts.map((a) => ({ network: a.network as `${string}:${string}`, asset: a.asset })) });
    const paying = wrapFetchWithPayment(this.fetchFn, client);
    let res: Response;
    try {
      res = await paying(this.url(path), { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
    } catch (error) {
      // The wrapper rewraps a refusal from the selector; report it as what it is.
      if (refused) throw refused;
      throw new IpfsClientError('PAYMENT_FAILED', (error as Error).message);
    }
    if (res.status === 402) {
      const b = (await res.json().catch(() => ({}))) as { error?: string };
      throw new IpfsClientError('PAYMENT_FAILED', b.error ?? 'payment refused', 402);
    }
    if (!res.ok) throw await errorOf(res);
    return (await res.json()) as IpfsJob;
  }

  payMemory(memoryId: string, offer: IpfsOffer, wallet: IpfsWallet): Promise<IpfsJob> {
    return this.pay('/jobs', { memory_id: memoryId }, offer, wallet);
  }

  async job(jobId: string): Promise<IpfsJob> {
    const res = await this.fetchFn(this.url(`/jobs/${jobId}`), { headers: { accept: 'application/json' } });
    if (!res.ok) throw await errorOf(res);
    return (await res.json()) as IpfsJob;
  }

  async jobsForMemory(memoryId: string): Promise<IpfsJob[]> {
    const res = await this.fetchFn(this.url(`/jobs?memory_id=${encodeURIComponent(memoryId)}`), { headers: { accept: 'application/json' } });
    if (!res.ok) throw await errorOf(res);
    return ((await res.json()) as { jobs: IpfsJob[] }).jobs;
  }

  /** Polls until the job is completed or failed (every `intervalMs`, at most `maxPolls` times). */
  async waitForJob(jobId: string, o: { intervalMs?: number; maxPolls?: number; signal?: AbortSignal } = {}): Promise<IpfsJob> {
    const max = o.maxPolls ?? 600;
    for (let i = 0; i < max; i++) {
      o.signal?.throwIfAborted();
      const j = await this.job(jobId);
      if (isFinal(j)) return j;
      await this.sleep(o.intervalMs ?? 1000);
    }
    throw new IpfsClientError('FAILED', `job ${jobId} did not finish`);
  }

  /** Development only: credits the local ledger (the server refuses unless it runs the local facilitator). */
  async faucet(address: string, amount?: string): Promise<bigint> {
    const res = await this.fetchFn(this.url('/dev/faucet'), { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(amount ? { address, amount } : { address }) });
    if (!res.ok) throw await errorOf(res);
    return BigInt(((await res.json()) as { balance: string }).balance);
  }

  async balance(address: string): Promise<bigint> {
    const res = await this.fetchFn(this.url(`/dev/balance/${address}`), { headers: { accept: 'application/json' } });
    if (!res.ok) throw await errorOf(res);
    return BigInt(((await res.json()) as { balance: string }).balance);
  }
}
