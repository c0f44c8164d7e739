/**
 * Decoding of ZooKeeper node names written by Dubbo: `java.net.URLEncoder` output (UTF-8), where
 * `+` stands for a space and every other escaped byte is `%XX`. decodeURIComponent alone does not
 * turn `+` into a space, and throws on bad input; this never throws.
 */

/** The decoded text, or undefined when `s` is not valid URL encoding of UTF-8 (a lone `%`, bad hex, bad UTF-8). */
export function javaUrlDecode(s: string): string | undefined {
  // A literal `+` is a space; an encoded plus is `%2B`, so replacing first cannot touch one.
  const spaced = s.replaceAll('+', ' ');
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return undefined;
  }
}

/**
 * `java.net.URLEncoder.encode(s, UTF-8)`: the name Dubbo gives a node for `s` (letters, digits and
 * `.-*_` as they are, a space as `+`, every other byte as upper-case `%XX`).
 */
export function javaUrlEncode(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+');
}
