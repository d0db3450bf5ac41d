// The server's API for the engine (docs/server.md): the memory's record
// (idempotent PUT), its blob copy, its thumbnail and its ICP edges (the
// EdgeRecorder and Web2Api ports). The server learns who we
// are by asking the canister which principal proved a nonce it handed out;
// the session is an HttpOnly cookie, so pages and the service worker of the
// same origin share it. A 401 triggers one sign-in and one retry; other
// refusals (403 quota or CSRF check) are passed on with the server's code.
import { fromVariant } from '../../../../contract';
import { HttpStatusError } from '../core/errors';
import type { BlobUpload, EdgeRecorder, ForeverCanister, ServerMemory, StorageEdge, Web2Api } from '../core/ports';

export interface ServerClientOptions {
  /** Origin (and base path) of the API; '' for the page's own origin. */
  baseUrl: string;
  canister: ForeverCanister;
  /** Who proves the nonce: the server asks the index for this principal's bucket and the proof there. */
  principal?: string;
  /** Replaces global fetch (Node tests add a cookie jar). */
  fetch?: typeof fetch;
}

interface ApiErrorBody {
  error?: { code?: string; message?: string };
}

/** Server error codes that a later retry can cure even though their status is 4xx. */
const RETRYABLE_CODES = new Set(['ICP_PRESENCE_UNCONFIRMED']);

export class ServerApi implements EdgeRecorder, Web2Api {
  private signIn: Promise<void> | null = null;

  constructor(private readonly opts: ServerClientOptions) {}

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    const f = this.opts.fetch ?? fetch;
    const raw = body instanceof Blob;
    return f(`${this.opts.baseUrl}${path}`, {
      method,
      credentials: 'same-origin',
      // Never the HTTP cache: the blob copy is served immutable, but a copy that failed its hash check
      // and was repaired on the server must be read again, and JSON answers are current state.
      cache: 'no-store',
      headers: body === undefined ? {} : { 'content-type': raw ? body.type || 'application/octet-stream' : 'application/json' },
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    });
  }

  private async fail(res: Response, what: string): Promise<never> {
    let parsed: ApiErrorBody = {};
    try {
      parsed = (await res.json()) as ApiErrorBody;
    } catch {
      // not JSON: keep the status only
    }
    const code = parsed.error?.code ?? `HTTP_${res.status}`;
    const status = RETRYABLE_CODES.has(code) ? 503 : res.status;
    // The code decides what the failure means (errors.ts): a 403 is not a sign-in matter.
    throw new HttpStatusError(status, `${what}: ${res.status} ${code} ${parsed.error?.message ?? ''}`.trim(), parsed.error?.code ?? null, parsed.error?.message ?? null);
  }

  /** Challenge → prove_principal on the canister → verify; one at a time. */
  signInOnce(): Promise<void> {
    this.signIn ??= (async () => {
      const ch = await this.request('GET', '/api/auth/challenge');
      if (!ch.ok) await this.fail(ch, 'auth challenge');
      const { nonce } = (await ch.json()) as { nonce: string };
      await this.opts.canister.provePrincipal(nonce);
      const v = await this.request('POST', '/api/auth/verify', this.opts.principal ? { nonce, principal: this.opts.principal } : { nonce });
      if (!v.ok) await this.fail(v, 'auth verify');
    })().finally(() => {
      this.signIn = null;
    });
    return this.signIn;
  }

  private async authed(method: string, path: string, body: unknown, what: string): Promise<Response> {
    let res = await this.request(method, path, body);
    if (res.status === 401) {
      await this.signInOnce();
      res = await this.request(method, path, body);
    }
    if (!res.ok) await this.fail(res, what);
    return res;
  }

  async upsertMemory(memory: ServerMemory): Promise<void> {
    const metadata: Record<string, unknown> = {};
    if (memory.name !== undefined) metadata.file_name = memory.name;
    if (memory.mimeType !== undefined) metadata.mime_type = memory.mimeType;
    if (memory.size !== undefined) metadata.size = memory.size;
    const body: Record<string, unknown> = { memory_type: fromVariant(memory.memoryType), title: memory.title, description: memory.description };
    if (Object.keys(metadata).length > 0) body.metadata = metadata;
    // Only when set: a server that has no folders yet refuses the field.
    if (memory.folderId) body.folder_id = memory.folderId;
    await this.authed('PUT', `/api/memories/${memory.id}`, body, 'memory');
  }

  async uploadBlob(memoryId: string, sha256: string, bytes: Blob): Promise<BlobUpload> {
    const q = new URLSearchParams({ memory_id: memoryId, content_hash: sha256 });
    const body = bytes.type === 'application/octet-stream' ? bytes : new Blob([bytes], { type: 'application/octet-stream' });
    const res = await this.authed('POST', `/api/upload_file?${q}`, body, 'blob copy');
    const answer = (await res.json()) as { status?: string; queue_id?: string };
    if (res.status === 202 || answer.status === 'pending_retry') return { status: 'pending_retry', queueId: String(answer.queue_id) };
    return { status: 'stored' };
  }

  async blobStatus(queueId: string): Promise<'stored' | 'pending_retry' | 'failed'> {
    const res = await this.authed('GET', `/api/upload_queue/${queueId}`, undefined, 'blob copy status');
    const answer = (await res.json()) as { storage_status?: string };
    return answer.storage_status === 'stored' ? 'stored' : answer.storage_status === 'failed' ? 'failed' : 'pending_retry';
  }

  async putThumbnail(memoryId: string, thumbnail: Blob): Promise<void> {
    await this.authed('PUT', `/api/memories/${memoryId}/thumbnail`, thumbnail, 'thumbnail');
  }

  async fetchContent(memoryId: string): Promise<Blob> {
    const res = await this.authed('GET', `/api/memories/${memoryId}/content`, undefined, 'blob copy');
    return res.blob();
  }

  async record(memory: ServerMemory, edges: StorageEdge[]): Promise<void> {
    if (!memory.exists) await this.upsertMemory(memory);
    await this.authed(
      'PUT',
      '/api/storage/edges',
      {
        edges: edges.map((e) => ({
          memory_id: e.memoryId,
          artifact: e.artifact,
          backend: e.backend,
          present: e.present,
          location: e.location,
          content_hash: e.contentHash,
          size: e.size,
        })),
      },
      'storage edges',
    );
  }
}
