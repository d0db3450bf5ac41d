/// <reference lib="webworker" />
// The service worker: precaches the app shell, caches thumbnails already seen, drains the upload queue on
// Background Sync, when a page asks, and when it starts, and takes files other
// apps share to Forever (Web Share Target: POST /share-target). It holds no
// signed requests: each drain signs fresh calls with the delegation the auth
// client keeps in IndexedDB, and parks items as needs-sign-in when it expired.
import { build, files, version } from '$service-worker';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { StaleWhileRevalidate } from 'workbox-strategies';
import { ExpirationPlugin } from 'workbox-expiration';
import { THUMBNAIL_CACHE } from './lib/library/offline';
import { createBrowserEngine } from './lib/upload/runtime/browser-engine';
import { loadClientConfig } from './lib/upload/adapters/client-config';
import type { ChannelMessage, DrainReport } from './lib/upload/core/events';
import { Drainer, SYNC_TAG, UPLOAD_CHANNEL } from './lib/upload/runtime/drainer';
import { inlineHasher, inlineThumbnailer } from './lib/upload/adapters/hasher';
import { addFiles, addNote, wakeOffline } from './lib/upload/runtime/queue-actions';
import { QueueStore } from './lib/upload/adapters/queue-store';
import type { SwRequest } from './lib/upload/runtime/sw-protocol';

const sw = self as unknown as ServiceWorkerGlobalScope;

// Hashed build files change name when they change; the rest carry the build version.
precacheAndRoute([
  ...build.map((url) => ({ url, revision: null })),
  ...files.map((url) => ({ url, revision: version })),
  { url: '/index.html', revision: version },
]);
cleanupOutdatedCaches();
// SPA: every app navigation gets the shell, except the server's and the IC's paths.
registerRoute(new NavigationRoute(createHandlerBoundToURL('/index.html'), { denylist: [/^\/api\//, /^\/ii(\/|$)/, /^\/metrics/, /^\/healthz/] }));
// Thumbnails already seen show offline and at once: served from the cache, refreshed behind (a thumbnail
// never changes once made, at most 64 KiB each). Sign-out deletes the cache (the page does it).
registerRoute(
  ({ url, request }) => request.method === 'GET' && url.origin === sw.location.origin && /^\/api\/memories\/[^/]+\/thumbnail$/.test(url.pathname),
  new StaleWhileRevalidate({ cacheName: THUMBNAIL_CACHE, plugins: [new ExpirationPlugin({ maxEntries: 5000, purgeOnQuotaError: true })] }),
);

const channel = new BroadcastChannel(UPLOAD_CHANNEL);
const post = (msg: ChannelMessage) => channel.postMessage(msg);

let storePromise: Promise<QueueStore> | null = null;
const openStore = () => (storePromise ??= QueueStore.open());

const drainer = new Drainer(
  async () => {
    const store = await openStore();
    const config = await loadClientConfig(store, sw.location.origin);
    return createBrowserEngine({ config, store, hasher: inlineHasher, thumbnailer: inlineThumbnailer, onEvent: post });
  },
  undefined,
  (report) => post({ type: 'drained', report, by: 'service-worker' }),
);

/** Longest wait for a retry inside one event; Chrome stops an event after about 5 minutes. */
const MAX_IN_EVENT_WAIT_MS = 60_000;

/**
 * Drains, then waits for retries that are due soon. When the next retry is far
 * off it rejects, so the browser schedules the sync again with its own backoff.
 */
async function drainForSync(): Promise<void> {
  let report: DrainReport = await drainer.request();
  while (report.nextWakeAt !== null) {
    const wait = report.nextWakeAt - Date.now();
    if (wait > MAX_IN_EVENT_WAIT_MS) throw new Error(`uploads waiting for a retry at ${new Date(report.nextWakeAt).toISOString()}`);
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    report = await drainer.request();
  }
}

sw.addEventListener('install', () => {
  void sw.skipWaiting();
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(sw.clients.claim().then(() => drainer.request().then(() => undefined, () => undefined)));
});

// SyncEvent is not in TypeScript's webworker lib.
sw.addEventListener('sync' as keyof ServiceWorkerGlobalScopeEventMap, (event) => {
  const e = event as ExtendableEvent & { tag: string };
  // The browser fires it when it is online again: what waited only for the network goes now.
  if (e.tag === SYNC_TAG) e.waitUntil(openStore().then((store) => wakeOffline(store)).then(drainForSync));
});

sw.addEventListener('message', (event) => {
  const msg = event.data as SwRequest;
  if (msg?.type === 'drain') {
    const done = drainForSync().catch(() => undefined);
    event.waitUntil(done);
    event.ports[0]?.postMessage({ type: 'accepted' });
  }
});

/** Where the share target's POST lands (the manifest's `share_target.action`). */
const SHARE_TARGET_PATH = '/share-target';

/**
 * A share from another app: the files go into the queue as they are (owner
 * null, claimed by the next signed-in drain; stored forever), text or a link
 * without files becomes a note. Answers 303 to the app with the count.
 */
async function takeShare(request: Request): Promise<{ response: Response; drained: Promise<unknown> }> {
  let queued = 0;
  let drained: Promise<unknown> = Promise.resolve();
  const ids: string[] = [];
  try {
    const form = await request.formData();
    const files = form.getAll('files').filter((f): f is File => f instanceof File && f.name !== '');
    const store = await openStore();
    const title = String(form.get('title') ?? '').trim();
    if (files.length > 0) {
      const titles = files.length === 1 && title ? new Map([[files[0], title]]) : undefined;
      const added = await addFiles(store, { files, storeForever: true, owner: null, titles }, { storage: navigator.storage });
      ids.push(...added.queued.map((q) => q.id));
    } else {
      const text = [String(form.get('text') ?? '').trim(), String(form.get('url') ?? '').trim()].filter(Boolean).join('\n\n');
      if (text) {
        ids.push((await addNote(store, { title: title || text.split('\n')[0].slice(0, 120), text, storeForever: true, owner: null })).id);
      }
    }
    queued = ids.length;
    if (queued > 0) {
      post({ type: 'shared', ids });
      drained = drainer.request().catch(() => undefined);
    }
  } catch (err) {
    console.error('share target: nothing queued', err instanceof Error ? err.name : 'error');
  }
  return { response: Response.redirect(new URL(`/?shared=${queued}`, sw.location.origin).href, 303), drained };
}

sw.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'POST' || url.origin !== sw.location.origin || url.pathname !== SHARE_TARGET_PATH) return;
  const work = takeShare(event.request);
  event.respondWith(work.then((w) => w.response));
  // The drain outlives the response: the event keeps the worker alive for it.
  event.waitUntil(work.then((w) => w.drained));
});

// "When it starts": a worker woken for any reason picks up interrupted work.
void drainer.request().catch(() => undefined);
