// uploading: begin_asset_upload (which returns our live session and the
// chunks it has, so starting and resuming are the same call), then only the
// missing chunks, `chunkConcurrency` at a time, each confirmed one recorded.
import { chunkCount, chunkRange, missingChunks } from '../../core/chunks';
import { CanisterError, isAlreadyExists, StepError } from '../../core/errors';
import { pool } from '../../core/pool';
import { eta, receivedBytes, SpeedMeter } from '../../core/progress';
import { requireHash, waitForTwinAhead } from '../../core/twins';
import type { QueueItem } from '../../core/types';
import type { StepContext } from './context';

export async function uploadingStep(ctx: StepContext, item: QueueItem): Promise<QueueItem> {
  const { canister, signal } = ctx;
  const sha256 = requireHash(item);
  // Read on demand: the item record never carries the bytes.
  const blob = item.hasBytes ? await ctx.store.bytes(item.id) : undefined;
  if (!blob) {
    // The bytes go only once the canister confirmed the commit, so an item
    // without them that is back here (the user retried it after its edges
    // failed) is normally stored already: the canister's word decides.
    const presence = await ctx.call(() => canister.getMemoryPresence(item.id));
    if (presence.assetPresent && presence.sha256 === sha256) return ctx.move(item, { type: 'already-exists' }, { sessionId: null });
    throw new StepError({ category: 'permanent', code: 'BytesMissing', message: 'the queued bytes are gone; pick the file again' });
  }
  // A copy storing the file itself (its twin failed or was removed) still
  // never uploads while another item with the same bytes is in flight (a
  // failed twin the user retried): one copy at a time. Once it has a session
  // it goes on whatever the twin does.
  if (item.duplicateOf !== null && item.sessionId === null) waitForTwinAhead(item, await ctx.twinsOf(item, sha256));
  const limits = await ctx.call(() => canister.getLimits());
  // The canister fixes the chunk size: chunk_count must be ceil(size / its chunk_size).
  const requested = chunkCount(item.size, limits.chunkSize);
  const begun = await ctx.call(async () => {
    try {
      return await canister.beginAssetUpload(item.id, sha256, requested, item.size);
    } catch (err) {
      if (isAlreadyExists(err)) return 'already-exists' as const;
      throw err;
    }
  });
  if (begun === 'already-exists') return ctx.moveDroppingBytes(item, { type: 'already-exists' }, { sessionId: null, committedAt: ctx.clock.now() });
  const count = chunkCount(item.size, begun.chunkSize);
  item = await ctx.save(item.id, (cur) => ({ ...cur, sessionId: begun.sessionId, chunkSize: begun.chunkSize, chunkCount: count, receivedChunks: [...begun.receivedChunks].sort((a, b) => a - b) }));

  const received = new Set(item.receivedChunks);
  const todo = missingChunks(count, received);
  const speed = new SpeedMeter();
  const emit = ctx.progress(item);
  const snapshot = (force = false) => {
    const now = ctx.clock.now();
    const sent = receivedBytes([...received], item.size, begun.chunkSize);
    const bps = speed.speed(now);
    emit({ bytesSent: sent, chunksSent: received.size, speed: bps, etaSeconds: eta(item.size - sent, bps) }, force);
  };
  speed.add(ctx.clock.now(), 0);
  snapshot(true);
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onOuterAbort, { once: true });
  const id = item.id;
  const size = item.size;
  try {
    await pool(todo, ctx.chunkConcurrency, async (index) => {
      if (stop.signal.aborted) return;
      const [start, end] = chunkRange(index, size, begun.chunkSize);
      const bytes = new Uint8Array(await blob.slice(start, end).arrayBuffer());
      try {
        await ctx.call(() => canister.putChunk(begun.sessionId, index, bytes), stop.signal);
      } catch (err) {
        stop.abort(err);
        throw err;
      }
      received.add(index);
      speed.add(ctx.clock.now(), bytes.byteLength);
      await ctx.store.update(id, (cur) => ({
        ...cur,
        receivedChunks: cur.receivedChunks.includes(index) ? cur.receivedChunks : [...cur.receivedChunks, index],
        chunkPuts: cur.chunkPuts + 1,
      }));
      snapshot();
    });
  } catch (err) {
    if (err instanceof CanisterError && (err.code === 'UploadExpired' || err.code === 'NotFound')) {
      throw new StepError({ category: 'transient', code: err.code, message: err.message }, true);
    }
    throw err;
  } finally {
    signal?.removeEventListener('abort', onOuterAbort);
  }
  // Stopped from outside (tab closing, drain cancelled): the chunks sent are recorded; resume later.
  if (signal?.aborted) return (await ctx.store.get(id)) ?? item;
  snapshot(true);
  return ctx.move(item, { type: 'chunks-done' });
}
