// The quote engine: endpoint, price and the strict base64 rule.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICING, decodeData, filePriceUnits, isJsonUpload, PIN_ERRORS, quote, QuoteInputError, validateForPin } from '../../server/ipfs/quote.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('quote', () => {
  it('JSON by name, by URL, or by content costs a fixed 0.01 USDC at pin/json', () => {
    for (const input of [
      { bytes: enc('{"name": "Alice", "age": 30}'), fileName: 'user.json' },
      { bytes: enc('{"name": "Bob", "age": 25}') },
      { bytes: enc('[1,2]'), url: 'https://example.org/a.JSON?x=1' },
    ]) {
      expect(quote(input)).toEqual({ endpoint: 'pin/json', isJson: true, fileSize: input.bytes.byteLength, amount: '10000', priceUsd: 0.01 });
    }
  });

  it('other files go to pin/file, priced by size with a minimum', () => {
    const small = quote({ bytes: enc('Hello World'), fileName: 'hello.txt' });
    expect(small).toEqual({ endpoint: 'pin/file', isJson: false, fileSize: 11, amount: '1000', priceUsd: 0.001 });
    // 0.1 USD per GB: 50 MB is 0.005 USD = 5,000 units; one byte more rounds up.
    expect(filePriceUnits(50_000_000, DEFAULT_PRICING)).toBe(5000n);
    expect(filePriceUnits(50_000_001, DEFAULT_PRICING)).toBe(5001n);
    expect(filePriceUnits(10, { ...DEFAULT_PRICING, filePricePerByteUsd: '0.01', fileMinAmount: 0n })).toBe(100_000n);
  });

  it('a .json name with content that does not parse is quoted as JSON and refused before payment', () => {
    const bytes = enc('{not json');
    const q = quote({ bytes, fileName: 'broken.json' });
    expect(q.endpoint).toBe('pin/json');
    expect(validateForPin(q, bytes)).toBe(PIN_ERRORS.invalidJson);
    expect(validateForPin(quote({ bytes: enc('{}') }), enc('{}'))).toBeNull();
  });

  it('base64 is decoded only when asked, and strictly', () => {
    const b64 = 'eyJuYW1lIjogIkNoYXJsaWUiLCAiYWdlIjogMzV9';
    expect(new TextDecoder().decode(decodeData(b64, 'base64'))).toBe('{"name": "Charlie", "age": 35}');
    // Without the flag the same text is the data itself (not JSON, not decoded garbage).
    const raw = decodeData(b64);
    expect(new TextDecoder().decode(raw)).toBe(b64);
    expect(isJsonUpload({ bytes: raw })).toBe(false);
    expect(() => decodeData('not base64!', 'base64')).toThrow(QuoteInputError);
    expect(() => decodeData('SGVsbG8=x', 'base64')).toThrow(QuoteInputError);
  });

  it('bytes that are not UTF-8 are never JSON', () => {
    expect(isJsonUpload({ bytes: new Uint8Array([0x7b, 0x7d, 0xff]) })).toBe(false);
    expect(isJsonUpload({ bytes: enc('   ') })).toBe(false);
  });
});
