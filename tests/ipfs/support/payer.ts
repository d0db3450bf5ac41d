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

export function appFetch(app: { request(input: Request | string, init?: RequestInit): Response | Promise<Response> }): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    return app.request(req);
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
    const req = input instanceof Request ? input : new Request(String(input), init);
    const sig = req.headers.get('payment-signature');
    if (sig) signatures.push(sig);
    return base(req);
  }) as typeof fetch;
  return { account, client, pay: wrapFetchWithPayment(recording, client), signatures };
}
