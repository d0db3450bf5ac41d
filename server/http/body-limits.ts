// One body limit for every request, chosen by route before anything reads the
// body (hono/body-limit: a declared Content-Length over the limit is refused
// at once, a chunked body is cut off as soon as it passes it). Routes that
// carry more than a small JSON document are listed here; everything else,
// signed in or not, gets DEFAULT_BODY_BYTES. The IC HTTP interface
// (/api/v2, /api/v3) keeps its own ingress limit.
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { KiB, MAX_THUMBNAIL_BYTES, MiB } from '../../contract/index.js';
import { ApiError } from '../errors.js';

/** Any JSON route not listed below: sign-in, memories, presence batches, usage. */
export const DEFAULT_BODY_BYTES = 64 * KiB;

interface Rule {
  method: string;
  path: RegExp;
  maxBytes: number | 'upload';
}

const RULES: readonly Rule[] = [
  // Raw bytes of a memory's file: the configured upload limit (MAX_FILE_BYTES by default).
  { method: 'POST', path: /^\/api\/upload_file\/?$/, maxBytes: 'upload' },
  { method: 'PUT', path: /^\/api\/memories\/[^/]+\/thumbnail\/?$/, maxBytes: MAX_THUMBNAIL_BYTES },
  // Up to MAX_EDGES_PER_BATCH edges of about 300 bytes each.
  { method: 'PUT', path: /^\/api\/storage\/edges\/?$/, maxBytes: 4 * MiB },
  // Up to MAX_GALLERY_MEMORIES ids of 39 bytes each.
  { method: 'PUT', path: /^\/api\/galleries\/[^/]+\/?$/, maxBytes: 1 * MiB },
];

const IC_INTERFACE = /^\/api\/v[23]\//;

/** The limit for one request, in bytes; null for the IC interface, which limits its own. */
export function bodyLimitFor(method: string, path: string, maxUploadBytes: number): number | null {
  if (IC_INTERFACE.test(path)) return null;
  const rule = RULES.find((r) => r.method === method && r.path.test(path));
  if (!rule) return DEFAULT_BODY_BYTES;
  return rule.maxBytes === 'upload' ? maxUploadBytes : rule.maxBytes;
}

const tooLarge = (maxSize: number) => (): never => {
  throw new ApiError('PAYLOAD_TOO_LARGE', `body is larger than ${maxSize} bytes`);
};

export function bodyLimits(maxUploadBytes: number): MiddlewareHandler {
  const limiters = new Map<number, MiddlewareHandler>();
  const limiter = (maxSize: number): MiddlewareHandler => {
    let m = limiters.get(maxSize);
    if (!m) limiters.set(maxSize, (m = bodyLimit({ maxSize, onError: tooLarge(maxSize) })));
    return m;
  };
  return (c, next) => {
    const max = bodyLimitFor(c.req.method, c.req.path, maxUploadBytes);
    return max === null ? next() : limiter(max)(c, next);
  };
}
