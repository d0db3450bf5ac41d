// The remote pinners, chosen by configuration (IPFS_PROVIDER).
import type { ResolvedIpfsConfig } from '../config.js';
import type { Pinner } from '../pinner.js';
import { OpenX402Pinner } from './openx402.js';
import { PinataPinner } from './pinata.js';
import { X402Payer } from './x402-payer.js';
import { X402StoragePinner } from './x402-storage.js';

export function createProviderPinner(config: ResolvedIpfsConfig): Pinner {
  const payer = () => new X402Payer(config.providerWalletKey!, { network: config.network, asset: config.asset });
  switch (config.provider) {
    case 'pinata': {
      const p = config.providers.pinata!;
      return new PinataPinner({ url: p.url, jwt: p.jwt, gatewayUrl: p.gatewayUrl, profile: config.profile }, config.fetch);
    }
    case 'openx402':
      return new OpenX402Pinner(config.providers.openx402!.url, payer(), config.fetch);
    case 'x402storage':
      return new X402StoragePinner({ baseUrl: config.providers.x402storage!.url, payer: payer(), delaysMs: config.retryDelaysMs, sleep: config.sleep, fetch: config.fetch });
    default:
      throw new Error(`no remote pinner for ${config.provider}`);
  }
}
