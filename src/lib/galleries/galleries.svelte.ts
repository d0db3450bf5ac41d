// The user's galleries: from the server (with presence), and from the
// canister (what was stored forever), merged by id.
import type { CanisterReader, IcGallery } from '../api/canister';
import type { ServerApi } from '../api/server';
import type { GalleryPresence, ServerGallery } from '../api/types';

export interface GalleryEntry {
  id: string;
  title: string;
  description: string | null;
  /** Member ids when known (canister record or loaded detail). */
  memoryIds: string[] | null;
  count: number;
  presence: GalleryPresence | null;
  onServer: boolean;
  icp: IcGallery | null;
  updatedAt: number;
}

export class Galleries {
  server: ServerGallery[] = $state.raw([]);
  icp: IcGallery[] = $state.raw([]);
  members: Record<string, string[]> = $state.raw({});
  loaded = $state(false);
  error: string | null = $state(null);

  readonly list: GalleryEntry[] = $derived.by(() => {
    const out = new Map<string, GalleryEntry>();
    const icpById = new Map(this.icp.map((g) => [g.id, g]));
    for (const g of this.server) {
      const icp = icpById.get(g.id) ?? null;
      const ids = this.members[g.id] ?? null;
      out.set(g.id, { id: g.id, title: g.title, description: g.description, memoryIds: ids, count: ids?.length ?? g.presence?.total_memories ?? g.memory_count ?? 0, presence: g.presence ?? null, onServer: true, icp, updatedAt: Date.parse(g.updated_at) || 0 });
    }
    for (const g of this.icp) {
      if (out.has(g.id)) continue;
      out.set(g.id, { id: g.id, title: g.title, description: g.description, memoryIds: g.memoryIds, count: g.memoryIds.length, presence: null, onServer: false, icp: g, updatedAt: g.updatedAt });
    }
    return [...out.values()].sort((a, b) => b.updatedAt - a.updatedAt);
  });

  byId(id: string): GalleryEntry | undefined {
    return this.list.find((g) => g.id === id);
  }

  clear(): void {
    this.server = [];
    this.icp = [];
    this.members = {};
    this.loaded = false;
  }

  async load(server: ServerApi, canister: CanisterReader | null): Promise<void> {
    const [s, c] = await Promise.allSettled([
      (async () => {
        const out: ServerGallery[] = [];
        let cursor: string | null = null;
        do {
          const page = await server.listGalleries(1000, cursor);
          out.push(...page.galleries);
          cursor = page.next_cursor;
        } while (cursor);
        return out;
      })(),
      canister ? canister.listGalleries() : Promise.resolve([]),
    ]);
    if (s.status === 'fulfilled') {
      this.server = s.value;
      // Members of every gallery, for covers and per-memory badges.
      const entries = await Promise.all(s.value.map(async (g) => [g.id, await server.galleryMemoryIds(g.id).catch(() => null)] as const));
      const known = entries.filter((e): e is readonly [string, string[]] => e[1] !== null);
      this.members = { ...this.members, ...Object.fromEntries(known) };
    }
    if (c.status === 'fulfilled') this.icp = c.value;
    this.error = s.status === 'rejected' && c.status === 'rejected' ? String(s.reason instanceof Error ? s.reason.message : s.reason) : null;
    this.loaded = true;
  }

  async create(server: ServerApi, id: string, title: string, memoryIds: string[]): Promise<void> {
    const r = await server.putGallery(id, { title, memory_ids: memoryIds });
    this.server = [...this.server.filter((g) => g.id !== id), r.gallery];
    this.members = { ...this.members, [id]: memoryIds };
  }

  async addMemories(server: ServerApi, id: string, memoryIds: string[]): Promise<void> {
    const g = this.byId(id);
    if (!g) throw new Error('No such gallery');
    const current = this.members[id] ?? (await server.galleryMemoryIds(id));
    const next = [...current, ...memoryIds.filter((m) => !current.includes(m))];
    await this.create(server, id, g.title, next);
  }

  /** Deleted memories leave every gallery at once (the server does the same). */
  forget(ids: string[]): void {
    const gone = new Set(ids);
    this.members = Object.fromEntries(Object.entries(this.members).map(([g, m]) => [g, m.filter((x) => !gone.has(x))]));
    this.icp = this.icp.map((g) => ({ ...g, memoryIds: g.memoryIds.filter((x) => !gone.has(x)) }));
  }
}
