// A paying client the way a browser or an agent pays: the real @x402/fetch
// wrapper and the exact-EVM client scheme, with a viem account signing real
// EIP-712 authorizations. Requests go to the in-process app.
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import type { Hex } from 'viem';

export interface Payer {
  account: PrivateKeyAccount;
  client: x402Client;
  /** fetch that pays 402s and records every PAYMENT-SIGNATURE it sent. */
  pay: typeof fetch;
  signatures: string[];
}

/**
 * A Request from fetch's arguments. @hono/node-server swaps the global
 * Request class once a server listens, so `instanceof Request` is no test.
 */
export function toRequest(input: RequestInfo | URL, init?: RequestInit): Request {
  if (typeof input === 'string' || input instanceof URL) return new Request(String(input), init);
  return init ? new Request(input, init) : input;
}

export function appFetch(app: { fetch(request: Request): Response | Promise<Response> }): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = toRequest(input, init);
    return app.fetch(req);
  }) as typeof fetch;
}

export function newPayer(base: typeof fetch, token: { network: string; asset: Hex }, key: Hex = generatePrivateKey()): Payer {
  const account = privateKeyToAccount(key);
  const client = new x402Client();
  registerExactEvmScheme(client, { signer: account, networks: [token.network as `${string}:${string}`] });
  // The local token is no default asset: allow it explicitly, capped at 1 USD.
  client.setSpendControls({ allowedAssets: [{ network: token.network as `${string}:${string}`, asset: token.asset, maxAmountPerPayment: '1000000' }] });
  const signatures: string[] = [];
  const recording = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = toRequest(input, init);
    const sig = req.headers.get('payment-signature');
    if (sig) signatures.push(sig);
    return base(req);
  }) as typeof fetch;
  return { account, client, pay: wrapFetchWithPayment(recording, client), signatures };
}
