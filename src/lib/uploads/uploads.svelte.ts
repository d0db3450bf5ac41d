// This browser's queue as the screens see it: every item with its latest
// progress, kept current from the upload channel. The screens reach the
// upload engine only through its page client (UploadClient).
import { UploadClient } from '../upload/page-client';
import type { ProgressSnapshot, QueueItem } from '../upload/types';
import { describeQueueItem, type ItemWords } from './describe';
import { partitionFiles, type Refusal } from '../library/add-checks';

/**
 * The client's newer calls (Web2-only adds, notes, Store Forever of stored
 * memories, remove/cancel): used when the running engine has them.
 */
interface NewerClient {
  add?(input: { files: File[]; storeForever: boolean; folderId?: string; owner: string | null; titles?: string[] }): Promise<{ queued: unknown[]; refused: { name: string; reason: string }[] }>;
  addNote?(input: { title: string; text: string; storeForever: boolean; folderId?: string; owner: string | null }): Promise<unknown>;
  storeForever?(memories: { id: string }[] | string[]): Promise<unknown>;
  remove?(id: string): Promise<void>;
  cancel?(id: string): Promise<void>;
}

export interface UploadRow {
  item: QueueItem;
  progress: ProgressSnapshot | undefined;
  words: ItemWords;
}

export class Uploads {
  client: (UploadClient & NewerClient) | null = $state.raw(null);
  items: QueueItem[] = $state.raw([]);
  progress: Record<string, ProgressSnapshot> = $state.raw({});
  startError: string | null = $state(null);
  private refreshing: Promise<void> | null = null;
  private again = false;

  readonly rows: UploadRow[] = $derived(
    this.items
      .slice()
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((item) => ({ item, progress: this.progress[item.id], words: describeQueueItem(item, this.progress[item.id]) })),
  );
  /** Items still on their way (not stored, not failed). */
  readonly active: UploadRow[] = $derived(this.rows.filter((r) => r.item.state !== 'recorded' && r.item.state !== 'failed'));
  readonly failed: UploadRow[] = $derived(this.rows.filter((r) => r.item.state === 'failed'));
  /** Overall percent of the bytes of the active items. */
  readonly percent: number = $derived.by(() => {
    let sent = 0;
    let total = 0;
    for (const r of this.active) {
      total += r.item.size;
      const p = r.progress;
      sent += r.item.state === 'committing' || r.item.state === 'verifying' ? r.item.size : p && p.totalBytes > 0 ? p.bytesSent : r.item.chunkCount > 0 ? (r.item.receivedChunks.length / r.item.chunkCount) * r.item.size : 0;
    }
    return total > 0 ? Math.floor((sent / total) * 100) : 0;
  });

  get supportsWeb2Only(): boolean {
    return typeof this.client?.add === 'function';
  }
  get supportsNotes(): boolean {
    return typeof this.client?.addNote === 'function';
  }
  get supportsStoreForever(): boolean {
    return typeof this.client?.storeForever === 'function';
  }

  async start(opts: { useServiceWorker?: boolean } = {}): Promise<UploadClient> {
    const client = (await UploadClient.start(opts)) as UploadClient & NewerClient;
    this.client = client;
    client.subscribe((m) => {
      if (m.type === 'progress') this.progress = { ...this.progress, [m.progress.id]: m.progress };
      else void this.refresh();
    });
    await this.refresh();
    return client;
  }

  /** Re-reads the queue; calls that arrive while one runs make one more pass. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        if (this.client) this.items = await this.client.list();
      } while (this.again);
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  byMemory(id: string): UploadRow | undefined {
    return this.rows.find((r) => r.item.id === id || r.item.duplicateOf === id);
  }

  /**
   * Adds files: each refused one comes back with its cause and is never
   * queued. Without the engine's Web2-only path, every add is stored forever.
   */
  async add(files: File[], opts: { storeForever: boolean; owner: string | null; folderId?: string; titles?: string[] }): Promise<{ queued: number; refused: Refusal[] }> {
    const client = this.client;
    if (!client) throw new Error('The upload queue is not ready yet');
    const { ok, refused } = partitionFiles(files, opts.titles);
    if (ok.length === 0) return { queued: 0, refused };
    if (client.add) {
      const titles = opts.titles ? files.map((f, i) => [f, opts.titles![i]] as const).filter(([f]) => ok.includes(f)).map(([, t]) => t ?? '') : undefined;
      const r = await client.add({ files: ok, storeForever: opts.storeForever, folderId: opts.folderId, owner: opts.owner, titles });
      await this.refresh();
      return { queued: r.queued.length, refused: [...refused, ...r.refused] };
    }
    const r = await client.enqueueFiles(ok, opts.owner);
    await this.refresh();
    return { queued: r.queued.length, refused: [...refused, ...r.failed.map((f) => ({ name: f.name, reason: f.error.message }))] };
  }

  async addNote(input: { title: string; text: string; storeForever: boolean; owner: string | null; folderId?: string }): Promise<void> {
    if (!this.client?.addNote) throw new Error('Notes need a newer upload engine');
    await this.client.addNote(input);
    await this.refresh();
  }

  async storeForever(ids: string[]): Promise<void> {
    if (!this.client?.storeForever) throw new Error('Storing memories that are already saved needs a newer upload engine');
    await this.client.storeForever(ids.map((id) => ({ id })));
    await this.refresh();
  }

  async retry(id: string): Promise<void> {
    await this.client?.retry(id);
    await this.refresh();
  }

  async remove(id: string): Promise<void> {
    if (this.client?.remove) await this.client.remove(id);
    else await this.client?.store.remove(id);
    await this.refresh();
  }

  async cancel(id: string): Promise<void> {
    if (this.client?.cancel) await this.client.cancel(id);
    else await this.remove(id);
    await this.refresh();
  }
}
