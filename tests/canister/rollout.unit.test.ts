// The rolling upgrade's plan (canister/src/index-canister/rollout.ts): batches
// in creation order, buckets already on the module skipped, the first
// failure stopping the rollout where it is, and starting again with the same
// module going on from there.
import { describe, expect, it } from 'vitest';
import { afterBatch, nextBatch, startRollout } from '../../canister/src/index-canister/rollout';

const order = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, module: 'old' }));

describe('the rollout plan', () => {
  it('goes through every bucket in batches and ends done', () => {
    let r = startRollout(undefined, 'new', 2);
    const seen: string[][] = [];
    while (r.state === 'running') {
      const batch = nextBatch(r, order);
      seen.push(batch.map((b) => b.id));
      r = afterBatch(r, order.length, []);
    }
    expect(seen).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(r).toMatchObject({ state: 'done', next: 5 });
  });

  it('a failure stops it at its batch; the same module again goes on from there, skipping buckets already upgraded', () => {
    let r = startRollout(undefined, 'new', 2);
    r = afterBatch(r, order.length, []);
    r = afterBatch(r, order.length, [{ bucket: 'd', reason: 'post_upgrade trapped' }]);
    expect(r).toMatchObject({ state: 'failed', next: 2, failed: { bucket: 'd' } });
    // c was upgraded in the failed batch, d kept its old module.
    const now = order.map((b) => (['a', 'b', 'c'].includes(b.id) ? { ...b, module: 'new' } : b));
    const again = startRollout(r, 'new', 2);
    expect(again).toMatchObject({ state: 'running', next: 2 });
    expect(again.failed).toBeUndefined();
    expect(nextBatch(again, now).map((b) => b.id)).toEqual(['d']);
  });

  it('another module starts from the first bucket; a finished rollout of the same module starts afresh', () => {
    const failed = { sha256: 'new', batchSize: 1, next: 3, state: 'failed' as const, failed: { bucket: 'd', reason: 'x' } };
    expect(startRollout(failed, 'newer', 1)).toMatchObject({ sha256: 'newer', next: 0, state: 'running' });
    expect(startRollout({ ...failed, state: 'done', failed: undefined }, 'new', 1)).toMatchObject({ next: 0, state: 'running' });
  });
});
