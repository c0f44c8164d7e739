/**
 * Durations as users write them in MetaRouters (`60s`, `500ms`, `1m30s`, Go style) and as proto3
 * JSON wants them (`60s`, `0.500s`).
 */
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;

/** Seconds, or undefined if `s` is not a duration. Nanosecond precision. */
export function parseDuration(s: string): number | undefined {
  if (s === '' || s.length > 64) return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = PART.exec(s)) !== null) {
    total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    consumed = PART.lastIndex;
  }
  return consumed === s.length ? Math.round(total * 1e9) / 1e9 : undefined;
}

/** proto3 JSON form of a Duration: seconds with 0, 3, 6 or 9 fractional digits and an `s`. */
export function toProtoDuration(seconds: number): string {
  const nanos = Math.round(seconds * 1e9);
  const whole = Math.floor(nanos / 1e9);
  const frac = nanos % 1e9;
  if (frac === 0) return `${whole}s`;
  const digits = frac % 1e6 === 0 ? 3 : frac % 1e3 === 0 ? 6 : 9;
  return `${whole}.${String(frac).padStart(9, '0').slice(0, digits)}s`;
}
