// The canister's behaviour without azle: ForeverService over in-memory maps,
// and its pure modules (SHA-256 with saved state, codec, upload geometry).
import { createHash, randomBytes } from 'node:crypto';
import { Principal } from '@dfinity/principal';
import { describe, expect, it } from 'vitest';
import { Fail } from '../../canister/src/errors';
import { ForeverService, type Env, WORK_BUDGET } from '../../canister/src/service';
import { Sha256 } from '../../canister/src/sha256';
import { memoryTables } from '../../canister/src/store';
import { chunkLength, expectedChunkCount, newSessionId } from '../../canister/src/upload-rules';
import { isUuid, uuidBytes, uuidText } from '../../canister/src/validate';

const alice = Principal.fromUint8Array(new Uint8Array(29).fill(1));
const bob = Principal.fromUint8Array(new Uint8Array(29).fill(2));
const admin = Principal.fromUint8Array(new Uint8Array(10).fill(9));
const uuid = (n: number): string => `0190a0b0-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
const sha = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const meta = { title: 't', description: [] as [], tags: [], file_name: [] as [], mime_type: [] as [], taken_at_ms: [] as [] };

function harness() {
  const svc = new ForeverService(memoryTables());
  let now = 1_700_000_000_000_000_000n;
  let counter = 0n;
  const env = (caller: Principal): Env => ({
    caller,
    now,
    isController: (p) => p.toText() === admin.toText(),
    instructions: () => counter,
    phase: () => {},
    requestSweep: () => {},
  });
  const call = <T>(f: () => T): { Ok: T } | { Err: unknown } => {
    svc.wrote = false;
    try {
      return { Ok: f() };
    } catch (e) {
      if (e instanceof Fail) {
        if (svc.wrote && !e.keep) throw new Error(`Fail after a write: ${e.message}`);
        return { Err: e.error };
      }
      throw e;
    }
  };
  return {
    svc,
    env,
    call,
    advance: (ns: bigint) => (now += ns),
    setInstructions: (n: bigint) => (counter = n),
  };
}

describe('pure modules', () => {
  it('SHA-256 matches node:crypto across arbitrary splits and saved states', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 70_001]) {
      const data = randomBytes(n);
      let h = new Sha256();
      for (let o = 0; o < n; ) {
        const k = Math.min(n - o, 1 + ((o * 7919) % 997));
        h.update(data.subarray(o, o + k));
        h = Sha256.restore(h.save());
        o += k;
      }
      expect(Buffer.from(h.digest()).toString('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('UUIDs round-trip and only the canonical lowercase form is accepted', () => {
    const id = '0190a0b0-1234-7abc-8def-0123456789ab';
    expect(uuidText(uuidBytes(id, 'x'))).toBe(id);
    expect(isUuid(id.toUpperCase())).toBe(false);
    expect(isUuid('0190a0b01234-7abc-8def-0123456789ab')).toBe(false);
    expect(isUuid(uuidText(newSessionId(1_700_000_000_000_000_000n, 12345n)))).toBe(true);
  });

  it('chunk geometry: every chunk is chunk_size but the last', () => {
    expect(expectedChunkCount(3n * 1048576n, 1048576)).toBe(3);
    expect(expectedChunkCount(3n * 1048576n + 1n, 1048576)).toBe(4);
    expect(chunkLength({ totalSize: 2500n, chunkCount: 3, chunkSize: 1000 }, 2)).toBe(500);
  });
});

describe('ForeverService over in-memory maps', () => {
  it('runs the upload protocol with out-of-order chunks and commits without copying', () => {
    const h = harness();
    const a = h.env(alice);
    h.call(() => h.svc.set_limits(h.env(admin), { max_file_size: 4096n, chunk_size: 1024, session_ttl_seconds: 60, max_live_sessions: 3, default_quota_bytes: 10_000n }));
    const data = randomBytes(2500);
    expect(h.call(() => h.svc.upsert_metadata(a, uuid(1), { Image: null }, meta, 'k1'))).toEqual({ Ok: { memory_id: uuid(1), created: true } });
    const s = h.call(() => h.svc.begin_asset_upload(h.env(alice), uuid(1), sha(data), 3, 2500n));
    if (!('Ok' in s)) throw new Error(JSON.stringify(s));
    const sid = s.Ok.session_id;
    for (const i of [2, 0, 1]) h.call(() => h.svc.put_chunk(h.env(alice), sid, i, data.subarray(i * 1024, Math.min(2500, (i + 1) * 1024))));
    expect(h.call(() => h.svc.commit_asset(h.env(alice), sid, sha(data)))).toMatchObject({ Ok: { size: 2500n, chunk_count: 3 } });
    const back = Buffer.concat([0, 1, 2].map((i) => h.svc.read_chunk(h.env(alice), uuid(1), i)));
    expect(back.equals(data)).toBe(true);
    expect(h.svc.check_invariants(h.env(admin)).violations).toEqual([]);
    expect(h.call(() => h.svc.read_chunk(h.env(bob), uuid(1), 0))).toEqual({ Err: { NotFound: null } });
  });

  it('a hash backlog over the work budget is left to the sweeper, and commit asks to retry meanwhile', () => {
    const h = harness();
    h.call(() => h.svc.set_limits(h.env(admin), { max_file_size: 8192n, chunk_size: 1024, session_ttl_seconds: 60, max_live_sessions: 3, default_quota_bytes: 100_000n }));
    const data = randomBytes(4096);
    h.call(() => h.svc.upsert_metadata(h.env(alice), uuid(2), { Note: null }, meta, 'k2'));
    const sid = h.svc.begin_asset_upload(h.env(alice), uuid(2), sha(data), 4, 4096n).session_id;
    for (const i of [3, 2, 1]) h.svc.put_chunk(h.env(alice), sid, i, data.subarray(i * 1024, (i + 1) * 1024));
    // Pretend every chunk hashed costs 15 billion instructions: only the first fits the budget.
    let counter = 0n;
    const env = { ...h.env(alice), instructions: () => (counter += 15_000_000_000n) };
    h.svc.put_chunk(env, sid, 0, data.subarray(0, 1024));
    expect(h.call(() => h.svc.commit_asset({ ...env, instructions: () => (counter += 15_000_000_000n) }, sid, sha(data)))).toMatchObject({ Err: { Internal: expect.any(String) } });
    h.svc.sweep(h.env(admin));
    expect(h.call(() => h.svc.commit_asset(h.env(alice), sid, sha(data)))).toMatchObject({ Ok: { size: 4096n } });
    expect(h.svc.check_invariants(h.env(admin)).ok).toBe(true);
  });
});

describe('the sweeper over a long work map', () => {
  it('resumes where the budget stopped it, so sessions at the back of the map expire and free their chunks', () => {
    const h = harness();
    h.call(() => h.svc.set_limits(h.env(admin), { max_file_size: 4096n, chunk_size: 1024, session_ttl_seconds: 60, max_live_sessions: 3, default_quota_bytes: 100_000n }));
    const user = (n: number) => Principal.fromUint8Array(new Uint8Array(29).fill(n + 10));
    const data = randomBytes(1024);
    // Ten sessions that stay live, then one (created last, so last in the work map) that will expire holding a chunk.
    const begin = (n: number) => h.svc.begin_asset_upload(h.env(user(n)), uuid(100 + n), sha(data), 1, 1024n);
    for (let n = 0; n <= 10; n++) h.svc.upsert_metadata(h.env(user(n)), uuid(100 + n), { Image: null }, meta, `k${n}`);
    for (let n = 0; n <= 10; n++) begin(n);
    const tail = begin(10).session_id;
    h.svc.put_chunk(h.env(user(10)), tail, 0, data);
    h.advance(30_000_000_000n);
    for (let n = 0; n < 10; n++) begin(n); // resuming moves their expiry on
    h.advance(40_000_000_000n); // the tail is past its expiry, the ten are not
    // Each sweep can afford four sessions before its budget is spent.
    const tightEnv = (): Env => {
      let spent = 0n;
      return { ...h.env(admin), instructions: () => (spent += WORK_BUDGET / 4n) };
    };
    for (let round = 0; round < 10 && h.svc.sweep(tightEnv()); round++);
    const stats = h.svc.get_stats(h.env(admin));
    expect(stats.chunks).toBe(0n);
    expect(stats.live_sessions).toBe(10n);
    expect(h.call(() => h.svc.get_upload_progress(h.env(user(10)), tail))).toEqual({ Err: { UploadExpired: null } });
    expect(h.svc.check_invariants(h.env(admin)).violations).toEqual([]);
  });
});
