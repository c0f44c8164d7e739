/** Retry delays of the reflectors: exponential, capped, with jitter. Pure. */

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * Short enough that a restarted API server is followed within seconds, long enough that a down
 * one costs a request every 10 s per kind.
 */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 250, maxMs: 10_000 };

/** The delay before retry number `failures` (0 for the first), ±20 % by `random` in [0, 1). */
export function backoffDelay(failures: number, backoff: Backoff, random: number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failures, 30));
  return Math.round(base * (0.8 + 0.4 * random));
}
