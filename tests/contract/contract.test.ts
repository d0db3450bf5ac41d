// Pins the contract's values: a change here changes what every tier accepts.
import { describe, expect, it } from 'vitest';
import { MAX_CHUNK_BYTES, MAX_FILE_BYTES, MAX_INGRESS_BYTES, MEMORY_TYPES, TEXT_LIMITS, fromVariant, isUuid, parseUuid, toVariant, utf8Length, UUID_PATTERN } from '../../contract';

describe('contract', () => {
  it('pins the file limit to 100 MiB and the chunk to 1 MiB', () => {
    expect(MAX_FILE_BYTES).toBe(104_857_600);
    expect(MAX_CHUNK_BYTES).toBe(1_048_576);
    expect(MAX_INGRESS_BYTES).toBe(2_097_152);
    expect(TEXT_LIMITS.title).toBe(512);
    expect(TEXT_LIMITS.description).toBe(8192);
  });

  it('maps memory types to the canister variants and back', () => {
    for (const t of MEMORY_TYPES) expect(fromVariant(toVariant(t))).toBe(t);
    expect(toVariant('note')).toBe('Note');
  });

  it('agrees with itself on the UUID form', () => {
    const cases = [
      '0190a6f4-7a9e-7cc1-8c6e-2f5a1b3c4d5e',
      '0190A6F4-7A9E-7CC1-8C6E-2F5A1B3C4D5E',
      '0190a6f4-7a9e-0cc1-8c6e-2f5a1b3c4d5e',
      '0190a6f4-7a9e-7cc1-cc6e-2f5a1b3c4d5e',
      '0190a6f47a9e-7cc1-8c6e-2f5a1b3c4d5e-',
      '',
    ];
    for (const s of cases) expect(isUuid(s)).toBe(UUID_PATTERN.test(s));
    expect(parseUuid(cases[0])?.length).toBe(16);
  });

  it('counts UTF-8 bytes as TextEncoder does', () => {
    for (const s of ['', 'a', 'é', '€', '😀', 'a😀é€\u{10ffff}', '\ud800x']) expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
  });
});
