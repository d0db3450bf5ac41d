// One typed client for the canister reads the screens need (and the one
// write they make themselves: prove_principal for the server's sign-in, and
// delete_memory), signed as the user's II identity through the generated
// declarations. Candid shapes stop here: the rest of the UI sees plain values.
import { Actor, HttpAgent, type ActorSubclass, type Identity } from '@dfinity/agent';
import { idlFactory } from '../../declarations/forever/forever.did.js';
import type { _SERVICE, Error as CandidError, GalleryPage, Memory as CandidMemory, MemoryPage, StoredGallery } from '../../declarations/forever/forever.did';
import { fromVariant, type MemoryType, type MemoryTypeVariant } from '../../../contract';

export interface CanisterTarget {
  host: string;
  canisterId: string;
  fetchRootKey: boolean;
}

export interface IcMemory {
  id: string;
  memoryType: MemoryType;
  title: string;
  description: string | null;
  fileName: string | null;
  mimeType: string | null;
  createdAt: number;
  updatedAt: number;
  asset: { sha256: string; size: number; chunkCount: number; chunkSize: number; committedAt: number } | null;
}

export interface IcGallery {
  id: string;
  title: string;
  description: string | null;
  memoryIds: string[];
  updatedAt: number;
}

export interface IcUsage {
  usedBytes: number;
  limitBytes: number;
  memories: number;
  assets: number;
  galleries: number;
}

export class CanisterCallError extends Error {
  constructor(
    readonly code: string,
    detail: unknown,
  ) {
    super(`The canister refused: ${code}${detail !== null && detail !== undefined ? ` (${typeof detail === 'object' ? JSON.stringify(detail, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) : String(detail)})` : ''}`);
    this.name = 'CanisterCallError';
  }
}

function ok<T>(r: { Ok: T } | { Err: CandidError }): T {
  if ('Err' in r) {
    const [code, detail] = Object.entries(r.Err)[0] as [string, unknown];
    throw new CanisterCallError(code, detail);
  }
  return r.Ok;
}

export const toHex = (b: Uint8Array | number[]): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const ns = (t: bigint) => Number(t / 1_000_000n);

function memory(m: CandidMemory): IcMemory {
  const a = m.asset[0];
  return {
    id: m.id,
    memoryType: fromVariant(Object.keys(m.memory_type)[0] as MemoryTypeVariant),
    title: m.metadata.title,
    description: m.metadata.description[0] ?? null,
    fileName: m.metadata.file_name[0] ?? null,
    mimeType: m.metadata.mime_type[0] ?? null,
    createdAt: ns(m.created_at),
    updatedAt: ns(m.updated_at),
    asset: a ? { sha256: toHex(a.sha256), size: Number(a.size), chunkCount: a.chunk_count, chunkSize: a.chunk_size, committedAt: ns(a.committed_at) } : null,
  };
}

function gallery(g: StoredGallery): IcGallery {
  return { id: g.id, title: g.title, description: g.description[0] ?? null, memoryIds: g.memory_ids, updatedAt: ns(g.updated_at) };
}

export class CanisterReader {
  private constructor(
    private readonly actor: ActorSubclass<_SERVICE>,
    readonly canisterId: string,
  ) {}

  static async create(identity: Identity, target: CanisterTarget): Promise<CanisterReader> {
    // createSync: the root key is fetched with the first call, so the app starts offline (the library shell) too.
    const agent = HttpAgent.createSync({ host: target.host, identity, shouldFetchRootKey: target.fetchRootKey });
    return new CanisterReader(Actor.createActor<_SERVICE>(idlFactory, { agent, canisterId: target.canisterId }), target.canisterId);
  }

  async provePrincipal(nonce: string): Promise<void> {
    ok(await this.actor.prove_principal(nonce));
  }

  /** Every memory of the caller, page by page (the canister caps a page). */
  async listMemories(onPage?: (page: IcMemory[]) => void): Promise<IcMemory[]> {
    const out: IcMemory[] = [];
    let cursor: [] | [string] = [];
    for (;;) {
      const page: MemoryPage = ok(await this.actor.list_memories(cursor, [100]));
      const items = page.items.map(memory);
      out.push(...items);
      onPage?.(items);
      if (!page.next_cursor[0] || page.items.length === 0) return out;
      cursor = [page.next_cursor[0]];
    }
  }

  async getMemory(id: string): Promise<IcMemory | null> {
    const r = await this.actor.get_memory(id);
    if ('Err' in r && 'NotFound' in r.Err) return null;
    return memory(ok(r));
  }

  async listGalleries(): Promise<IcGallery[]> {
    const out: IcGallery[] = [];
    let cursor: [] | [string] = [];
    for (;;) {
      const page: GalleryPage = ok(await this.actor.list_galleries(cursor, [100]));
      out.push(...page.items.map(gallery));
      if (!page.next_cursor[0] || page.items.length === 0) return out;
      cursor = [page.next_cursor[0]];
    }
  }

  async getGallery(id: string): Promise<IcGallery | null> {
    const r = await this.actor.get_gallery(id);
    if ('Err' in r && 'NotFound' in r.Err) return null;
    return gallery(ok(r));
  }

  async readChunk(memoryId: string, index: number): Promise<Uint8Array> {
    const b = ok(await this.actor.read_chunk(memoryId, index));
    return b instanceof Uint8Array ? b : Uint8Array.from(b);
  }

  async usage(): Promise<IcUsage> {
    const u = ok(await this.actor.get_usage());
    return { usedBytes: Number(u.used_bytes), limitBytes: Number(u.limit_bytes), memories: Number(u.memories), assets: Number(u.assets), galleries: Number(u.galleries) };
  }

  /** Records the gallery itself on the canister, so it stays listable without the server. Idempotent by id. */
  async storeGallery(g: { id: string; title: string; description: string | null; memoryIds: string[] }): Promise<void> {
    ok(await this.actor.store_gallery({ id: g.id, title: g.title, description: g.description ? [g.description] : [], memory_ids: g.memoryIds }));
  }

  /** Deletes the memory, its file and its thumbnail from the canister; cannot be undone. */
  async deleteMemory(id: string): Promise<{ deleted: boolean; freedBytes: number }> {
    const r = ok(await this.actor.delete_memory(id));
    return { deleted: r.deleted, freedBytes: Number(r.freed_bytes) };
  }

  /** The thumbnail kept with the memory on the canister (≤ 64 KiB), or null. */
  async thumbnail(id: string): Promise<Blob | null> {
    const t = ok(await this.actor.get_thumbnail(id))[0];
    return t ? new Blob([Uint8Array.from(t.bytes)], { type: t.mime_type }) : null;
  }
}
