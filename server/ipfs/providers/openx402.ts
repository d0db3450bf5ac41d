// OpenX402's pin endpoints, paid with x402: JSON as the request body to
// /pin/json, any other file as multipart to /pin/file. Both answer
// {success, id, ipfsHash, pinataUrl}.
import { PinError, type Pinner, type PinRequest, type PinResult } from '../pinner.js';
import { providerError, send, X402Payer } from './x402-payer.js';

export class OpenX402Pinner implements Pinner {
  readonly provider = 'openx402' as const;

  constructor(
    private readonly baseUrl: string,
    private readonly payer: X402Payer,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  async pin(req: PinRequest): Promise<PinResult> {
    const base = this.baseUrl.replace(/\/+$/, '');
    const isJson = req.endpoint === 'pin/json';
    const url = `${base}/${req.endpoint}`;
    const build = (): RequestInit => {
      if (isJson) {
        // The exact bytes: they are one JSON text (checked before payment).
        return { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: req.bytes as Uint8Array<ArrayBuffer> };
      }
      const form = new FormData();
      form.append('file', new Blob([req.bytes as Uint8Array<ArrayBuffer>]), req.fileName);
      return { method: 'POST', headers: { accept: 'application/json' }, body: form };
    };
    const res = await send(this.provider, () =>
      this.payer.fetch(this.fetchFn, url, build, { signature: req.paymentSignature, onSigned: req.onPaymentSigned }),
    );
    if (!res.ok) throw await providerError(this.provider, res);
    const body = (await res.json().catch(() => null)) as { success?: boolean; ipfsHash?: string; pinataUrl?: string; error?: string } | null;
    if (!body?.success || !body.ipfsHash) throw new PinError(`openx402 did not pin: ${body?.error ?? 'no ipfsHash'}`, false);
    return { cid: body.ipfsHash, url: body.pinataUrl ?? `https://gateway.pinata.cloud/ipfs/${body.ipfsHash}`, profile: null, size: req.bytes.byteLength };
  }
}
