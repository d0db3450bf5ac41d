// This browser's queue as the screens see it: every item with its latest
// progress and its plain words, kept current from the upload channel. The
// screens reach the upload engine only through its public client.
import { describeItem, RefusedError, UploadClient, type ItemDescription, type ProgressSnapshot, type QueueItem, type Refusal, type Web2Memory } from '../upload';

export interface UploadRow {
  item: QueueItem;
  progress: ProgressSnapshot | undefined;
  words: ItemDescription;
}

export class Uploads {
  client: UploadClient | null = $state.raw(null);
  /** Every item of this browser's queue, whoever queued it. */
  items: QueueItem[] = $state.raw([]);
  progress: Record<string, ProgressSnapshot> = $state.raw({});
  private refreshing: Promise<void> | null = null;
  private again = false;
  private readonly owner: () => string | null;

  /** `owner`: who is signed in; only their items (and those queued before sign-in, until claimed) are shown. */
  constructor(owner: () => string | null = () => null) {
    this.owner = owner;
  }

  /** The signed-in person's items: another user's queue on this browser is not theirs to see. */
  readonly mine: QueueItem[] = $derived.by(() => {
    const who = this.owner();
    return who === null ? [] : this.items.filter((i) => i.owner === who || i.owner === null);
  });

  readonly rows: UploadRow[] = $derived(
    this.mine
      .slice()
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((item) => ({ item, progress: this.progress[item.id], words: describeItem(item, this.progress[item.id]) })),
  );
  /** Items still on their way (neither stored forever, saved to Web2 only, waiting on the server's own retry, nor failed). */
  readonly active: UploadRow[] = $derived(this.rows.filter((r) => r.item.state !== 'recorded' && r.item.state !== 'saved' && r.item.state !== 'failed' && r.words.tone !== 'web2'));
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

  async start(opts: { useServiceWorker?: boolean } = {}): Promise<UploadClient> {
    const client = await UploadClient.start(opts);
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

  private need(): UploadClient {
    if (!this.client) throw new Error('The upload queue is not ready yet');
    return this.client;
  }

  /** Adds files; every refused one comes back with its cause and is never queued. */
  async add(files: File[], opts: { storeForever: boolean; owner: string | null; folderId?: string; title?: string }): Promise<{ queued: number; refused: Refusal[] }> {
    const titles = opts.title && files.length === 1 ? new Map([[files[0], opts.title]]) : undefined;
    const r = await this.need().add({ files, storeForever: opts.storeForever, folderId: opts.folderId ?? null, owner: opts.owner, titles });
    await this.refresh();
    return { queued: r.queued.length, refused: r.refused };
  }

  /** Adds a note; a refusal comes back as its cause. */
  async addNote(input: { title: string; text: string; storeForever: boolean; owner: string | null; folderId?: string }): Promise<string | null> {
    try {
      await this.need().addNote({ ...input, folderId: input.folderId ?? null });
      await this.refresh();
      return null;
    } catch (e) {
      if (e instanceof RefusedError) return e.reason;
      throw e;
    }
  }

  async storeForever(memories: Web2Memory[]): Promise<{ queued: string[]; refused: { id: string; reason: string }[] }> {
    const r = await this.need().storeForever(memories);
    await this.refresh();
    return r;
  }

  /** Items queued before sign-in become the signed-in person's. */
  async claim(owner: string): Promise<void> {
    const ids = await this.need().claimUnowned(owner);
    if (ids.length) await this.refresh();
  }

  async retry(id: string): Promise<void> {
    await this.need().retry(id);
    await this.refresh();
  }

  async remove(id: string): Promise<void> {
    await this.need().remove(id);
    await this.refresh();
  }

  async cancel(id: string): Promise<void> {
    await this.need().cancel(id);
    await this.refresh();
  }
}
