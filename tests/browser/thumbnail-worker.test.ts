// Thumbnails in the built hash worker in Chromium (createImageBitmap +
// OffscreenCanvas, off the main thread): an image's bytes and a frame handed
// over as an ImageBitmap (a video's poster) become a WebP within the
// contract's limit, at most 320 px on the longest edge; a tighter limit gives
// a lower quality or a smaller picture that fits; bytes that are not an image give none.
import { describe, expect, it } from 'vitest';
import { MAX_THUMBNAIL_BYTES } from '../../contract';
import { hashWorkerPath, startAppStack } from './support/app-stack';
import { browserSuite } from './support/browser-suite';

const suite = browserSuite(() => startAppStack(), { browser: 'per-file' });

describe('thumbnail worker (Chromium)', () => {
  it('makes WebP thumbnails of images and frames within the limit', async () => {
    const page = await suite.browser.context.newPage();
    await page.goto(`${suite.stack.origin}/manifest.webmanifest`);
    const r = await page.evaluate(
      async ({ workerUrl, max }) => {
        const worker = new Worker(workerUrl, { type: 'module' });
        let nextJob = 1;
        const thumbnail = (source: Blob | ImageBitmap, maxBytes: number) =>
          new Promise<Blob | null>((resolve, reject) => {
            const jobId = nextJob++;
            const onMessage = (ev: MessageEvent) => {
              if (ev.data.jobId !== jobId) return;
              worker.removeEventListener('message', onMessage);
              if (ev.data.type === 'thumbnail-done') resolve(ev.data.blob);
              else reject(new Error(ev.data.message));
            };
            worker.addEventListener('message', onMessage);
            worker.postMessage({ type: 'thumbnail', jobId, source, maxBytes }, source instanceof Blob ? [] : [source]);
          });
        // A busy picture (gradient and speckles) that a naive encode would not fit in a few KiB.
        const draw = (w: number, h: number) => {
          const c = new OffscreenCanvas(w, h);
          const g = c.getContext('2d')!;
          const grad = g.createLinearGradient(0, 0, w, h);
          grad.addColorStop(0, '#123');
          grad.addColorStop(1, '#fd8');
          g.fillStyle = grad;
          g.fillRect(0, 0, w, h);
          let seed = 7;
          for (let i = 0; i < 40_000; i++) {
            seed = (seed * 1103515245 + 12345) & 0x7fffffff;
            g.fillStyle = `hsl(${seed % 360} 80% 50%)`;
            g.fillRect(seed % w, (seed >> 8) % h, 3, 3);
          }
          return c;
        };
        const dims = async (b: Blob) => {
          const bmp = await createImageBitmap(b);
          const d = { w: bmp.width, h: bmp.height };
          bmp.close();
          return d;
        };
        const png = await draw(2400, 1600).convertToBlob({ type: 'image/png' });
        const fromImage = (await thumbnail(png, max))!;
        const frame = draw(1280, 720).transferToImageBitmap();
        const fromFrame = (await thumbnail(frame, max))!;
        const tight = await thumbnail(png, 4000);
        const notImage = await thumbnail(new Blob([new Uint8Array(1000).fill(1)], { type: 'image/jpeg' }), max);
        worker.terminate();
        return {
          pngSize: png.size,
          image: { type: fromImage.type, size: fromImage.size, ...(await dims(fromImage)) },
          frame: { type: fromFrame.type, size: fromFrame.size, ...(await dims(fromFrame)) },
          tight: tight ? { size: tight.size, ...(await dims(tight)) } : null,
          notImage,
        };
      },
      { workerUrl: hashWorkerPath(), max: MAX_THUMBNAIL_BYTES },
    );
    expect(r.pngSize).toBeGreaterThan(MAX_THUMBNAIL_BYTES);
    expect(r.image).toMatchObject({ type: 'image/webp', w: 320, h: 213 });
    expect(r.image.size).toBeLessThanOrEqual(MAX_THUMBNAIL_BYTES);
    expect(r.frame).toMatchObject({ type: 'image/webp', w: 320, h: 180 });
    expect(r.frame.size).toBeLessThanOrEqual(MAX_THUMBNAIL_BYTES);
    // Under a tight limit: a lower quality (or a smaller picture) that fits.
    expect(r.image.size).toBeGreaterThan(4000);
    expect(r.tight).not.toBeNull();
    expect(r.tight!.size).toBeLessThanOrEqual(4000);
    expect(Math.max(r.tight!.w, r.tight!.h)).toBeLessThanOrEqual(320);
    expect(r.notImage).toBeNull();
    await page.close();
  });
});
