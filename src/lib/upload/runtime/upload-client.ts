// The page's side of the upload engine: registers the service worker
// (workbox-window), enqueues files, and asks for a drain — from the service
// worker (message + Background Sync) where there is one, otherwise by running
// the engine in the page with the hash worker, on load and when the browser
// comes back online. Progress from whichever context drains arrives on the
// upload BroadcastChannel.
import { Workbox } from 'workbox-window';
import { createBrowserEngine, storedSessions } from './browser-engine';
import { toView } from './engine';
import { grabPosterFrame } from './poster-frame';
import { addFiles, addNote, cancelItem, claimUnowned, retryItem, wakeOffline, storeForever, type AddFilesInput, type AddFilesResult, type AddNoteInput, type Web2Memory } from './queue-actions';
import { loadClientConfig, type ClientConfig } from '../adapters/client-config';
import type { ChannelMessage } from '../core/events';
import { Drainer, SYNC_TAG, UPLOAD_CHANNEL } from './drainer';
import { enqueueFiles, type EnqueueFilesResult } from '../core/enqueue-files';
import { enqueue } from './enqueue';
import { requestPersistence, type PersistenceStatus } from '../adapters/browser-storage';
import type { EnqueueInput } from '../core/queue-item';
import { reusableHasher, WorkerHasher } from '../adapters/hasher';
import { QueueStore } from '../adapters/queue-store';
import type { SwRequest } from './sw-protocol';
import type { QueueItem } from '../core/types';
import { wakeOnDrained, WakeSchedule } from './wake-schedule';

interface SyncRegistration extends ServiceWorkerRegistration {
  sync?: { register(tag: string): Promise<void> };
}

export type DrainMode = 'service-worker' | 'page';

export class UploadClient {
  readonly channel = new BroadcastChannel(UPLOAD_CHANNEL);
  private pageDrainer: Drainer | null = null;
  /** The page's hash worker: hashes in page mode, thumbnails and poster frames always. */
  private readonly hasher = reusableHasher(() => WorkerHasher.create());
  /** One timer for the earliest retry any drain (this page's, another page's or the service worker's) reported. */
  private readonly wake = new WakeSchedule(() => void this.drain());

  private constructor(
    readonly store: QueueStore,
    readonly config: ClientConfig,
    readonly mode: DrainMode,
    private readonly registration: SyncRegistration | null,
    readonly persistence: PersistenceStatus,
  ) {}

  /**
   * Opens the queue, reads the config, registers the service worker and asks
   * for persistent storage. `useServiceWorker: false` forces the page fallback.
   */
  static async start(opts: { useServiceWorker?: boolean } = {}): Promise<UploadClient> {
    const store = await QueueStore.open();
    const config = await loadClientConfig(store, location.origin);
    let registration: SyncRegistration | null = null;
    if ((opts.useServiceWorker ?? true) && 'serviceWorker' in navigator) {
      const wb = new Workbox('/service-worker.js');
      await wb.register();
      registration = (await navigator.serviceWorker.ready) as SyncRegistration;
    }
    // Background Sync is what lets the worker finish after the tab closes; without it the page drains.
    const mode: DrainMode = registration?.sync ? 'service-worker' : 'page';
    const persistence = await requestPersistence(navigator.storage);
    const client = new UploadClient(store, config, mode, registration, persistence);
    if (mode === 'page') {
      client.pageDrainer = new Drainer(
        async () => createBrowserEngine({ config, store, hasher: client.hasher, thumbnailer: client.hasher, onEvent: (e) => client.emit(e) }),
        undefined,
        (report) => client.emit({ type: 'drained', report, by: 'page' }),
      );
    }
    // Items waiting for a retry: Background Sync stops re-firing after a few
    // failed tries, so the page asks for the drain itself when one is due.
    client.subscribe(wakeOnDrained(client.wake));
    // Back online: ask again (the service worker also gets its sync then, where there is one).
    addEventListener('online', () => void client.drain());
    void client.drain();
    return client;
  }

  /** Page-drained events go to this page's listeners and to other pages alike. */
  private emit(msg: ChannelMessage): void {
    this.channel.postMessage(msg);
    this.localListeners.forEach((l) => l(msg));
  }

  private readonly localListeners = new Set<(m: ChannelMessage) => void>();

  /** Every event from the service worker or a page drainer, including this page's own. */
  subscribe(listener: (m: ChannelMessage) => void): () => void {
    const onMessage = (ev: MessageEvent<ChannelMessage>) => listener(ev.data);
    this.channel.addEventListener('message', onMessage);
    this.localListeners.add(listener);
    return () => {
      this.channel.removeEventListener('message', onMessage);
      this.localListeners.delete(listener);
    };
  }

  /**
   * Validates every file first (contract limits: empty file, > MAX_FILE_BYTES,
   * name > 255 UTF-8 bytes, title > 512 bytes); queues only what can succeed,
   * then asks for a drain. A video gets its poster frame here (see
   * poster-frame.ts). Resolves once queued, not once uploaded.
   */
  async add(input: AddFilesInput): Promise<AddFilesResult> {
    const result = await addFiles(this.store, input, {
      storage: navigator.storage,
      onQueued: async (item, file) => {
        this.emit({ type: 'state', item: toView(item) });
        if (!item.mimeType.startsWith('video/')) return;
        const frame = await grabPosterFrame(file);
        const thumb = frame ? await this.hasher.thumbnail(frame) : null;
        if (thumb) await this.store.putThumbnail(item.id, thumb);
      },
    });
    if (result.queued.length > 0) this.requestDrain();
    return result;
  }

  /** A note (type Note, its text stored as a text/markdown file). Throws RefusedError naming the cause. */
  async addNote(input: AddNoteInput): Promise<{ id: string }> {
    const item = await addNote(this.store, input, navigator.storage);
    this.emit({ type: 'state', item: toView(item) });
    this.requestDrain();
    return { id: item.id };
  }

  /**
   * Store Forever later, for memories that are Web2-only: bytes from this
   * browser's queue when it has them, otherwise GET /api/memories/:id/content,
   * re-hashed in the worker and compared with the recorded sha256 before any
   * chunk is sent (a mismatch fails the item with a clear reason).
   */
  async storeForever(memories: Web2Memory[]): Promise<{ queued: string[]; refused: { id: string; reason: string }[] }> {
    const result = await storeForever(this.store, memories);
    for (const id of result.queued) {
      const item = await this.store.get(id);
      if (item) this.emit({ type: 'state', item: toView(item) });
    }
    if (result.queued.length > 0) this.requestDrain();
    return result;
  }

  /** Queues each file it can (failures reported per file) and asks for a drain of what was queued (the minimal test page's path). */
  enqueueFiles(files: Iterable<File>, owner: string | null): Promise<EnqueueFilesResult> {
    return enqueueFiles(
      files,
      (file) => {
        const input: EnqueueInput = { blob: file, name: file.name, mimeType: file.type || undefined, owner };
        return enqueue(this.store, input, navigator.storage);
      },
      () => this.drain(),
    );
  }

  /** A drain, without waiting for it in page mode (where it runs the uploads themselves). */
  private requestDrain(): void {
    void this.drain().catch((err) => console.error('drain request failed', err));
  }

  /** Asks for a drain now; resolves once it is requested (the service worker) or finished (page mode). */
  async drain(): Promise<void> {
    if (this.mode === 'page') {
      await this.pageDrainer?.request().catch((err) => console.error('drain failed', err));
      return;
    }
    const reg = this.registration;
    if (!reg) return;
    // A sync survives the tab: if the worker is stopped mid-drain, the browser fires it again (also after coming online).
    await reg.sync?.register(SYNC_TAG).catch(() => undefined);
    const target = navigator.serviceWorker.controller ?? reg.active;
    target?.postMessage({ type: 'drain' } satisfies SwRequest);
  }

  list(): Promise<QueueItem[]> {
    return this.store.list();
  }

  /** The user retries a failed item (from the start), or a waiting one now. */
  async retry(id: string): Promise<void> {
    await retryItem(this.store, id);
    await this.announce(id);
    await this.drain();
  }

  /** Dismisses an item (a failed or waiting one, typically); its queued bytes are freed. Idempotent. */
  async remove(id: string): Promise<void> {
    const item = await this.store.get(id);
    await this.store.remove(id);
    if (item) this.emit({ type: 'removed', id });
  }

  /** Back online: what waited only for the network goes now. */
  async wakeOffline(): Promise<void> {
    if ((await wakeOffline(this.store)) > 0) await this.drain();
  }

  /** Gives the items queued before sign-in to `owner` (see claimUnowned). */
  async claimUnowned(owner: string): Promise<string[]> {
    const ids = await claimUnowned(this.store, owner);
    for (const id of ids) await this.announce(id);
    return ids;
  }

  /** cancel_upload on the canister when the item has a session, then remove. Idempotent. */
  async cancel(id: string): Promise<void> {
    const item = await this.store.get(id);
    const sessions = storedSessions(this.config, this.store);
    await cancelItem(this.store, id, async () => (await sessions()).canister);
    if (item) this.emit({ type: 'removed', id });
  }

  private async announce(id: string): Promise<void> {
    const item = await this.store.get(id);
    if (item) this.emit({ type: 'state', item: toView(item) });
  }
}
