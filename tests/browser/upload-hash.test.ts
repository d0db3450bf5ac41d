// The hash worker in Chromium: streaming hash-wasm SHA-256 over Blob slices
// must equal Node's SHA-256 of the same 50 MB of random bytes; cancelling
// stops a job.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashWorkerPath, startAppStack } from './support/app-stack';
import { browserSuite } from './support/browser-suite';

const DATA = randomBytes(50 * 1024 * 1024);
// The app's files and the test data from one origin; no canister calls here.
const suite = browserSuite(
  () => startAppStack((root) => root.get('/test-data/random.bin', (c) => c.body(DATA, 200, { 'content-type': 'application/octet-stream' }))),
  { browser: 'per-file' },
);

describe('hash worker (Chromium)', () => {
  it("hashes a 50 MB random file to Node's SHA-256, with progress, off the main thread", async () => {
    const page = await suite.browser.context.newPage();
    await page.goto(`${suite.stack.origin}/manifest.webmanifest`);
    const result = await page.evaluate(async (workerUrl) => {
      const blob = await (await fetch('/test-data/random.bin')).blob();
      const worker = new Worker(workerUrl, { type: 'module' });
      const progress: number[] = [];
      const sha256 = await new Promise<string>((resolve, reject) => {
        worker.onmessage = (ev) => {
          const m = ev.data;
          if (m.type === 'progress') progress.push(m.hashed);
          else if (m.type === 'done') resolve(m.sha256);
          else reject(new Error(m.message));
        };
        worker.postMessage({ type: 'hash', jobId: 1, blob });
      });
      worker.terminate();
      return { sha256, size: blob.size, progress };
    }, hashWorkerPath());
    expect(result.size).toBe(DATA.length);
    expect(result.sha256).toBe(createHash('sha256').update(DATA).digest('hex'));
    expect(result.progress.at(-1)).toBe(DATA.length);
    expect(result.progress.length).toBeGreaterThan(1);
    await page.close();
  });

  it('cancels a running job', async () => {
    const page = await suite.browser.context.newPage();
    await page.goto(`${suite.stack.origin}/manifest.webmanifest`);
    const outcome = await page.evaluate(async (workerUrl) => {
      const blob = await (await fetch('/test-data/random.bin')).blob();
      const worker = new Worker(workerUrl, { type: 'module' });
      const answer = new Promise<{ type: string; name?: string }>((resolve) => {
        worker.onmessage = (ev) => {
          if (ev.data.type === 'progress') worker.postMessage({ type: 'cancel', jobId: 7 });
          else resolve(ev.data);
        };
      });
      worker.postMessage({ type: 'hash', jobId: 7, blob, sliceSize: 1024 * 1024 });
      const r = await answer;
      worker.terminate();
      return r;
    }, hashWorkerPath());
    expect(outcome).toMatchObject({ type: 'error', name: 'AbortError' });
    await page.close();
  });
});
