// One typed client for the Hono server's JSON API (docs/server.md). The
// session is an HttpOnly cookie; on a 401 it signs in once through `signIn`
// (challenge → the canister's prove_principal → verify) and repeats the call.
// Errors keep the server's code and message so screens can show the real cause.
import type { GalleryPresence, MemoryPresence, ServerFolder, ServerGallery, ServerMemory, ServerUsage, StorageEdgeView } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The server could not be reached at all (offline, stopped, blocked). */
export class ServerUnreachableError extends Error {
  constructor(cause: unknown) {
    super(`The server cannot be reached (${cause instanceof Error ? cause.message : String(cause)})`);
    this.name = 'ServerUnreachableError';
  }
}

/** Proves `nonce` on the canister; returns the principal that proved it, which the server checks with the index. */
export type Prover = (nonce: string) => Promise<string | void>;

export class ServerApi {
  private signingIn: Promise<void> | null = null;

  constructor(
    private readonly base: string,
    private prove: Prover | null = null,
    private readonly f: typeof fetch = (...a) => fetch(...a),
  ) {}

  setProver(prove: Prover | null): void {
    this.prove = prove;
  }

  private async raw(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await this.f(`${this.base}${path}`, {
        method,
        credentials: 'same-origin',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ServerUnreachableError(err);
    }
  }

  private static async error(res: Response): Promise<ApiError> {
    let code = `HTTP_${res.status}`;
    let message = `The server answered ${res.status}`;
    try {
      const b = (await res.json()) as { error?: { code?: string; message?: string } };
      code = b.error?.code ?? code;
      message = b.error?.message ?? message;
    } catch {
      // not JSON (a proxy's page): keep the status
    }
    return new ApiError(res.status, code, message);
  }

  /** Challenge → prove_principal (as the signed-in identity) → verify; one at a time. */
  signIn(): Promise<void> {
    this.signingIn ??= (async () => {
      if (!this.prove) throw new ApiError(401, 'UNAUTHENTICATED', 'Sign in with Internet Identity first');
      const ch = await this.raw('GET', '/api/auth/challenge');
      if (!ch.ok) throw await ServerApi.error(ch);
      const { nonce } = (await ch.json()) as { nonce: string };
      const principal = await this.prove(nonce);
      const v = await this.raw('POST', '/api/auth/verify', principal ? { nonce, principal } : { nonce });
      if (!v.ok) throw await ServerApi.error(v);
    })().finally(() => {
      this.signingIn = null;
    });
    return this.signingIn;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res = await this.raw(method, path, body);
    if (res.status === 401 && this.prove) {
      await this.signIn();
      res = await this.raw(method, path, body);
    }
    if (!res.ok) throw await ServerApi.error(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  me(): Promise<{ principal: string; user_id: string }> {
    return this.call('GET', '/api/auth/me');
  }

  async logout(): Promise<void> {
    await this.raw('POST', '/api/auth/logout');
  }

  listMemories(limit: number, cursor?: string | null, filter: { type?: string; status?: string } = {}): Promise<{ memories: ServerMemory[]; next_cursor: string | null }> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    if (filter.type) q.set('type', filter.type);
    if (filter.status) q.set('status', filter.status);
    return this.call('GET', `/api/memories?${q}`);
  }

  async memoriesPresence(ids: string[]): Promise<MemoryPresence[]> {
    const out: MemoryPresence[] = [];
    for (let i = 0; i < ids.length; i += 1000) {
      const r = await this.call<{ memories: MemoryPresence[] }>('POST', '/api/memories/presence', { ids: ids.slice(i, i + 1000) });
      out.push(...r.memories);
    }
    return out;
  }

  getMemory(id: string): Promise<{ memory: ServerMemory; presence: MemoryPresence | null }> {
    return this.call('GET', `/api/memories/${id}`);
  }

  putMemory(id: string, body: { memory_type: string; title?: string | null; description?: string | null; metadata?: Record<string, unknown> }): Promise<{ memory: ServerMemory; created: boolean }> {
    return this.call('PUT', `/api/memories/${id}`, body);
  }

  deleteMemory(id: string): Promise<unknown> {
    return this.call('DELETE', `/api/memories/${id}`);
  }

  edges(memoryId: string): Promise<{ edges: StorageEdgeView[] }> {
    return this.call('GET', `/api/storage/edges?memory_id=${memoryId}`);
  }

  thumbnailUrl(id: string): string {
    return `${this.base}/api/memories/${id}/thumbnail`;
  }

  contentUrl(id: string): string {
    return `${this.base}/api/memories/${id}/content`;
  }

  listGalleries(limit = 1000, cursor?: string | null): Promise<{ galleries: ServerGallery[]; next_cursor: string | null }> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    return this.call('GET', `/api/galleries?${q}`);
  }

  getGallery(id: string): Promise<{ gallery: ServerGallery; presence: GalleryPresence | null }> {
    return this.call('GET', `/api/galleries/${id}`);
  }

  async galleryMemoryIds(id: string): Promise<string[]> {
    const out: string[] = [];
    for (let offset = 0; ; offset += 1000) {
      const r = await this.call<{ memory_ids: string[] }>('GET', `/api/galleries/${id}/memories?limit=1000&offset=${offset}`);
      out.push(...r.memory_ids);
      if (r.memory_ids.length < 1000) return out;
    }
  }

  putGallery(id: string, body: { title: string; description?: string | null; memory_ids: string[] }): Promise<{ gallery: ServerGallery; created: boolean }> {
    return this.call('PUT', `/api/galleries/${id}`, body);
  }

  listFolders(): Promise<{ folders: ServerFolder[]; next_cursor: string | null }> {
    return this.call('GET', '/api/folders?limit=1000');
  }

  getFolder(id: string): Promise<{ folder: ServerFolder }> {
    return this.call('GET', `/api/folders/${id}?limit=1`);
  }

  putFolder(id: string, body: { title: string }): Promise<{ folder: ServerFolder }> {
    return this.call('PUT', `/api/folders/${id}`, body);
  }

  usage(): Promise<ServerUsage> {
    return this.call('GET', '/api/usage');
  }

  recordStoreForever(body: { id: string; memory_id?: string; gallery_id?: string }): Promise<unknown> {
    return this.call('POST', '/api/usage/store_forever', body);
  }
}

export type { GalleryPresence, MemoryPresence };
