// Wallets that pay IPFS pins. They only sign EIP-712 typed data (an EIP-3009
// transfer authorization); nothing here sends a transaction.
// - the development wallet: a key kept in this browser's storage, funded by
//   the server's local ledger faucet under `npm start` (never a real chain);
// - an injected EIP-1193 wallet (window.ethereum) in production.
import { createWalletClient, custom, type EIP1193Provider, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { IpfsClient } from './client';

export interface IpfsWallet {
  kind: 'development' | 'injected';
  signer: {
    readonly address: Hex;
    signTypedData(message: { domain: Record<string, unknown>; types: Record<string, unknown>; primaryType: string; message: Record<string, unknown> }): Promise<Hex>;
  };
}

export interface KeyStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const DEV_KEY = 'forever.ipfs.dev-wallet-key';

/**
 * The development wallet, funded when its balance is below `minUnits`.
 * Refuses when the server has no local faucet: play money must never meet a real chain.
 */
export async function developmentWallet(client: IpfsClient, storage: KeyStorage, minUnits = 100_000n): Promise<IpfsWallet> {
  const config = await client.config();
  if (!config.dev_faucet) throw new Error('the server runs a real facilitator: use an injected wallet');
  let key = storage.getItem(DEV_KEY) as Hex | null;
  if (!key || !/^0x[0-9a-f]{64}$/.test(key)) {
    key = generatePrivateKey();
    storage.setItem(DEV_KEY, key);
  }
  const account = privateKeyToAccount(key);
  if ((await client.balance(account.address)) < minUnits) await client.faucet(account.address);
  return { kind: 'development', signer: account };
}

/** An injected EIP-1193 wallet's first account. */
export async function injectedWallet(provider: EIP1193Provider): Promise<IpfsWallet> {
  const wallet = createWalletClient({ transport: custom(provider) });
  const [address] = await wallet.requestAddresses();
  if (!address) throw new Error('the wallet shared no account');
  return {
    kind: 'injected',
    signer: {
      address,
      signTypedData: (m) => wallet.signTypedData({ ...(m as Parameters<typeof wallet.signTypedData>[0]), account: address }),
    },
  };
}
