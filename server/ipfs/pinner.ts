// The Pinner port: one way to keep bytes on IPFS. The executor calls `pin`
// once per attempt; an implementation that pays its provider with x402 gets
// the job's stored payment signature (so a retry resends the same nonce and
// can never charge twice) and reports a fresh one through `onPaymentSigned`
// before it first sends it.
import type { PinEndpoint } from './quote.js';

export const PROVIDERS = ['local', 'pinata', 'openx402', 'x402storage'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Chunking profiles (IPIP-499). Different profiles give different CIDs for the same bytes past 256 KiB. */
export const CID_PROFILES = ['unixfs-v0-2015', 'unixfs-v1-2025'] as const;
export type CidProfile = (typeof CID_PROFILES)[number];

export interface PinRequest {
  jobId: string;
  bytes: Uint8Array;
  fileName: string;
  endpoint: PinEndpoint;
  /** The x402 payment signature this job already sent to the provider, if any. */
  paymentSignature: string | null;
  /** Persists a payment signature before it is first sent. */
  onPaymentSigned(signature: string): Promise<void>;
}

export interface PinResult {
  cid: string;
  /** Where anyone can fetch the bytes. */
  url: string;
  /** The profile the CID was computed with, when the pinner knows it. */
  profile: string | null;
  size: number;
}

export interface Pinner {
  readonly provider: Provider;
  pin(request: PinRequest): Promise<PinResult>;
}

/** A failure worth another attempt (provider unreachable, 5xx); anything else fails the job at once. */
export class PinError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'PinError';
  }
}
