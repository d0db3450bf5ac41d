// Web Share Target in Chromium against `npm start`: another app shares files
// (or text) to Forever the way the operating system does, a navigation POST
// of multipart/form-data to /share-target. The service worker takes it, puts
// the files in the queue, answers 303 to /?shared=<n>, and the queued files
// are stored (claimed by the signed-in drain). An image gets its thumbnail
// made in the service worker (createImageBitmap + OffscreenCanvas).
import { describe, expect, it } from 'vitest';
import { Actor, HttpAgent } from '@dfinity/agent';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { idlFactory } from '../../src/declarations/forever/forever.did.js';
import type { _SERVICE } from '../../src/declarations/forever/forever.did';
import type { Page } from 'playwright-core';
import { MAX_THUMBNAIL_BYTES } from '../../contract';
import { browserSuite } from './support/browser-suite';
import { npmStart } from './support/npm-start';
import { userBucket } from './support/user-bucket';
import { grantDelegation } from './support/sign-in';

const HOUR = 3_600_000;
const suite = browserSuite(npmStart, { browser: 'per-file' });

interface QueuedView {
  id: string;
  name: string;
  mimeType: string;
  memoryType: string;
  state: string;
  owner: string | null;
  storeForever?: boolean;
  thumbnail: { type: string; size: number } | null;
}

/** The queue as IndexedDB holds it (read in the page: what the service worker wrote). */
function readQueue(page: Page): Promise<QueuedView[]> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('forever-upload-queue');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const get = <T,>(store: string, key?: string) =>
      new Promise<T>((resolve, reject) => {
        const s = db.transaction(store).objectStore(store);
        const req = key === undefined ? s.getAll() : s.get(key);
        req.onsuccess = () => resolve(req.result as T);
        req.onerror = () => reject(req.error);
      });
    const items = await get<{ id: string; name: string; mimeType: string; memoryType: string; state: string; owner: string | null; storeForever?: boolean }[]>('items');
    const out = [];
    for (const i of items) {
      const t = await get<Blob | undefined>('bytes', `${i.id}#thumbnail`);
      out.push({ id: i.id, name: i.name, mimeType: i.mimeType, memoryType: i.memoryType, state: i.state, owner: i.owner, storeForever: i.storeForever, thumbnail: t ? { type: t.type, size: t.size } : null });
    }
    db.close();
    return out;
  });
}

/** What the operating system does for a share: a form POST navigation, multipart/form-data, to the manifest's action. */
async function share(page: Page, fields: { title?: string; text?: string; url?: string; png?: { name: string; width: number; height: number } }): Promise<void> {
  await page.evaluate(async (f) => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = '/share-target';
    form.enctype = 'multipart/form-data';
    for (const key of ['title', 'text', 'url'] as const) {
      const value = f[key];
      if (value === undefined) continue;
      const input = document.createElement('input');
      input.name = key;
      input.value = value;
      form.append(input);
    }
    if (f.png) {
      // A real image, so the service worker can decode it for its thumbnail.
      const canvas = new OffscreenCanvas(f.png.width, f.png.height);
      const g = canvas.getContext('2d')!;
      const grad = g.createLinearGradient(0, 0, f.png.width, f.png.height);
      grad.addColorStop(0, '#0a7');
      grad.addColorStop(1, '#fc3');
      g.fillStyle = grad;
      g.fillRect(0, 0, f.png.width, f.png.height);
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      const input = document.createElement('input');
      input.type = 'file';
      input.name = 'files';
      const dt = new DataTransfer();
      dt.items.add(new File([blob], f.png.name, { type: 'image/png' }));
      input.files = dt.files;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  }, fields);
}

describe('share target', () => {
  it('queues shared files and text from a share POST, answers 303 to /?shared=n, and stores them once signed in', async () => {
    const { origin } = suite.stack;
    const page = await suite.browser.context.newPage();
    await page.goto(`${origin}/`);
    // The page registers the service worker; a share goes to it once it controls the app.
    await page.waitForFunction(() => navigator.serviceWorker?.controller !== null && navigator.serviceWorker?.controller !== undefined, undefined, { timeout: 60_000 });
    const user = Ed25519KeyIdentity.generate();
    const principal = await grantDelegation(page, HOUR, user);

    await share(page, { title: 'Sunset', png: { name: 'sunset.png', width: 1600, height: 1200 } });
    await page.waitForURL((u) => u.pathname === '/' && u.searchParams.get('shared') === '1', { timeout: 60_000 });

    // Text and a link without files become a note.
    await page.goto(`${origin}/?next`);
    await share(page, { title: 'A link', text: 'look at this', url: 'https://example.org/a' });
    await page.waitForURL((u) => u.searchParams.get('shared') === '1', { timeout: 60_000 });

    const queued = await readQueue(page);
    const image = queued.find((q) => q.name === 'sunset.png');
    const note = queued.find((q) => q.mimeType === 'text/markdown');
    expect(image).toMatchObject({ memoryType: 'Image', storeForever: true });
    expect(note).toMatchObject({ name: 'A link.md', memoryType: 'Note', storeForever: true });

    // Queued with no owner; the signed-in drain claims and stores them.
    await expect.poll(async () => (await readQueue(page)).map((q) => [q.name, q.state, q.owner]).sort(), { timeout: 150_000, interval: 500 }).toEqual([
      ['A link.md', 'recorded', principal],
      ['sunset.png', 'recorded', principal],
    ]);
    // The service worker made the image's thumbnail off the main thread: WebP within the contract's limit.
    const thumb = (await readQueue(page)).find((q) => q.name === 'sunset.png')!.thumbnail;
    expect(thumb?.type).toBe('image/webp');
    expect(thumb!.size).toBeGreaterThan(0);
    expect(thumb!.size).toBeLessThanOrEqual(MAX_THUMBNAIL_BYTES);
    // The server keeps it too (the service worker's server session is the origin's cookie, so the page reads it).
    const onServer = await page.evaluate(async (id) => {
      const res = await fetch(`/api/memories/${id}/thumbnail`, { credentials: 'same-origin' });
      return { status: res.status, type: res.headers.get('content-type'), size: (await res.arrayBuffer()).byteLength };
    }, image!.id);
    expect(onServer).toEqual({ status: 200, type: 'image/webp', size: thumb!.size });
    // And the user's bucket keeps it with the memory (set_thumbnail after its metadata), asked as the user.
    const agent = await HttpAgent.create({ host: origin, identity: user, shouldFetchRootKey: true });
    const actor = Actor.createActor<_SERVICE>(idlFactory, { agent, canisterId: await userBucket(origin, user) });
    const onIc = await actor.get_thumbnail(image!.id);
    expect('Ok' in onIc && onIc.Ok.length === 1 && onIc.Ok[0].mime_type).toBe('image/webp');
    expect('Ok' in onIc && onIc.Ok[0]!.bytes.length).toBe(thumb!.size);
  }, 300_000);
});
