// `npm run bench ipfs`: the local pinner's throughput on a 50 MB file, as MB/s
// and as a ratio to SHA-256 of the same bytes (node:crypto, measured in the
// same run). Two figures: the CID alone (UnixFS import, blocks discarded)
// and a full pin (blocks written to a directory blob store), in both profiles.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DirectoryBlobStore } from '../server/blob-copy/directory-store.js';
import { LocalPinner } from '../server/ipfs/local-pinner.js';
import type { CidProfile } from '../server/ipfs/pinner.js';
import { discardBlocks, importFile } from '../server/ipfs/unixfs.js';

const SIZE = Number(process.env.BENCH_IPFS_BYTES ?? 50_000_000);
const RUNS = 3;

/** Best of RUNS, in MB/s (10^6 bytes). */
async function mbps(run: (i: number) => Promise<unknown> | unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await run(i);
    best = Math.min(best, performance.now() - t);
  }
  return SIZE / 1e6 / (best / 1000);
}

export default async function bench(): Promise<void> {
  const bytes = new Uint8Array(randomBytes(SIZE));
  const sha = await mbps(() => createHash('sha256').update(bytes).digest());
  const rows: string[] = [`| SHA-256 (node:crypto), baseline | ${sha.toFixed(0)} | 1.00 |`];
  for (const profile of ['unixfs-v0-2015', 'unixfs-v1-2025'] as CidProfile[]) {
    const cidOnly = await mbps(() => importFile(bytes, profile, discardBlocks));
    rows.push(`| CID only, ${profile} | ${cidOnly.toFixed(0)} | ${(cidOnly / sha).toFixed(2)} |`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forever-bench-ipfs-'));
    try {
      // A fresh store per run: a pin of blocks already present writes nothing.
      const pin = await mbps((i) => new LocalPinner(new DirectoryBlobStore(path.join(dir, String(i))), { profile, gatewayBase: '' }).add(bytes));
      rows.push(`| LocalPinner pin (blocks to the blob store), ${profile} | ${pin.toFixed(0)} | ${(pin / sha).toFixed(2)} |`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`${(SIZE / 1e6).toFixed(0)} MB of random bytes, best of ${RUNS}\n`);
  console.log('| what | MB/s | ratio to SHA-256 |\n| --- | --- | --- |');
  for (const r of rows) console.log(r);
}
