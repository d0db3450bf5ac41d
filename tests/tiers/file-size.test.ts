// The file limit across the three tiers, written against the one constant
// they share (contract's MAX_FILE_BYTES): a file of exactly that size is
// stored on the canister, its edge is recorded on the server (which asks the
// canister) and its blob copy is accepted; one byte more is refused by each
// tier with its own typed error: the canister's InvalidArgument, the
// server's 413 PAYLOAD_TOO_LARGE (upload) and 400 INVALID_ARGUMENT (edge), the
// client's FileTooLargeError before anything is queued.
//
// The canister hashes the 100 MiB once (about a second per MiB with its
// current hash on an idle machine, far more on a loaded one), so this is the
// one test that stores a file of the limit.
import { Principal } from '@dfinity/principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { MAX_CHUNK_BYTES, MAX_FILE_BYTES, MiB } from '../../contract/index.js';
import { FileTooLargeError, newQueueItem } from '../../src/lib/upload/enqueue.js';
import { MAX_FILE_SIZE } from '../../src/lib/upload/chunks.js';
import { toHex } from '../../server/bytes.js';
import type { IcMemoryPresence, PresenceVerifier } from '../../server/ic/types.js';
import { err, ok } from '../canister/support/actor.js';
import { metadata, principal, seededBytes, startForever, storeFile, type Forever } from '../canister/support/forever.js';
import { ENGINES } from '../server/support/database.js';
import { startTestServer, type TestServer } from '../server/support/server.js';

type Json = Record<string, any>;

describe('the file limit every tier shares', () => {
  it('is 100 MiB, and the client checks the same constant', () => {
    expect(MAX_FILE_BYTES).toBe(104_857_600);
    expect(MAX_FILE_BYTES).toBe(100 * MiB);
    expect(MAX_FILE_SIZE).toBe(MAX_FILE_BYTES);
  });

  it("the client's validation takes the limit and refuses one byte more before queueing", () => {
    const file = (size: number) => ({ size, type: 'image/png' }) as Blob;
    expect(newQueueItem({ blob: file(MAX_FILE_BYTES), name: 'limit.png' }).size).toBe(MAX_FILE_BYTES);
    expect(() => newQueueItem({ blob: file(MAX_FILE_BYTES + 1), name: 'over.png' })).toThrow(FileTooLargeError);
  });
});

describe('a file of MAX_FILE_BYTES on the canister and the server', () => {
  const owner = principal(42);
  const verifier = principal(43);
  const data = seededBytes(MAX_FILE_BYTES, 2026) as Uint8Array<ArrayBuffer>;
  let forever: Forever;
  let memoryId: string;
  let hash: string;

  beforeAll(async () => {
    forever = await startForever();
    ok(await forever.admin.set_presence_verifiers([verifier]));
    const stored = await storeFile(forever.actor(owner), data);
    memoryId = stored.memoryId;
    hash = toHex(stored.hash);
    // A generous bound: 100 put_chunk calls of 1 MiB, each hashed by the canister.
  }, 3_600_000);
  afterAll(async () => forever?.close());

  it('the canister stored it and refuses one byte more with InvalidArgument', async () => {
    const presence = ok(await forever.actor(verifier).verify_presence(owner, [memoryId]))[0];
    expect(presence).toMatchObject({ memory_id: memoryId, asset_present: true, size: [BigInt(MAX_FILE_BYTES)] });
    const over = uuidv7();
    ok(await forever.actor(owner).upsert_metadata(over, { Image: null }, metadata(), `meta-${over}`));
    const chunks = Math.ceil((MAX_FILE_BYTES + 1) / MAX_CHUNK_BYTES);
    const refused = err(await forever.actor(owner).begin_asset_upload(over, new Uint8Array(32), chunks, BigInt(MAX_FILE_BYTES + 1)));
    expect(Object.keys(refused)).toEqual(['InvalidArgument']);
  });

  describe.each(ENGINES)('the server on %s', (engine) => {
    let s: TestServer;
    let cookie: string;

    beforeAll(async () => {
      // The server's presence port, answered by this canister as the registered verifier.
      const presenceVerifier: PresenceVerifier = {
        async presence(ownerText, ids) {
          const out = new Map<string, IcMemoryPresence>();
          for (const p of ok(await forever.actor(verifier).verify_presence(Principal.fromText(ownerText), [...ids]))) {
            if (!p.metadata_present || p.owner[0]?.toText() !== ownerText) continue;
            out.set(p.memory_id, {
              memory_id: p.memory_id,
              metadata_present: p.metadata_present,
              asset_present: p.asset_present,
              sha256: p.sha256.length ? toHex(p.sha256[0] as Uint8Array) : null,
              size: p.size.length ? Number(p.size[0]) : null,
            });
          }
          return out;
        },
      };
      s = await startTestServer(engine, { presenceVerifier, principalResolver: { noncePrincipal: async () => null } });
      cookie = await s.signIn(owner.toText());
    });
    afterAll(async () => s?.close());

    const putEdge = (size: number) =>
      s.request('/api/storage/edges', {
        method: 'PUT',
        cookie,
        json: { edges: [{ memory_id: memoryId, artifact: 'asset', backend: 'icp', present: true, content_hash: hash, size }] },
      });
    const upload = (id: string, body: Uint8Array<ArrayBuffer>) =>
      s.request(`/api/upload_file?memory_id=${id}`, { method: 'POST', cookie, body, headers: { 'content-type': 'application/octet-stream' } });

    it('records its edge and accepts its blob copy; refuses one byte more on each', async () => {
      expect((await s.request(`/api/memories/${memoryId}`, { method: 'PUT', cookie, json: { memory_type: 'image', title: 'limit' } })).status).toBe(201);
      const over = await putEdge(MAX_FILE_BYTES + 1);
      expect([over.status, ((await over.json()) as Json).error.code]).toEqual([400, 'INVALID_ARGUMENT']);
      const edge = await putEdge(MAX_FILE_BYTES);
      expect([edge.status, await edge.json()]).toEqual([200, { upserted: 1 }]);
      expect(((await (await s.request('/api/usage', { cookie })).json()) as Json).icp_bytes).toBe(MAX_FILE_BYTES);

      const copy = await upload(memoryId, data);
      expect(copy.status).toBe(201);
      expect(await copy.json()).toMatchObject({ status: 'stored', content_hash: hash, byte_size: MAX_FILE_BYTES });

      const other = uuidv7();
      expect((await s.request(`/api/memories/${other}`, { method: 'PUT', cookie, json: { memory_type: 'image' } })).status).toBe(201);
      const big = new Uint8Array(MAX_FILE_BYTES + 1);
      big.set(data);
      const refused = await upload(other, big);
      expect([refused.status, ((await refused.json()) as Json).error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
      expect(((await (await s.request('/api/usage', { cookie })).json()) as Json).total_bytes).toBe(MAX_FILE_BYTES);
    });
  });
});
