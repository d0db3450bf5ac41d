// put_chunk's hand-written Candid argument and the update call that sends it
// already encoded. The bytes must be IDL.encode's for the generated
// declarations' put_chunk type, and decode with IDL.decode to the values;
// the call must answer and fail exactly like the actor's own put_chunk.
import { randomBytes } from 'node:crypto';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { IDL } from '@dfinity/candid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idlFactory } from '../../src/declarations/forever/forever.did.js';
import { encodePutChunkArg } from '../../src/lib/upload/adapters/put-chunk-arg';
import { callWithEncodedArg } from '../../src/lib/upload/adapters/raw-update';
import { createForeverActor, foreverCanister, type ForeverActor } from '../../src/lib/upload/adapters/forever-canister';
import { classifyError, CanisterError } from '../../src/lib/upload/core/errors';
import { assembleWat } from '../http/support/wat';
import { startLocalStack, type LocalStack } from './support/local-stack';

const service = idlFactory({ IDL }) as IDL.ServiceClass;
const putChunk = service._fields.find(([n]) => n === 'put_chunk')![1];

describe('encodePutChunkArg', () => {
  const ids = ['', 'a', '0190a5a0-0000-7000-8000-000000000001', 'é✓🙂 session', 'x'.repeat(127), 'y'.repeat(128), 'z'.repeat(20_000)];
  const indices = [0, 1, 127, 128, 255, 256, 65_535, 2 ** 31, 2 ** 32 - 1];
  const sizes = [0, 1, 127, 128, 16_383, 16_384, 1024 * 1024, 2_097_151];

  it("writes IDL.encode's bytes for the declarations' put_chunk type, and IDL.decode reads the values back", () => {
    let n = 0;
    for (const id of ids) {
      for (const index of indices) {
        for (const size of sizes) {
          if (size > 16_384 && n++ % 5 !== 0) continue; // big chunks for a spread of ids and indices only
          const bytes = new Uint8Array(randomBytes(size));
          const mine = encodePutChunkArg(id, index, bytes);
          const theirs = new Uint8Array(IDL.encode(putChunk.argTypes, [id, index, bytes]));
          expect(Buffer.from(mine).equals(Buffer.from(theirs)), `${id.length}-char id, index ${index}, ${size} bytes`).toBe(true);
          const [dId, dIndex, dBytes] = IDL.decode(putChunk.argTypes, mine) as [string, number, Uint8Array];
          expect(dId).toBe(id);
          expect(dIndex).toBe(index);
          expect(Buffer.from(dBytes).equals(Buffer.from(bytes))).toBe(true);
        }
      }
    }
  });

  it('copies the chunk: changing the caller’s bytes afterwards leaves the argument as it was', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const arg = encodePutChunkArg('s', 0, bytes);
    bytes[0] = 9;
    expect(Array.from(arg.slice(-3))).toEqual([1, 2, 3]);
  });

  it('refuses what IDL.encode refuses for a nat32 index', () => {
    for (const index of [-1, 2 ** 32, 1.5, Number.NaN]) {
      expect(() => IDL.encode(putChunk.argTypes, ['s', index, new Uint8Array(1)])).toThrow();
      expect(() => encodePutChunkArg('s', index, new Uint8Array(1))).toThrow(`Invalid nat32 argument: ${index}`);
    }
  });
});

describe('put_chunk with an encoded argument, against the local IC', () => {
  let stack: LocalStack;
  let probe: string;
  beforeAll(async () => {
    stack = await startLocalStack();
    // A canister without put_chunk: its reject is certified (IC0302), like a trap's.
    const id = await stack.ic.createCanister();
    await stack.ic.installCode(id, await assembleWat('probe'), { mode: 'install' });
    probe = id.toText();
  }, 180_000);
  afterAll(async () => stack?.close());

  const actorOn = (canisterId: string): Promise<ForeverActor> =>
    createForeverActor(Ed25519KeyIdentity.generate(), { host: stack.origin, canisterId, fetchRootKey: true });

  it('stores chunks and returns the receipt; a refusal is the same CanisterError as before', async () => {
    const actor = await actorOn(stack.canisterId);
    const canister = foreverCanister(actor);
    const memoryId = '0190a5a0-0000-7000-8000-0000000000aa';
    await canister.upsertMetadata(memoryId, 'Image', { title: 't', name: 'a.bin', mimeType: 'application/octet-stream' }, 'k-aa');
    const limits = await canister.getLimits();
    const data = new Uint8Array(randomBytes(limits.chunkSize + 10));
    const sha = (await import('node:crypto')).createHash('sha256').update(data).digest('hex');
    const s = await canister.beginAssetUpload(memoryId, sha, 2, data.length);
    expect(await canister.putChunk(s.sessionId, 1, data.subarray(limits.chunkSize))).toEqual({ chunksReceived: 1, bytesReceived: 10 });
    expect(await canister.putChunk(s.sessionId, 0, data.subarray(0, limits.chunkSize))).toEqual({ chunksReceived: 2, bytesReceived: data.length });
    // The same chunk again is success (idempotent); a wrong length is InvalidArgument with the canister's words.
    expect(await canister.putChunk(s.sessionId, 1, data.subarray(limits.chunkSize))).toEqual({ chunksReceived: 2, bytesReceived: data.length });
    const wrong = await canister.putChunk(s.sessionId, 1, new Uint8Array(3)).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(CanisterError);
    expect((wrong as CanisterError).code).toBe('InvalidArgument');
    const viaActor = ok(await actor.put_chunk(s.sessionId, 1, new Uint8Array(3)));
    expect((wrong as CanisterError).detail).toEqual(viaActor);
    await canister.commitAsset(s.sessionId, sha);
    expect((await canister.getMemoryPresence(memoryId)).sha256).toBe(sha);
  });

  it("fails like the actor's put_chunk on a certified reject and on a canister that does not exist", async () => {
    const missing = 'rrkah-fqaaa-aaaaa-aaaaq-cai';
    for (const canisterId of [probe, missing]) {
      const actor = await actorOn(canisterId);
      const mine = await callWithEncodedArg(actor, 'put_chunk', encodePutChunkArg('s', 0, new Uint8Array(4))).catch((e: unknown) => e);
      const theirs = await actor.put_chunk('s', 0, new Uint8Array(4)).catch((e: unknown) => e);
      expect(mine).toBeInstanceOf(Error);
      expect(theirs).toBeInstanceOf(Error);
      const shape = (e: unknown) => {
        const err = e as { name: string; kind?: string; cause?: { code?: Record<string, unknown> } };
        const code = err.cause?.code ?? {};
        return { name: err.name, kind: err.kind, code: code.constructor?.name, rejectCode: code.rejectCode, rejectMessage: code.rejectMessage, errorCode: code.rejectErrorCode };
      };
      expect(shape(mine)).toEqual(shape(theirs));
      // The messages differ only by request id; the engine's reading of them is the same.
      const { category, code } = classifyError(theirs);
      expect(classifyError(mine)).toMatchObject({ category, code });
      expect(shape(mine).rejectCode).toBe(3);
    }
  });
});

function ok<T>(r: { Ok: T } | { Err: unknown }): unknown {
  return 'Err' in r ? Object.values(r.Err as object)[0] : r.Ok;
}
