// Pure: what a 402 from the IPFS broker offers, in the terms a screen shows
// (price in USD, size, endpoint), and the guard that a payment is for exactly
// the price that was shown.
import type { IpfsJobView } from '../../../contract/index';

export interface PaymentRequirement {
  scheme: string;
  network: string;
  amount: string;
  asset: string;
  payTo: string;
  maxTimeoutSeconds: number;
  extra?: Record<string, unknown>;
}

/** The broker's job as its API returns it. */
export type IpfsJob = IpfsJobView;

export interface IpfsOffer {
  jobId: string;
  provider: string;
  endpoint: 'pin/json' | 'pin/file' | null;
  priceUsd: number;
  /** Token units (6 decimals) the payment will carry. */
  amount: string;
  fileSizeBytes: number;
  accepts: PaymentRequirement[];
}

export class IpfsClientError extends Error {
  constructor(
    readonly code: 'PRICE_CHANGED' | 'REFUSED' | 'PAYMENT_FAILED' | 'HTTP' | 'FAILED',
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'IpfsClientError';
  }
}

/** The offer in a 402 body; throws when the body is not the broker's. */
export function offerFrom402(body: unknown): IpfsOffer {
  const b = body as Record<string, unknown> | null;
  const payment = b?.payment as { accepts?: PaymentRequirement[] } | undefined;
  const accepts = payment?.accepts ?? [];
  if (typeof b?.jobId !== 'string' || accepts.length === 0 || typeof b.price_usd !== 'number') {
    throw new IpfsClientError('HTTP', 'the 402 is not an IPFS broker offer', 402);
  }
  return {
    jobId: b.jobId,
    provider: String(b.provider),
    endpoint: (b.endpoint as IpfsOffer['endpoint']) ?? null,
    priceUsd: b.price_usd,
    amount: accepts[0].amount,
    fileSizeBytes: Number(b.file_size_bytes ?? 0),
    accepts,
  };
}

/** "$0.01", "$0.001": the price with as many decimals as it needs (at most the token's 6). */
export function formatUsd(usd: number): string {
  const fixed = usd.toFixed(6).replace(/0+$/, '');
  const [whole, frac = ''] = fixed.split('.');
  return `$${whole}.${frac.padEnd(2, '0')}`;
}

/** The requirement the wallet may sign: the one shown, and never a higher amount. */
export function requirementWithin(accepts: readonly PaymentRequirement[], shownAmount: string): PaymentRequirement {
  const ok = accepts.find((a) => a.scheme === 'exact' && BigInt(a.amount) <= BigInt(shownAmount));
  if (!ok) throw new IpfsClientError('PRICE_CHANGED', `the price is no longer ${shownAmount} units`);
  return ok;
}

export const isFinal = (j: Pick<IpfsJob, 'status'>): boolean => j.status === 'completed' || j.status === 'failed';
