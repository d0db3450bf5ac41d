// The EdgeRecorder port over the Hono server (docs/server.md): creates the
// memory (idempotent PUT) and records its ICP edges. The server learns who we
// are by asking the canister which principal proved a nonce it handed out;
// the session is an HttpOnly cookie, so pages and the service worker of the
// same origin share it. A 401 triggers one sign-in and one retry; other
// refusals (403 quota or CSRF check) are passed on with the server's code.
import { HttpStatusError } from '../core/errors';
import type { EdgeRecorder, ForeverCanister, ServerMemory, StorageEdge } from '../core/ports';

export interface ServerClientOptions {
  /** Origin (and base path) of the API; '' for the page's own origin. */
  baseUrl: string;
  canister: ForeverCanister;
  /** Replaces global fetch (Node tests add a cookie jar). */
  fetch?: typeof fetch;
}

interface ApiErrorBody {
  error?: { code?: string; message?: string };
}

/** Server error codes that a later retry can cure even though their status is 4xx. */
const RETRYABLE_CODES = new Set(['ICP_PRESENCE_UNCONFIRMED']);

export class ServerEdgeRecorder implements EdgeRecorder {
  private signIn: Promise<void> | null = null;

  constructor(private readonly opts: ServerClientOptions) {}

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    const f = this.opts.fetch ?? fetch;
    return f(`${this.opts.baseUrl}${path}`, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
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
    throw new HttpStatusError(status, `${what}: ${res.status} ${code} ${parsed.error?.message ?? ''}`.trim(), parsed.error?.code ?? null);
  }

  /** Challenge → prove_principal on the canister → verify; one at a time. */
  signInOnce(): Promise<void> {
    this.signIn ??= (async () => {
      const ch = await this.request('GET', '/api/auth/challenge');
      if (!ch.ok) await this.fail(ch, 'auth challenge');
      const { nonce } = (await ch.json()) as { nonce: string };
      await this.opts.canister.provePrincipal(nonce);
      const v = await this.request('POST', '/api/auth/verify', { nonce });
      if (!v.ok) await this.fail(v, 'auth verify');
    })().finally(() => {
      this.signIn = null;
    });
    return this.signIn;
  }

  private async authed(method: string, path: string, body: unknown, what: string): Promise<void> {
    let res = await this.request(method, path, body);
    if (res.status === 401) {
      await this.signInOnce();
      res = await this.request(method, path, body);
    }
    if (!res.ok) await this.fail(res, what);
  }

  async record(memory: ServerMemory, edges: StorageEdge[]): Promise<void> {
    await this.authed('PUT', `/api/memories/${memory.id}`, { memory_type: memory.memoryType.toLowerCase(), title: memory.title, description: memory.description }, 'memory');
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
