// Pinata's pinning API with a JWT: POST /pinning/pinFileToIPFS (multipart
// `file`, `pinataMetadata`, `pinataOptions`) → {IpfsHash, PinSize, Timestamp}.
// JSON is pinned as a file too: pinJSONToIPFS re-serializes the content, and
// a memory's copy must be its exact bytes.
import { PinError, type CidProfile, type Pinner, type PinRequest, type PinResult } from '../pinner.js';
import { providerError, send } from './x402-payer.js';

export class PinataPinner implements Pinner {
  readonly provider = 'pinata' as const;

  constructor(
    private readonly options: { url: string; jwt: string; gatewayUrl?: string; profile: CidProfile },
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  async pin(req: PinRequest): Promise<PinResult> {
    const form = new FormData();
    form.append('file', new Blob([req.bytes as Uint8Array<ArrayBuffer>]), req.fileName);
    form.append('pinataMetadata', JSON.stringify({ name: req.fileName, keyvalues: { forever_job: req.jobId } }));
    form.append('pinataOptions', JSON.stringify({ cidVersion: this.options.profile === 'unixfs-v0-2015' ? 0 : 1, wrapWithDirectory: false }));
    const url = `${this.options.url.replace(/\/+$/, '')}/pinning/pinFileToIPFS`;
    const res = await send(this.provider, () =>
      this.fetchFn(url, { method: 'POST', headers: { authorization: `Bearer ${this.options.jwt}`, accept: 'application/json' }, body: form }),
    );
    if (!res.ok) throw await providerError(this.provider, res);
    const body = (await res.json().catch(() => null)) as { IpfsHash?: string; PinSize?: number } | null;
    if (!body?.IpfsHash) throw new PinError('pinata answered without IpfsHash', false);
    const gateway = (this.options.gatewayUrl ?? 'https://gateway.pinata.cloud').replace(/\/+$/, '');
    return { cid: body.IpfsHash, url: `${gateway}/ipfs/${body.IpfsHash}`, profile: null, size: req.bytes.byteLength };
  }
}
