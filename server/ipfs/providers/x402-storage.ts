// The x402.storage client: POST <base>/store with the file (multipart `file`)
// and a PAYMENT-SIGNATURE header; the answer names the CID and a URL. It
// tries three times, waiting 1 s and then 2 s (the configured schedule), and
// never throws: the result {success, url, cid, filename, error} is kept with
// the item, and a storage failure never fails the job that produced the file.
import { PinError, type Pinner, type PinRequest, type PinResult } from '../pinner.js';
import { providerError, send, X402Payer, type ProviderPayment } from './x402-payer.js';

export interface X402StorageResult {
  success: boolean;
  url: string | null;
  cid: string | null;
  filename: string;
  error: string | null;
}

export interface X402StorageOptions {
  baseUrl: string;
  payer: X402Payer;
  delaysMs: readonly number[];
  sleep: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

export async function uploadToStorage(bytes: Uint8Array, filename: string, payment: ProviderPayment, o: X402StorageOptions): Promise<X402StorageResult> {
  const url = `${o.baseUrl.replace(/\/+$/, '')}/store`;
  const build = (): RequestInit => {
    const form = new FormData();
    form.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>]), filename);
    return { method: 'POST', headers: { accept: 'application/json' }, body: form };
  };
  // The signature made by the first try is the one every later try resends.
  const pay: ProviderPayment = {
    signature: payment.signature,
    onSigned: async (s) => {
      pay.signature = s;
      await payment.onSigned(s);
    },
  };
  let error = 'not attempted';
  for (let attempt = 0; attempt <= o.delaysMs.length; attempt++) {
    if (attempt > 0) await o.sleep(o.delaysMs[attempt - 1]);
    try {
      const res = await send('x402.storage', () => o.payer.fetch(o.fetch ?? fetch, url, build, pay));
      if (!res.ok) throw await providerError('x402.storage', res);
      const body = (await res.json().catch(() => null)) as { url?: string; cid?: string; success?: boolean; error?: string } | null;
      if (!body?.cid || body.success === false) throw new PinError(`x402.storage did not store: ${body?.error ?? 'no cid'}`, false);
      return { success: true, url: body.url ?? `https://ipfs.io/ipfs/${body.cid}`, cid: body.cid, filename, error: null };
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      if (e instanceof PinError && !e.retryable) break;
    }
  }
  return { success: false, url: null, cid: null, filename, error };
}

/** The executor's view: the client's own tries are the attempts, so a failure is final. */
export class X402StoragePinner implements Pinner {
  readonly provider = 'x402storage' as const;

  constructor(private readonly options: X402StorageOptions) {}

  async pin(req: PinRequest): Promise<PinResult> {
    const r = await uploadToStorage(req.bytes, req.fileName, { signature: req.paymentSignature, onSigned: req.onPaymentSigned }, this.options);
    if (!r.success || !r.cid) throw new PinError(r.error ?? 'x402.storage failed', false);
    return { cid: r.cid, url: r.url!, profile: null, size: req.bytes.byteLength };
  }
}
