// An in-memory double of the forever canister's upload protocol, for engine
// tests that need to break a particular call at a particular moment. The
// acceptance tests (local-ic.test.ts) run the same engine against the real
// canister in the local IC; this double only mirrors the documented rules.
import { createHash } from 'node:crypto';
import { CanisterError } from '../../../src/lib/upload/core/errors';
import type { CanisterLimits, ForeverCanister, MemoryPresence } from '../../../src/lib/upload/core/ports';

type Method = keyof ForeverCanister;

interface Session {
  id: string;
  memoryId: string;
  sha256: string;
  chunkCount: number;
  size: number;
  chunks: Map<number, Uint8Array>;
}

export class FakeCanister implements ForeverCanister {
  readonly limits: CanisterLimits = { chunkSize: 64 * 1024, maxFileSize: 100 * 1024 * 1024, maxLiveSessions: 3 };
  readonly metadata = new Map<string, { idempotencyKey: string }>();
  readonly assets = new Map<string, { sha256: string; size: number }>();
  readonly sessions = new Map<string, Session>();
  /** Every call, in order: method and (for put_chunk) the index. */
  readonly calls: { method: Method; index?: number }[] = [];
  private readonly faults: { method: Method; error: () => unknown; times: number }[] = [];
  private nextSession = 1;
  /** Called before each put_chunk takes effect (tests abort a drain from here). */
  onPutChunk?: (index: number) => void;

  /** The next `times` calls of `method` throw `error()` instead of running. */
  fail(method: Method, error: () => unknown, times = 1): void {
    this.faults.push({ method, error, times });
  }

  putChunkIndices(): number[] {
    return this.calls.filter((c) => c.method === 'putChunk').map((c) => c.index ?? -1);
  }

  private enter(method: Method, index?: number): void {
    this.calls.push({ method, index });
    const f = this.faults.find((x) => x.method === method && x.times > 0);
    if (f) {
      f.times -= 1;
      throw f.error();
    }
  }

  async getLimits(): Promise<CanisterLimits> {
    this.enter('getLimits');
    return this.limits;
  }

  async upsertMetadata(memoryId: string, _t: unknown, _m: unknown, idempotencyKey: string) {
    this.enter('upsertMetadata');
    const created = !this.metadata.has(memoryId);
    this.metadata.set(memoryId, { idempotencyKey });
    return { created };
  }

  async beginAssetUpload(memoryId: string, sha256: string, chunkCount: number, size: number) {
    this.enter('beginAssetUpload');
    if (!this.metadata.has(memoryId)) throw new CanisterError('NotFound');
    if (this.assets.get(memoryId)?.sha256 === sha256) throw new CanisterError('AlreadyExists');
    if (chunkCount !== Math.max(1, Math.ceil(size / this.limits.chunkSize))) throw new CanisterError('InvalidArgument', 'chunk count');
    let s = [...this.sessions.values()].find((x) => x.memoryId === memoryId && x.sha256 === sha256);
    if (!s) {
      if (this.sessions.size >= this.limits.maxLiveSessions) throw new CanisterError('TooManyUploads', { active: this.sessions.size, max: this.limits.maxLiveSessions });
      s = { id: `s${this.nextSession++}`, memoryId, sha256, chunkCount, size, chunks: new Map() };
      this.sessions.set(s.id, s);
    }
    return { sessionId: s.id, chunkSize: this.limits.chunkSize, receivedChunks: [...s.chunks.keys()], expiresAtMs: Date.now() + 1_800_000 };
  }

  async putChunk(sessionId: string, index: number, bytes: Uint8Array) {
    this.enter('putChunk', index);
    this.onPutChunk?.(index);
    const s = this.sessions.get(sessionId);
    if (!s) throw new CanisterError('NotFound');
    if (index >= s.chunkCount) throw new CanisterError('InvalidArgument', 'index');
    s.chunks.set(index, bytes.slice());
    let n = 0;
    for (const c of s.chunks.values()) n += c.byteLength;
    return { chunksReceived: s.chunks.size, bytesReceived: n };
  }

  async commitAsset(sessionId: string, sha256: string) {
    this.enter('commitAsset');
    const s = this.sessions.get(sessionId);
    if (!s) throw new CanisterError('NotFound');
    if (s.chunks.size !== s.chunkCount) throw new CanisterError('InvalidArgument', 'missing chunks');
    const h = createHash('sha256');
    for (let i = 0; i < s.chunkCount; i++) h.update(s.chunks.get(i)!);
    const actual = h.digest('hex');
    if (actual !== s.sha256 || sha256 !== s.sha256) throw new CanisterError('InvalidHash');
    this.assets.set(s.memoryId, { sha256: actual, size: s.size });
    this.sessions.delete(sessionId);
  }

  async cancelUpload(sessionId: string) {
    this.enter('cancelUpload');
    this.sessions.delete(sessionId);
  }

  readonly proofs: string[] = [];
  async provePrincipal(nonce: string): Promise<void> {
    this.enter('provePrincipal');
    this.proofs.push(nonce);
  }

  async getMemoryPresence(memoryId: string): Promise<MemoryPresence> {
    this.enter('getMemoryPresence');
    const a = this.assets.get(memoryId);
    return { metadataPresent: this.metadata.has(memoryId), assetPresent: !!a, sha256: a?.sha256 ?? null, size: a?.size ?? null };
  }
}
