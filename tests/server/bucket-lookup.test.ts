// The server's view of the index (server/ic/bucket-lookup.ts): which bucket
// keeps a principal's data, kept for a short TTL, one question per principal
// at a time, asked afresh after a WrongBucket; a principal the index has not
// placed is never kept (it may be placed a moment later).
import { describe, expect, it } from 'vitest';
import { BucketLookup, DEFAULT_BUCKET_TTL_MS } from '../../server/ic/bucket-lookup.js';

function index(answers: Record<string, string | null>) {
  const asked: string[] = [];
  let release: (() => void) | null = null;
  let gate: Promise<void> | null = null;
  return {
    asked,
    answers,
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release: () => release?.(),
    async ask(p: string) {
      asked.push(p);
      if (gate) await gate;
      return answers[p] ?? null;
    },
  };
}

describe('BucketLookup', () => {
  it('keeps an answer for its TTL, then asks the index again', async () => {
    let now = 1_000;
    const ix = index({ alice: 'bucket-a' });
    const lookup = new BucketLookup({ ask: (p) => ix.ask(p), now: () => now });
    expect(await lookup.bucketOf('alice')).toBe('bucket-a');
    now += DEFAULT_BUCKET_TTL_MS - 1;
    expect(await lookup.bucketOf('alice')).toBe('bucket-a');
    expect(ix.asked).toEqual(['alice']);
    ix.answers.alice = 'bucket-b'; // moved
    now += 1;
    expect(await lookup.bucketOf('alice')).toBe('bucket-b');
    expect(ix.asked).toEqual(['alice', 'alice']);
  });

  it('asks once for concurrent callers, never keeps "no bucket", and asks afresh on demand', async () => {
    const ix = index({ alice: 'bucket-a' });
    const lookup = new BucketLookup({ ask: (p) => ix.ask(p) });
    ix.hold();
    const all = Promise.all([lookup.bucketOf('alice'), lookup.bucketOf('alice'), lookup.bucketOf('alice')]);
    ix.release();
    expect(await all).toEqual(['bucket-a', 'bucket-a', 'bucket-a']);
    expect(ix.asked).toEqual(['alice']);
    expect(await lookup.bucketOf('newcomer')).toBeNull();
    ix.answers.newcomer = 'bucket-b';
    expect(await lookup.bucketOf('newcomer')).toBe('bucket-b');
    // A bucket said WrongBucket: the kept answer is not trusted.
    ix.answers.alice = 'bucket-c';
    expect(await lookup.fresh('alice')).toBe('bucket-c');
    expect(await lookup.bucketOf('alice')).toBe('bucket-c');
    expect(ix.asked).toEqual(['alice', 'newcomer', 'newcomer', 'alice']);
  });

  it('forgets an answer when the index could not be asked, and keeps at most maxEntries principals', async () => {
    let down = true;
    const lookup = new BucketLookup({
      maxEntries: 2,
      ask: async (p) => {
        if (down) throw new Error('index down');
        return `bucket-of-${p}`;
      },
    });
    await expect(lookup.bucketOf('alice')).rejects.toThrow('index down');
    down = false;
    expect(await lookup.bucketOf('alice')).toBe('bucket-of-alice');
    await lookup.bucketOf('bob');
    await lookup.bucketOf('carol');
    let asked = 0;
    const counting = new BucketLookup({ maxEntries: 2, ask: async (p) => (asked++, `b-${p}`) });
    for (const p of ['a', 'b', 'c', 'b', 'c', 'a']) await counting.bucketOf(p);
    // a was dropped when c came in, so it is asked again; b and c are kept.
    expect(asked).toBe(4);
  });
});
