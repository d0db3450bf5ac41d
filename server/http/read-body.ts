// Reads a raw request body into memory, refusing more than `maxBytes`
// (PAYLOAD_TOO_LARGE) before buffering it: Content-Length is checked first,
// and the stream is cut off as soon as it passes the limit.
import type { Context } from 'hono';
import { ApiError } from '../errors.js';

export async function readBodyLimited(c: Context, maxBytes: number): Promise<Uint8Array> {
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) {
    throw new ApiError('PAYLOAD_TOO_LARGE', `body larger than ${maxBytes} bytes`);
  }
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new ApiError('PAYLOAD_TOO_LARGE', `body larger than ${maxBytes} bytes`);
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
