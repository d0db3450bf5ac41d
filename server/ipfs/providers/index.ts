// The remote pinners, chosen by configuration.
import type { ResolvedIpfsConfig } from '../config.js';
import type { Pinner } from '../pinner.js';

export function createProviderPinner(config: ResolvedIpfsConfig): Pinner {
  throw new Error(`IPFS provider ${config.provider} is not available yet`);
}
