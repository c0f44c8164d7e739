/**
 * Runs `fn` over `items` with at most `limit` calls in flight, starting them in order. Once
 * `stop()` returns true no further call starts (those in flight finish). Resolves when every
 * started call has settled; `fn` must not reject (a rejection is passed on once all have settled).
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`bug: forEachLimited needs a limit of at least 1, got ${limit}`);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !stop()) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
