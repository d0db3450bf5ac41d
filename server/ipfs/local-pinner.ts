// The embedded pinner: real UnixFS CIDs (kubo's for the same profile), blocks
// kept in the blob store, served by this server's /ipfs/<cid> gateway.
import type { BlobStore } from '../blob-copy/blob-store.js';
import { PinError, type CidProfile, type Pinner, type PinRequest, type PinResult } from './pinner.js';
import { blobBlockstore, importFile } from './unixfs.js';

export class LocalPinner implements Pinner {
  readonly provider = 'local' as const;

  constructor(
    private readonly store: BlobStore,
    private readonly options: { profile: CidProfile; gatewayBase: string },
  ) {}

  /** The CID `bytes` get under this pinner's profile, storing every block. */
  async add(bytes: Uint8Array): Promise<string> {
    return (await importFile(bytes, this.options.profile, blobBlockstore(this.store))).toString();
  }

  async pin(request: PinRequest): Promise<PinResult> {
    let cid: string;
    try {
      cid = await this.add(request.bytes);
    } catch (error) {
      throw new PinError(`local block store failed: ${(error as Error).message}`, true);
    }
    return { cid, url: gatewayUrl(this.options.gatewayBase, cid), profile: this.options.profile, size: request.bytes.byteLength };
  }
}

export const gatewayUrl = (base: string, cid: string): string => `${base.replace(/\/+$/, '')}/ipfs/${cid}`;
