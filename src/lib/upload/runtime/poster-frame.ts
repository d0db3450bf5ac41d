// A video's poster frame, grabbed in the page that adds it: decoding video
// needs a <video> element, which exists neither in workers nor in the service
// worker. The page grabs one frame as an ImageBitmap and hands it to the hash
// worker, which encodes the thumbnail (so only the grab is on the main
// thread). The trade-off: a video shared to the app while no page is open
// (share target) gets no poster; the library shows its type icon.

/** Longest the page waits for a video to give a frame before it goes on without one. */
const FRAME_TIMEOUT_MS = 15_000;

function once(target: HTMLVideoElement, event: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      target.removeEventListener(event, done);
      target.removeEventListener('error', fail);
      resolve();
    };
    const fail = () => {
      target.removeEventListener(event, done);
      reject(new Error('the video could not be decoded'));
    };
    target.addEventListener(event, done, { once: true });
    target.addEventListener('error', fail, { once: true });
    signal.addEventListener('abort', () => reject(new Error('no frame in time')), { once: true });
  });
}

/** One frame of `video` (a tenth into it, at most 1 s), or null when this browser cannot decode it. */
export async function grabPosterFrame(video: Blob): Promise<ImageBitmap | null> {
  if (typeof document === 'undefined' || typeof createImageBitmap === 'undefined') return null;
  const url = URL.createObjectURL(video);
  const el = document.createElement('video');
  el.muted = true;
  el.playsInline = true;
  el.preload = 'auto';
  const timeout = AbortSignal.timeout(FRAME_TIMEOUT_MS);
  try {
    const loaded = once(el, 'loadeddata', timeout);
    el.src = url;
    await loaded;
    const at = Number.isFinite(el.duration) ? Math.min(1, el.duration / 10) : 0;
    if (at > 0) {
      const seeked = once(el, 'seeked', timeout);
      el.currentTime = at;
      await seeked;
    }
    return await createImageBitmap(el);
  } catch {
    return null;
  } finally {
    el.removeAttribute('src');
    el.load();
    URL.revokeObjectURL(url);
  }
}
