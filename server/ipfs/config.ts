// IPFS and x402 settings: one typed object with its defaults, built from the
// environment by `ipfsConfigFromEnv` or by hand in tests.
//
// The embedded defaults need no network: the local pinner, and the local
// facilitator on `eip155:31337` (a development chain id, never a real one)
// with a token kept in the database.
import type { Hex } from 'viem';
import { DEFAULT_PRICING, type Pricing } from './quote.js';
import { CID_PROFILES, PROVIDERS, type CidProfile, type Provider } from './pinner.js';
import { addressFromLabel } from './x402/local-facilitator.js';

export const LOCAL_NETWORK = 'eip155:31337';

export interface ProviderEndpoints {
  /** Pinata's API (https://api.pinata.cloud) and a JWT. */
  pinata?: { url: string; jwt: string; gatewayUrl?: string };
  /** OpenX402's pin endpoints (`/pin/json`, `/pin/file`), paid with x402. */
  openx402?: { url: string };
  /** x402.storage's store endpoint base (`/store`), paid with x402. */
  x402storage?: { url: string };
}

export interface IpfsConfig {
  /** Mount the routes and run the executor (default true). */
  enabled?: boolean;
  provider?: Provider;
  /** CID profile of the local pinner (default unixfs-v0-2015, kubo's default). */
  profile?: CidProfile;
  /** Public base of this server's /ipfs/<cid> gateway (default: a path on this origin). */
  gatewayBase?: string;
  /** A real facilitator; without it the local one settles against the ledger. */
  facilitatorUrl?: string;
  network?: string;
  /** The token: address and EIP-712 domain (default: the local ledger's token). */
  asset?: Hex;
  tokenName?: string;
  tokenVersion?: string;
  /** Who the broker's payments go to. */
  payTo?: Hex;
  pricing?: Partial<Pricing>;
  /** Largest file the inline store API takes (default 8 MiB; a memory of any size goes through POST /jobs). */
  maxInlineBytes?: number;
  /** Requests per client address per window on the store API (default 60 per minute). */
  rateLimit?: { max: number; windowMs: number };
  /** Attempt schedule of a pin: the wait before each retry (default 1 s then 2 s). */
  retryDelaysMs?: readonly number[];
  providers?: ProviderEndpoints;
  /** Private key of the server's wallet paying x402 providers (openx402, x402storage). */
  providerWalletKey?: Hex;
  /** Lets the development faucet credit local-ledger balances (default: on with the local facilitator only). */
  devFaucet?: boolean;
  /** Injected for tests: the sleeper between attempts and the HTTP client of the provider clients. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  /** Client address for rate limiting (default: the socket's remote address). */
  clientAddress?: (req: Request, env: unknown) => string;
}

export interface ResolvedIpfsConfig {
  enabled: boolean;
  provider: Provider;
  profile: CidProfile;
  gatewayBase: string;
  facilitatorUrl: string | null;
  network: string;
  chainId: number;
  asset: Hex;
  tokenName: string;
  tokenVersion: string;
  payTo: Hex;
  pricing: Pricing;
  maxInlineBytes: number;
  rateLimit: { max: number; windowMs: number };
  retryDelaysMs: readonly number[];
  providers: ProviderEndpoints;
  providerWalletKey: Hex | null;
  devFaucet: boolean;
  sleep: (ms: number) => Promise<void>;
  fetch: typeof fetch;
  clientAddress?: (req: Request, env: unknown) => string;
}

export const LOCAL_TOKEN = {
  asset: addressFromLabel('forever local USD token'),
  name: 'Forever Local USD',
  version: '1',
};

export function resolveIpfsConfig(c: IpfsConfig = {}): ResolvedIpfsConfig {
  const network = c.network ?? LOCAL_NETWORK;
  const m = /^eip155:(\d+)$/.exec(network);
  if (!m) throw new Error(`IPFS network must be an eip155 CAIP-2 id, got ${network}`);
  const facilitatorUrl = c.facilitatorUrl ?? null;
  if (!facilitatorUrl && network !== LOCAL_NETWORK) {
    throw new Error(`the local facilitator settles only on ${LOCAL_NETWORK}; set a facilitator URL for ${network}`);
  }
  const provider = c.provider ?? 'local';
  if (!PROVIDERS.includes(provider)) throw new Error(`unknown IPFS provider ${provider}`);
  const profile = c.profile ?? 'unixfs-v0-2015';
  if (!CID_PROFILES.includes(profile)) throw new Error(`unknown CID profile ${profile}`);
  if (provider !== 'local' && !c.providers?.[provider]) throw new Error(`IPFS provider ${provider} needs its endpoint configured`);
  if ((provider === 'openx402' || provider === 'x402storage') && !c.providerWalletKey) {
    throw new Error(`IPFS provider ${provider} is paid with x402: set the provider wallet key`);
  }
  return {
    enabled: c.enabled ?? true,
    provider,
    profile,
    gatewayBase: c.gatewayBase ?? '',
    facilitatorUrl,
    network,
    chainId: Number(m[1]),
    asset: c.asset ?? LOCAL_TOKEN.asset,
    tokenName: c.tokenName ?? LOCAL_TOKEN.name,
    tokenVersion: c.tokenVersion ?? LOCAL_TOKEN.version,
    payTo: c.payTo ?? addressFromLabel('forever ipfs broker'),
    pricing: { ...DEFAULT_PRICING, ...c.pricing },
    maxInlineBytes: c.maxInlineBytes ?? 8 * 1024 * 1024,
    rateLimit: c.rateLimit ?? { max: 60, windowMs: 60_000 },
    retryDelaysMs: c.retryDelaysMs ?? [1000, 2000],
    providers: c.providers ?? {},
    providerWalletKey: c.providerWalletKey ?? null,
    devFaucet: c.devFaucet ?? !facilitatorUrl,
    sleep: c.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    fetch: c.fetch ?? fetch,
    clientAddress: c.clientAddress,
  };
}

type Env = Record<string, string | undefined>;

/**
 * IPFS_PROVIDER (local | pinata | openx402 | x402storage), IPFS_CID_PROFILE,
 * IPFS_GATEWAY_URL, X402_FACILITATOR_URL, X402_NETWORK, X402_ASSET,
 * X402_TOKEN_NAME, X402_TOKEN_VERSION, X402_PAY_TO, IPFS_PRICE_PER_BYTE_USD,
 * IPFS_JSON_PRICE_UNITS, IPFS_FILE_MIN_PRICE_UNITS, PINATA_URL, PINATA_JWT,
 * OPENX402_URL, X402_STORAGE_URL, IPFS_PROVIDER_WALLET_KEY, IPFS_ENABLED=0.
 */
export function ipfsConfigFromEnv(env: Env): IpfsConfig {
  const units = (v: string | undefined, name: string) => {
    if (!v) return undefined;
    if (!/^\d+$/.test(v)) throw new Error(`${name} must be a whole number of token units`);
    return BigInt(v);
  };
  const pricing: Partial<Pricing> = {};
  if (env.IPFS_PRICE_PER_BYTE_USD) pricing.filePricePerByteUsd = env.IPFS_PRICE_PER_BYTE_USD;
  const json = units(env.IPFS_JSON_PRICE_UNITS, 'IPFS_JSON_PRICE_UNITS');
  if (json !== undefined) pricing.jsonAmount = json;
  const min = units(env.IPFS_FILE_MIN_PRICE_UNITS, 'IPFS_FILE_MIN_PRICE_UNITS');
  if (min !== undefined) pricing.fileMinAmount = min;
  const providers: ProviderEndpoints = {};
  if (env.PINATA_URL || env.PINATA_JWT) providers.pinata = { url: env.PINATA_URL ?? 'https://api.pinata.cloud', jwt: env.PINATA_JWT ?? '', gatewayUrl: env.PINATA_GATEWAY_URL };
  if (env.OPENX402_URL) providers.openx402 = { url: env.OPENX402_URL };
  if (env.X402_STORAGE_URL) providers.x402storage = { url: env.X402_STORAGE_URL };
  return {
    enabled: env.IPFS_ENABLED !== '0',
    provider: (env.IPFS_PROVIDER as Provider) || undefined,
    profile: (env.IPFS_CID_PROFILE as CidProfile) || undefined,
    gatewayBase: env.IPFS_GATEWAY_URL || undefined,
    facilitatorUrl: env.X402_FACILITATOR_URL || undefined,
    network: env.X402_NETWORK || undefined,
    asset: (env.X402_ASSET as Hex) || undefined,
    tokenName: env.X402_TOKEN_NAME || undefined,
    tokenVersion: env.X402_TOKEN_VERSION || undefined,
    payTo: (env.X402_PAY_TO as Hex) || undefined,
    pricing,
    providers,
    providerWalletKey: (env.IPFS_PROVIDER_WALLET_KEY as Hex) || undefined,
  };
}
