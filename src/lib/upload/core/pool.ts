// Bounded concurrency over a list. Pure.

/** Runs `work` over `items` with at most `limit` in flight; rejects with the first error after in-flight work settles. */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: { err: unknown } | null = null;
  const runner = async () => {
    while (next < items.length && firstError === null) {
      const item = items[next++];
      try {
        await work(item);
      } catch (err) {
        firstError ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  if (firstError !== null) throw (firstError as { err: unknown }).err;
}
