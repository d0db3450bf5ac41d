// The server's wallet paying x402 providers. One request pays once: the
// signature is made on the first 402, handed to the job (stored before it is
// sent), and resent unchanged by every retry, so a provider can settle it at
// most once (EIP-3009 nonces are single-use).
import { x402Client, x402HTTPClient } from '@x402/core/client';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import { PinError } from '../pinner.js';

export interface ProviderPayment {
  signature: string | null;
  onSigned(signature: string): Promise<void>;
}

export class X402Payer {
  private readonly http: x402HTTPClient;
  readonly address: Hex;

  constructor(key: Hex, allowed: { network: string; asset: string; maxAmountPerPayment?: string }) {
    const account = privateKeyToAccount(key);
    this.address = account.address;
    const client = new x402Client();
    registerExactEvmScheme(client, { signer: account, networks: [allowed.network as `${string}:${string}`] });
    client.setSpendControls({
      allowedAssets: [{ network: allowed.network as `${string}:${string}`, asset: allowed.asset, maxAmountPerPayment: allowed.maxAmountPerPayment ?? '1000000' }],
    });
    this.http = new x402HTTPClient(client);
  }

  /**
   * Sends `request()` (built fresh per send: bodies are streams), paying a
   * 402 with a new signature only when the job has none yet.
   */
  async fetch(fetchFn: typeof fetch, url: string, request: () => RequestInit, payment: ProviderPayment): Promise<Response> {
    let signature = payment.signature;
    if (!signature) {
      const probe = await fetchFn(url, request());
      if (probe.status !== 402) return probe;
      let body: unknown;
      try {
        body = await probe.json();
      } catch {
        body = undefined;
      }
      let header: Record<string, string>;
      try {
        const required = this.http.getPaymentRequiredResponse((name) => probe.headers.get(name), body);
        header = this.http.encodePaymentSignatureHeader(await this.http.createPaymentPayload(required));
      } catch (error) {
        throw new PinError(`could not pay the provider: ${(error as Error).message}`, false);
      }
      signature = header['PAYMENT-SIGNATURE'] ?? header['X-PAYMENT'];
      await payment.onSigned(signature);
    }
    const init = request();
    const headers = new Headers(init.headers);
    headers.set('PAYMENT-SIGNATURE', signature);
    return fetchFn(url, { ...init, headers });
  }
}

/** Whether a provider's answer is worth another attempt (it may be down or overloaded). */
export const retryableStatus = (status: number): boolean => status >= 500 || status === 429 || status === 408;

export async function providerError(provider: string, res: Response): Promise<PinError> {
  let detail = '';
  try {
    detail = (await res.text()).slice(0, 200);
  } catch {
    // the status is the message
  }
  return new PinError(`${provider} answered ${res.status}${detail ? `: ${detail}` : ''}`, retryableStatus(res.status));
}

/** A network failure (refused, reset, timeout) is retryable. */
export async function send(provider: string, go: () => Promise<Response>): Promise<Response> {
  try {
    return await go();
  } catch (error) {
    if (error instanceof PinError) throw error;
    throw new PinError(`${provider} unreachable: ${(error as Error).message}`, true);
  }
}
