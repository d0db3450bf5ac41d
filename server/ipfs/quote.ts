// The quote engine: what a pin costs and which pinning endpoint takes it.
// Pure: the caller hands in the bytes it already has and the pricing it was
// configured with.
//
// JSON is recognised by a `.json` name or URL, or by bytes that are valid
// UTF-8 and parse as JSON. The bytes are never "maybe base64": the request
// says `encoding: 'base64'` or the data is taken as it is (a lenient base64
// decoder accepts almost any text, so guessing turns raw files into garbage).

/** USDC and its test tokens have 6 decimals: 1 USD = 1,000,000 units. */
export const TOKEN_DECIMALS = 6;
export const UNITS_PER_USD = 10n ** BigInt(TOKEN_DECIMALS);

export type PinEndpoint = 'pin/json' | 'pin/file';
export type DataEncoding = 'utf8' | 'base64';

export interface Pricing {
  /** Fixed price of a JSON pin, in token units (default 10,000 = 0.01 USD). */
  jsonAmount: bigint;
  /** Price of one byte of a file pin in USD, as a decimal string ("0.0000000001"). */
  filePricePerByteUsd: string;
  /** Lowest price of a file pin, in token units. */
  fileMinAmount: bigint;
}

export const DEFAULT_PRICING: Pricing = {
  jsonAmount: 10_000n,
  // 0.10 USD per GB: a 1 MB file costs 0.0001 USD, then the minimum applies.
  filePricePerByteUsd: '0.0000000001',
  fileMinAmount: 1_000n,
};

export interface QuoteInput {
  bytes: Uint8Array;
  fileName?: string | null;
  url?: string | null;
}

export interface Quote {
  endpoint: PinEndpoint;
  isJson: boolean;
  fileSize: number;
  /** Price in token units (6 decimals), as a decimal string (x402's `amount`). */
  amount: string;
  /** The same price in USD. */
  priceUsd: number;
}

export class QuoteInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuoteInputError';
  }
}

const hasJsonExtension = (s: string | null | undefined): boolean => {
  if (!s) return false;
  let p = s.toLowerCase();
  // A URL's path decides, not its query or fragment.
  p = p.split(/[?#]/, 1)[0];
  return p.endsWith('.json');
};

/** The bytes as UTF-8 text, or null when they are not valid UTF-8. */
function utf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Whether the bytes are one JSON text (valid UTF-8 that JSON.parse accepts). */
export function parsesAsJson(bytes: Uint8Array): boolean {
  const text = utf8(bytes);
  if (text === null || text.trim() === '') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function isJsonUpload(input: QuoteInput): boolean {
  return hasJsonExtension(input.fileName) || hasJsonExtension(input.url) || parsesAsJson(input.bytes);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The request's `data` as bytes: base64 only when the request says so, and
 * then strictly (a string that is not canonical base64 is refused).
 */
export function decodeData(data: string, encoding: DataEncoding = 'utf8'): Uint8Array {
  if (encoding === 'utf8') return new TextEncoder().encode(data);
  const compact = data.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) throw new QuoteInputError('data is not valid base64');
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.toString('base64') !== compact) throw new QuoteInputError('data is not valid base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** "0.0000000001" → { num: 1n, scale: 10n ** 10n }; throws on anything else. */
export function parseUsd(decimal: string): { num: bigint; scale: bigint } {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(decimal.trim());
  if (!m) throw new QuoteInputError(`not a decimal USD amount: ${decimal}`);
  const frac = m[2] ?? '';
  return { num: BigInt(m[1] + frac), scale: 10n ** BigInt(frac.length) };
}

/** Token units as USD (exact for 6 decimals within double precision). */
export const unitsToUsd = (units: bigint): number => Number(units) / Number(UNITS_PER_USD);

export function filePriceUnits(size: number, pricing: Pricing): bigint {
  const { num, scale } = parseUsd(pricing.filePricePerByteUsd);
  // ceil(size * price * 10^6): a pin never costs less than its bytes.
  const numerator = BigInt(size) * num * UNITS_PER_USD;
  const units = (numerator + scale - 1n) / scale;
  return units > pricing.fileMinAmount ? units : pricing.fileMinAmount;
}

export function quote(input: QuoteInput, pricing: Pricing = DEFAULT_PRICING): Quote {
  const isJson = isJsonUpload(input);
  const fileSize = input.bytes.byteLength;
  const units = isJson ? pricing.jsonAmount : filePriceUnits(fileSize, pricing);
  return {
    endpoint: isJson ? 'pin/json' : 'pin/file',
    isJson,
    fileSize,
    amount: units.toString(),
    priceUsd: unitsToUsd(units),
  };
}

/** Errors the broker reports with the job (the wording clients of the store API know). */
export const PIN_ERRORS = {
  invalidJson: 'Invalid JSON content in fileInline',
  missingData: 'Either fileInline or fileUrl is required',
} as const;

/**
 * A JSON pin needs content that parses: a `.json` name with other content is
 * refused before anyone pays for it.
 */
export function validateForPin(q: Quote, bytes: Uint8Array): string | null {
  if (q.endpoint === 'pin/json' && !parsesAsJson(bytes)) return PIN_ERRORS.invalidJson;
  return null;
}
