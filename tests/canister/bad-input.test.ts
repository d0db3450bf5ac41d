// Bad input: each refusal is a typed error (never a trap) and changes nothing.
import { IDL } from '@dfinity/candid';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { err, ok } from './support/actor';
import { chunksOf, type Forever, metadata, MiB, newId, principal, seededBytes, sha256, startForever } from './support/forever';
import { snapshot } from './support/state';

let f: Forever;
const alice = () => f.actor(principal(21));
let memoryId: string;

beforeAll(async () => {
  f = await startForever();
  memoryId = newId();
  ok(await alice().upsert_metadata(memoryId, { Image: null }, metadata(), 'setup'));
});
afterAll(async () => {
  await f?.close();
});

/** Runs `call`, expects the typed error, and checks the canister's state did not move. */
async function refused(call: () => Promise<unknown>, expected: unknown): Promise<void> {
  const before = await snapshot(f, alice());
  const r = await call();
  expect(r).toEqual({ Err: expected });
  expect(await snapshot(f, alice())).toBe(before);
}

const invalidArg = { InvalidArgument: expect.any(String) };

describe('malformed arguments', () => {
  it('refuses a malformed UUID', async () => {
    await refused(() => alice().upsert_metadata('not-a-uuid', { Image: null }, metadata(), 'k'), invalidArg);
    await refused(() => alice().upsert_metadata(memoryId.toUpperCase(), { Image: null }, metadata(), 'k'), invalidArg);
    await refused(() => alice().begin_asset_upload('0190a0b0-0000-7000-8000-00000000000', sha256(new Uint8Array(1)), 1, 1n), invalidArg);
    await refused(() => alice().store_gallery({ id: 'g1', title: '', description: [], memory_ids: [] }), invalidArg);
  });

  it('refuses an unknown memory type (a Candid variant the canister does not know) with InvalidArgument', async () => {
    const meta = IDL.Record({
      title: IDL.Text,
      description: IDL.Opt(IDL.Text),
      tags: IDL.Vec(IDL.Text),
      file_name: IDL.Opt(IDL.Text),
      mime_type: IDL.Opt(IDL.Text),
      taken_at_ms: IDL.Opt(IDL.Nat64),
    });
    const arg = IDL.encode([IDL.Text, IDL.Variant({ Hologram: IDL.Null }), meta, IDL.Text], [newId(), { Hologram: null }, metadata(), 'k']);
    const before = await snapshot(f, alice());
    const r = await alice().raw('upsert_metadata', new Uint8Array(arg));
    expect(r.status).toBe('replied');
    if (r.status !== 'replied') return;
    const ret = IDL.Variant({ Ok: IDL.Reserved, Err: IDL.Variant({ InvalidArgument: IDL.Text, Unauthorized: IDL.Null }) });
    expect(IDL.decode([ret], r.reply)[0]).toEqual({ Err: invalidArg });
    expect(await snapshot(f, alice())).toBe(before);
  });

  it('refuses arguments that are not Candid at all without trapping', async () => {
    const r = await alice().raw('put_chunk', new Uint8Array([1, 2, 3]));
    expect(r.status).toBe('replied');
  });
});

describe('upload limits', () => {
  const hash = sha256(new Uint8Array([1]));

  it('refuses 100 MiB + 1 byte', async () => {
    await refused(() => alice().begin_asset_upload(memoryId, hash, 101, BigInt(100 * MiB + 1)), invalidArg);
  });

  it('refuses a chunk count that does not match the size', async () => {
    await refused(() => alice().begin_asset_upload(memoryId, hash, 2, BigInt(3 * MiB)), invalidArg);
    await refused(() => alice().begin_asset_upload(memoryId, hash, 1, 0n), invalidArg);
    await refused(() => alice().begin_asset_upload(memoryId, new Uint8Array(31), 1, 10n), invalidArg);
  });

  it('refuses an upload for a memory without metadata', async () => {
    await refused(() => alice().begin_asset_upload(newId(), hash, 1, 10n), { NotFound: null });
  });

  it('refuses a chunk of 1 MiB + 1 byte, a short chunk and an index out of range', async () => {
    const data = seededBytes(2 * MiB, 31);
    const s = ok(await alice().begin_asset_upload(memoryId, sha256(data), 2, BigInt(data.length)));
    await refused(() => alice().put_chunk(s.session_id, 0, new Uint8Array(MiB + 1)), invalidArg);
    await refused(() => alice().put_chunk(s.session_id, 0, new Uint8Array(100)), invalidArg);
    await refused(() => alice().put_chunk(s.session_id, 2, new Uint8Array(MiB)), invalidArg);
    await refused(() => alice().put_chunk(newId(), 0, new Uint8Array(10)), { NotFound: null });
    ok(await alice().cancel_upload(s.session_id));
  });

  it('a wrong final hash is InvalidHash, commits nothing, and the session stays resumable', async () => {
    const data = seededBytes(3000, 32);
    const id = newId();
    ok(await alice().upsert_metadata(id, { Document: null }, metadata(), `m-${id}`));
    const s = ok(await alice().begin_asset_upload(id, sha256(data), 1, 3000n));
    ok(await alice().put_chunk(s.session_id, 0, data));
    await refused(() => alice().commit_asset(s.session_id, sha256(new Uint8Array([9]))), { InvalidHash: null });
    expect(ok(await alice().get_memory_presence(id)).asset_present).toBe(false);
    expect(Array.from(ok(await alice().begin_asset_upload(id, sha256(data), 1, 3000n)).received_chunks)).toEqual([0]);
    ok(await alice().commit_asset(s.session_id, sha256(data)));
  });

  it('bytes that do not hash to the announced SHA-256 end the session cleanly with InvalidHash', async () => {
    const data = seededBytes(3000, 33);
    const claimed = sha256(seededBytes(3000, 34));
    const id = newId();
    ok(await alice().upsert_metadata(id, { Document: null }, metadata(), `m-${id}`));
    const s = ok(await alice().begin_asset_upload(id, claimed, 1, 3000n));
    ok(await alice().put_chunk(s.session_id, 0, data));
    expect(err(await alice().commit_asset(s.session_id, claimed))).toEqual({ InvalidHash: null });
    expect(ok(await alice().get_memory_presence(id)).asset_present).toBe(false);
    expect(ok(await alice().list_my_uploads())).toEqual([]);
    const stats = ok(await f.admin.get_stats());
    expect(stats.sessions_freeing).toBe(0n);
    expect(ok(await f.admin.check_invariants()).violations).toEqual([]);
    // The session is over: retrying tells the client why.
    expect(err(await alice().put_chunk(s.session_id, 0, data))).toEqual({ InvalidHash: null });
  });

  it('refuses a commit with chunks missing', async () => {
    const data = seededBytes(2 * MiB + 5, 35);
    const id = newId();
    ok(await alice().upsert_metadata(id, { Video: null }, metadata(), `m-${id}`));
    const s = ok(await alice().begin_asset_upload(id, sha256(data), 3, BigInt(data.length)));
    ok(await alice().put_chunk(s.session_id, 1, chunksOf(data, MiB)[1]));
    await refused(() => alice().commit_asset(s.session_id, sha256(data)), invalidArg);
    ok(await alice().cancel_upload(s.session_id));
  });

  it('refuses a fourth live session with TooManyUploads', async () => {
    const sessions: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = newId();
      ok(await alice().upsert_metadata(id, { Image: null }, metadata(), `m-${id}`));
      sessions.push(ok(await alice().begin_asset_upload(id, sha256(new Uint8Array([i])), 1, 1n)).session_id);
    }
    const id = newId();
    ok(await alice().upsert_metadata(id, { Image: null }, metadata(), `m-${id}`));
    await refused(() => alice().begin_asset_upload(id, sha256(new Uint8Array([7])), 1, 1n), { TooManyUploads: { active: 3, max: 3 } });
    for (const s of sessions) ok(await alice().cancel_upload(s));
    ok(await alice().begin_asset_upload(id, sha256(new Uint8Array([7])), 1, 1n));
  });

  it('refuses an upload over the principal’s quota', async () => {
    const bob = f.actor(principal(22));
    ok(await f.admin.set_quota(principal(22), [10_000n]));
    const id = newId();
    ok(await bob.upsert_metadata(id, { Image: null }, metadata(), 'k'));
    const before = await snapshot(f, bob);
    expect(err(await bob.begin_asset_upload(id, sha256(new Uint8Array(1)), 1, 10_001n))).toEqual({ QuotaExceeded: { used: 0n, limit: 10_000n } });
    expect(await snapshot(f, bob)).toBe(before);
    const s = ok(await bob.begin_asset_upload(id, sha256(new Uint8Array(6000)), 1, 6000n));
    // The live session's bytes count against the quota too.
    const id2 = newId();
    ok(await bob.upsert_metadata(id2, { Image: null }, metadata(), 'k2'));
    expect(err(await bob.begin_asset_upload(id2, sha256(new Uint8Array(5000)), 1, 5000n))).toEqual({ QuotaExceeded: { used: 6000n, limit: 10_000n } });
    ok(await bob.put_chunk(s.session_id, 0, new Uint8Array(6000)));
    ok(await bob.commit_asset(s.session_id, sha256(new Uint8Array(6000))));
    expect(ok(await bob.get_usage())).toMatchObject({ used_bytes: 6000n, limit_bytes: 10_000n, reserved_bytes: 0n });
  });

  it('an expired session answers UploadExpired and the timer frees its chunks, including out-of-order ones', async () => {
    const carol = f.actor(principal(23));
    const data = seededBytes(3 * MiB, 36);
    const chunks = chunksOf(data, MiB);
    const id = newId();
    ok(await carol.upsert_metadata(id, { Image: null }, metadata(), 'k'));
    const s = ok(await carol.begin_asset_upload(id, sha256(data), 3, BigInt(data.length)));
    ok(await carol.put_chunk(s.session_id, 0, chunks[0]));
    ok(await carol.put_chunk(s.session_id, 2, chunks[2]));
    const chunksBefore = ok(await f.admin.get_stats()).chunks;
    // Activity moves the expiry: 20 minutes later the session is still live.
    await f.ic.advanceTime(20 * 60 * 1000);
    expect(Array.from(ok(await carol.get_upload_progress(s.session_id)).received_chunks)).toEqual([0, 2]);
    await f.ic.advanceTime(11 * 60 * 1000);
    expect(err(await carol.put_chunk(s.session_id, 1, chunks[1]))).toEqual({ UploadExpired: null });
    expect(err(await carol.commit_asset(s.session_id, sha256(data)))).toEqual({ UploadExpired: null });
    const stats = ok(await f.admin.get_stats());
    expect(stats.chunks).toBe(chunksBefore - 2n);
    expect(stats.sessions_freeing).toBe(0n);
    expect(ok(await carol.get_usage())).toMatchObject({ active_uploads: 0, reserved_bytes: 0n });
    expect(ok(await f.admin.check_invariants()).violations).toEqual([]);
  });
});
