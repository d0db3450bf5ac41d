// The local pinner gives kubo's CIDs for kubo's own fixtures
// (ipfs/kubo test/cli/cid_profiles_test.go): "hello world" in both profiles,
// and the 174-link and 175-link files of the unixfs-v0-2015 profile, whose
// bytes are kubo's deterministic generator: ChaCha20 keystream, key =
// SHA-256("v0-seed"), zero nonce (test/cli/harness/random_reader.go).
import { createCipheriv, createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectoryBlobStore } from '../../server/blob-copy/directory-store.js';
import { LocalPinner } from '../../server/ipfs/local-pinner.js';
import { exportFile, importFile, discardBlocks, parseCid } from '../../server/ipfs/unixfs.js';

const KiB = 1024;
const hello = new TextEncoder().encode('hello world');

function kuboDeterministicBytes(size: number, seed: string): Uint8Array {
  const key = createHash('sha256').update(seed).digest();
  // OpenSSL's chacha20 IV is a 4-byte little-endian counter then the 12-byte nonce: all zero.
  const cipher = createCipheriv('chacha20', key, Buffer.alloc(16));
  return new Uint8Array(cipher.update(Buffer.alloc(size)));
}

describe('golden CIDs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forever-ipfs-golden-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = new DirectoryBlobStore(dir);

  it('"hello world" in the default (unixfs-v0-2015) and unixfs-v1-2025 profiles', async () => {
    const v0 = new LocalPinner(store, { profile: 'unixfs-v0-2015', gatewayBase: 'http://gw' });
    const v1 = new LocalPinner(store, { profile: 'unixfs-v1-2025', gatewayBase: 'http://gw' });
    expect(await v0.add(hello)).toBe('Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD');
    expect(await v1.add(hello)).toBe('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e');
    const r = await v0.pin({ jobId: 'j', bytes: hello, fileName: 'hello.txt', endpoint: 'pin/file', paymentSignature: null, onPaymentSigned: async () => {} });
    expect(r).toEqual({ cid: 'Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD', url: 'http://gw/ipfs/Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD', profile: 'unixfs-v0-2015', size: 11 });
  });

  it('files over 1 MiB: 174 chunks (one level) and 175 chunks (rebalanced) of 256 KiB', async () => {
    const bytes = kuboDeterministicBytes(44800 * KiB, 'v0-seed');
    const atMax = bytes.subarray(0, 44544 * KiB);
    expect((await importFile(atMax, 'unixfs-v0-2015', discardBlocks)).toString()).toBe('QmUbBALi174SnogsUzLpYbD4xPiBSFANF4iztWCsHbMKh2');
    const pinner = new LocalPinner(store, { profile: 'unixfs-v0-2015', gatewayBase: 'http://gw' });
    const cid = await pinner.add(bytes);
    expect(cid).toBe('QmepeWtdmS1hHXx1oZXsPUv6bMrfRRKfZcoPPU4eEfjnbf');
    // The blocks are in the blob store: the file reads back byte for byte.
    const back = await exportFile(parseCid(cid)!, store, 100 * 1024 * KiB);
    expect(back?.byteLength).toBe(bytes.byteLength);
    expect(createHash('sha256').update(back!).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('a CID whose blocks are not stored reads as absent', async () => {
    const other = new DirectoryBlobStore(fs.mkdtempSync(path.join(dir, 'empty-')));
    expect(await exportFile(parseCid('Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD')!, other, 1024)).toBeNull();
    expect(parseCid('not-a-cid')).toBeNull();
  });
});
