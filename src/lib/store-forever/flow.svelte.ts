// One Store Forever run for a memory, a selection or a gallery:
// idle → auth → prepare → store → verify → success | error. The bytes move
// through the upload queue, so closing the modal never stops them; the run
// only watches the queue items of its memories.
import type { Session } from '../auth/session.svelte';
import type { Uploads, UploadRow } from '../uploads/uploads.svelte';
import type { Library } from '../library/library.svelte';
import type { Web2Memory } from '../upload';
import { categorize, CATEGORY_WORDS, type ErrorCategory, type Step } from './steps';
import { v7 as uuidv7 } from 'uuid';

export interface Target {
  kind: 'memory' | 'selection' | 'gallery';
  title: string;
  memoryIds: string[];
  /** Ids already on ICP when the run started (skipped). */
  alreadyStored: string[];
  gallery?: { id: string; title: string; description: string | null };
}

/** Where a run in progress is kept, so that a reload finds it (sessionStorage: this tab only). */
const RUN_KEY = 'forever-store-forever-run';
const RUNNING: Step[] = ['auth', 'prepare', 'store', 'verify'];
const OFFLINE_CODES = new Set(['Network', 'Timeout', 'CircuitOpen']);

interface SavedRun {
  target: Target;
  step: Step;
  open: boolean;
  startedAt: number;
}

export class StoreForeverFlow {
  #step: Step = $state('idle');
  target: Target | null = $state.raw(null);
  #open = $state(false);
  error: { category: ErrorCategory; words: string; reasons: { name: string; reason: string }[] } | null = $state.raw(null);
  startedAt = 0;
  private onDone: (() => Promise<void>) | null = null;

  private readonly session: Session;
  private readonly uploads: Uploads;
  private readonly library: Library;
  /** Memories the engine would not take, with its reason (kept for the error step). */
  private refused: { name: string; reason: string }[] = [];

  constructor(session: Session, uploads: Uploads, library: Library) {
    this.session = session;
    this.uploads = uploads;
    this.library = library;
  }

  get step(): Step {
    return this.#step;
  }
  set step(v: Step) {
    this.#step = v;
    this.save();
  }
  get open(): boolean {
    return this.#open;
  }
  set open(v: boolean) {
    this.#open = v;
    this.save();
  }

  /** A run in progress outlives a reload of the tab: its memories go on in the queue, and the modal picks them up again. */
  private save(): void {
    if (typeof sessionStorage === 'undefined') return;
    if (this.target && RUNNING.includes(this.#step)) sessionStorage.setItem(RUN_KEY, JSON.stringify({ target: this.target, step: this.#step, open: this.#open, startedAt: this.startedAt } satisfies SavedRun));
    else sessionStorage.removeItem(RUN_KEY);
  }

  /** After a reload: a run that was storing watches its queue items again (the modal reopens if it was open). */
  async resume(onDone?: () => Promise<void>): Promise<void> {
    const raw = typeof sessionStorage === 'undefined' ? null : sessionStorage.getItem(RUN_KEY);
    if (!raw || this.target) return;
    let saved: SavedRun;
    try {
      saved = JSON.parse(raw) as SavedRun;
    } catch {
      sessionStorage.removeItem(RUN_KEY);
      return;
    }
    // Before its items were queued there is nothing to watch: the person starts it again.
    if (saved.step !== 'store' && saved.step !== 'verify') {
      sessionStorage.removeItem(RUN_KEY);
      return;
    }
    this.target = saved.target;
    this.onDone = onDone ?? null;
    this.startedAt = saved.startedAt;
    this.refused = [];
    this.error = null;
    this.#open = saved.open;
    await this.finish();
  }

  /** The memories this run stores (not those already on ICP). */
  get pending(): string[] {
    const t = this.target;
    return t ? t.memoryIds.filter((id) => !t.alreadyStored.includes(id)) : [];
  }

  readonly rows: UploadRow[] = $derived.by(() => {
    const ids = new Set(this.target ? this.target.memoryIds.filter((id) => !this.target!.alreadyStored.includes(id)) : []);
    return this.uploads.rows.filter((r) => ids.has(r.item.id));
  });
  /** Items of this run waiting for the connection to come back. */
  readonly offline: boolean = $derived(this.rows.some((r) => r.item.state === 'waiting-retry' && OFFLINE_CODES.has(r.item.lastError?.code ?? '')));

  readonly done: number = $derived(this.rows.filter((r) => r.item.state === 'recorded').length);
  readonly failedRows: UploadRow[] = $derived(this.rows.filter((r) => r.item.state === 'failed'));
  readonly totals = $derived.by(() => {
    let sent = 0;
    let total = 0;
    let speed = 0;
    let chunks = 0;
    let chunkTotal = 0;
    for (const r of this.rows) {
      total += r.item.size;
      chunkTotal += r.item.chunkCount;
      if (r.item.state === 'recorded' || r.item.state === 'verifying' || r.item.state === 'committing') {
        sent += r.item.size;
        chunks += r.item.chunkCount;
      } else {
        // After a reload there is no live progress yet: the chunks the canister confirmed say how far it got.
        sent += r.progress?.bytesSent ?? Math.min(r.item.size, r.item.receivedChunks.length * r.item.chunkSize);
        chunks += r.progress?.chunksSent ?? r.item.receivedChunks.length;
        speed += r.progress?.speed ?? 0;
      }
    }
    const eta = speed > 0 ? Math.ceil((total - sent) / speed) : null;
    return { sent, total, speed, chunks, chunkTotal, eta, percent: total > 0 ? Math.floor((sent / total) * 100) : 0 };
  });

  show(target: Target, onDone?: () => Promise<void>): void {
    this.target = target;
    this.onDone = onDone ?? null;
    this.step = 'idle';
    this.error = null;
    this.open = true;
  }

  async run(): Promise<void> {
    const t = this.target;
    if (!t) return;
    this.error = null;
    this.refused = [];
    try {
      this.step = 'auth';
      if (!this.session.principal) await this.session.signIn();
      this.step = 'prepare';
      const ids = this.pending;
      if (ids.length > 0) {
        await this.session.server.recordStoreForever({ id: uuidv7(), ...(t.gallery ? { gallery_id: t.gallery.id } : ids.length === 1 ? { memory_id: ids[0] } : {}) }).catch((e: unknown) => {
          // Counting is the server's business; only a quota refusal stops the run.
          if (e && typeof e === 'object' && 'code' in e && (e as { code: string }).code === 'STORAGE_QUOTA_EXCEEDED') throw e;
        });
        this.startedAt = Date.now();
        const r = await this.uploads.storeForever(await Promise.all(ids.map((id) => this.web2Memory(id))));
        this.refused = r.refused.filter((x) => x.reason !== 'it is stored forever already').map((x) => ({ name: this.library.byId(x.id)?.title ?? x.id, reason: x.reason }));
        if (r.queued.length === 0 && this.refused.length > 0) throw Object.assign(new Error(this.refused[0].reason), { code: 'Refused' });
      }
    } catch (e) {
      this.fail(e);
      return;
    }
    await this.finish();
  }

  /** store → verify → success: waits for the run's queue items, then records the gallery. */
  private async finish(): Promise<void> {
    const t = this.target;
    if (!t) return;
    try {
      this.step = 'store';
      await this.waitForQueue();
      if (this.refused.length > 0) throw Object.assign(new Error(`${this.refused.length} could not be stored`), { code: 'Refused' });
      this.step = 'verify';
      if (t.gallery && this.session.canister) {
        await this.session.canister.storeGallery({ ...t.gallery, memoryIds: t.memoryIds });
      }
      await this.onDone?.();
      this.step = 'success';
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    const t = this.target;
    if (!t) return;
    const message = e instanceof Error ? e.message : String(e);
    const code = e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : null;
    const category = categorize(code, message);
    const reasons = [...this.refused, ...this.failedRows.map((r) => ({ name: r.item.metadata.title || r.item.name, reason: r.item.lastError?.reason ?? r.item.lastError?.message ?? 'unknown' }))];
    this.error = { category, words: CATEGORY_WORDS[category], reasons: reasons.length ? reasons : [{ name: t.title, reason: message }] };
    this.step = 'error';
  }

  /** What the engine needs to store a memory it may not hold: the hash and size the server recorded for its blob copy. */
  private async web2Memory(id: string): Promise<Web2Memory> {
    const m = this.library.byId(id);
    const q = m?.queued ?? null;
    let sha256 = q?.sha256 ?? null;
    let size = q?.size ?? m?.size ?? 0;
    if (!q?.hasBytes && sha256 === null) {
      const edges = await this.session.server.edges(id).catch(() => ({ edges: [] }));
      const blob = edges.edges.find((e) => e.backend === 'blob' && e.artifact === 'asset' && e.present);
      sha256 = blob?.content_hash ?? null;
      size = blob?.size ?? size;
    }
    return { id, sha256, size, name: m?.fileName ?? m?.title ?? id, mimeType: m?.mimeType ?? 'application/octet-stream', memoryType: m?.type ?? 'document', title: m?.title ?? '', owner: this.session.principal };
  }

  /** Resolves when every item of the run is recorded; rejects on the first failure. Follows the queue's rows as they change. */
  private waitForQueue(): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const stop = $effect.root(() => {
        $effect(() => {
          const rows = this.rows;
          const pending = this.pending.length;
          if (settled) return;
          const settle = (f: () => void) => {
            settled = true;
            queueMicrotask(stop);
            f();
          };
          const failed = rows.find((r) => r.item.state === 'failed');
          if (failed) return settle(() => reject(Object.assign(new Error(failed.item.lastError?.message ?? 'failed'), { code: failed.item.lastError?.code })));
          if (rows.length >= pending && rows.every((r) => r.item.state === 'recorded')) return settle(resolve);
          if (rows.some((r) => r.item.state === 'needs-sign-in')) return settle(() => reject(Object.assign(new Error('Your sign-in ended'), { code: 'UNAUTHENTICATED' })));
        });
      });
    });
  }

  async retry(): Promise<void> {
    for (const r of this.failedRows) await this.uploads.retry(r.item.id);
    if (this.error?.category === 'auth') await this.session.signIn();
    await this.run();
  }

  async cancel(): Promise<void> {
    for (const r of this.rows) if (r.item.state !== 'recorded') await this.uploads.cancel(r.item.id);
    this.step = 'idle';
    this.open = false;
  }
}
