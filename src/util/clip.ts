/**
 * Client strings (node ids, resource names, type URLs, NACK messages) bounded before they are kept,
 * logged or put in a status message: a client controls their length, and a 4 MB node id must not
 * become 4 MB per log line, per stream kept in memory and per /debug/xds entry.
 */

/** Node ids, peers, type URLs: real ones are well under this. */
export const MAX_ID_LENGTH = 256;
/** NACK messages: Envoy's are a few lines; the start says what went wrong. */
export const MAX_MESSAGE_LENGTH = 2048;
/** Names listed in one log line; the rest are counted. */
export const MAX_LOGGED_NAMES = 20;

/** `s` cut to `max` characters, with how much was cut; unchanged when it fits. */
export function clip(s: string, max: number = MAX_ID_LENGTH): string {
  if (s.length <= max) return s;
  // Never split a surrogate pair: a lone half would turn into U+FFFD or an escape downstream.
  const end = isHighSurrogate(s.charCodeAt(max - 1)) ? max - 1 : max;
  return `${s.slice(0, end)}…(${s.length - end} more characters)`;
}

/** At most MAX_LOGGED_NAMES names, each clipped, and a count of the others. */
export function clipNames(names: readonly string[]): string[] {
  const shown = names.slice(0, MAX_LOGGED_NAMES).map((n) => clip(n));
  if (names.length > MAX_LOGGED_NAMES) shown.push(`…(${names.length - MAX_LOGGED_NAMES} more names)`);
  return shown;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
