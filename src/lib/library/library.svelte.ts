// The user's library: memories from the server (with presence) and from the
// canister, merged with this browser's queue. With the server unreachable it
// reads straight from the canister, so what is stored forever stays listable
// with nothing but Internet Identity and the IC.
import type { CanisterReader, IcMemory } from '../api/canister';
import { ServerUnreachableError, type ServerApi } from '../api/server';
import type { MemoryPresence, ServerFolder, ServerMemory } from '../api/types';
import type { Uploads } from '../uploads/uploads.svelte';
import { mergeLibrary, type LibraryMemory } from './merge';
import { readSnapshot, saveSnapshot } from './offline';

const PAGE = 1000;

/** `offline`: neither answered; the list is the last one the server gave (`savedAt`). */
export type Source = 'server+icp' | 'icp-only' | 'server-only' | 'offline';

export class Library {
  server: ServerMemory[] = $state.raw([]);
  presence: Map<string, MemoryPresence> = $state.raw(new Map());
  icp: IcMemory[] = $state.raw([]);
  folders: ServerFolder[] = $state.raw([]);
  loading = $state(false);
  loaded = $state(false);
  source: Source = $state('server+icp');
  error: string | null = $state(null);
  /** When the offline list was saved. */
  savedAt: number | null = $state(null);
  private generation = 0;

  private readonly uploads: Uploads;
  private readonly owner: () => string | null;

  constructor(uploads: Uploads, owner: () => string | null) {
    this.uploads = uploads;
    this.owner = owner;
  }

  readonly memories: LibraryMemory[] = $derived.by(() =>
    mergeLibrary({ server: this.server, presence: this.presence, icp: this.icp, queue: this.uploads.items, progress: this.uploads.progress, owner: this.owner() }),
  );

  byId(id: string): LibraryMemory | undefined {
    return this.memories.find((m) => m.id === id);
  }

  clear(): void {
    this.generation++;
    this.server = [];
    this.presence = new Map();
    this.icp = [];
    this.loaded = false;
  }

  /** Loads everything; the server and the canister are asked at the same time. */
  async load(server: ServerApi, canister: CanisterReader | null): Promise<void> {
    const gen = ++this.generation;
    this.loading = true;
    this.error = null;
    const fromServer = (async () => {
      const out: ServerMemory[] = [];
      let cursor: string | null = null;
      do {
        const page = await server.listMemories(PAGE, cursor);
        out.push(...page.memories);
        cursor = page.next_cursor;
        // The first page is painted at once (newest first, the top of the grid); the rest follows.
        if (cursor && out.length === page.memories.length && gen === this.generation && this.server.length === 0) this.server = out.slice();
      } while (cursor);
      const missing = out.filter((m) => m.presence === undefined).map((m) => m.id);
      const presence = missing.length ? await server.memoriesPresence(missing) : [];
      return { out, presence };
    })();
    const fromIcp = canister ? canister.listMemories() : Promise.resolve([] as IcMemory[]);
    const folders = server.listFolders().then((r) => r.folders, () => null);
    const [s, c] = await Promise.allSettled([fromServer, fromIcp]);
    if (gen !== this.generation) return;
    this.folders = (await folders) ?? this.folders;
    if (s.status === 'fulfilled') {
      this.server = s.value.out;
      this.presence = new Map(s.value.presence.map((p) => [p.memory_id, p]));
      const who = this.owner();
      // Kept for offline use after the list is on screen (writing 10,000 entries takes a moment).
      if (who) {
        const snap = { principal: who, at: Date.now(), server: s.value.out, presence: s.value.presence, folders: this.folders };
        const save = () => void saveSnapshot(snap).catch(() => undefined);
        if (typeof requestIdleCallback === 'function') requestIdleCallback(save, { timeout: 5000 });
        else setTimeout(save, 0);
      }
    }
    if (c.status === 'fulfilled') this.icp = c.value;
    const who = this.owner();
    this.savedAt = null;
    if (s.status === 'rejected' && c.status === 'rejected') {
      const snap = who ? await readSnapshot(who).catch(() => null) : null;
      if (gen !== this.generation) return;
      if (snap) {
        this.server = snap.server;
        this.presence = new Map(snap.presence.map((p) => [p.memory_id, p]));
        this.folders = snap.folders;
        this.source = 'offline';
        this.savedAt = snap.at;
      } else this.error = `Neither the server nor the Internet Computer answered: ${reason(s.reason)}`;
    } else if (s.status === 'rejected') {
      this.source = 'icp-only';
      this.error = s.reason instanceof ServerUnreachableError || isServerDown(s.reason) ? null : reason(s.reason);
    } else if (c.status === 'rejected') {
      this.source = 'server-only';
      this.error = `The Internet Computer did not answer: ${reason(c.reason)}`;
    } else this.source = 'server+icp';
    this.loading = false;
    this.loaded = true;
  }

  /** Drops deleted memories at once (the next load confirms). */
  forget(ids: string[]): void {
    const gone = new Set(ids);
    this.server = this.server.filter((m) => !gone.has(m.id));
    this.icp = this.icp.filter((m) => !gone.has(m.id));
  }

  /** A memory's title or description changed on the server. */
  replace(m: ServerMemory): void {
    this.server = this.server.map((s) => (s.id === m.id ? { ...s, ...m, presence: s.presence } : s));
  }
}

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e));
const isServerDown = (e: unknown) => typeof e === 'object' && e !== null && 'status' in e && typeof (e as { status: unknown }).status === 'number' && (e as { status: number }).status >= 500;
