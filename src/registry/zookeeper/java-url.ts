/**
 * Decoding of ZooKeeper node names written by Dubbo: `java.net.URLEncoder` output (UTF-8), where
 * `+` stands for a space and every other escaped byte is `%XX`. JavaScript's decodeURIComponent
 * does not turn `+` into a space, and throws on bad input; this never throws.
 */

/** The decoded text, or undefined when `s` is not valid URL encoding of UTF-8 (a lone `%`, bad hex, bad UTF-8). */
export function javaUrlDecode(s: string): string | undefined {
  if (!s.includes('%')) return s.replaceAll('+', ' ');
  const bytes: number[] = [];
  let out = '';
  const flush = (): boolean => {
    if (bytes.length === 0) return true;
    const text = utf8(bytes);
    bytes.length = 0;
    if (text === undefined) return false;
    out += text;
    return true;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
      continue;
    }
    if (!flush()) return undefined;
    out += c === '+' ? ' ' : c;
  }
  return flush() ? out : undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: readonly number[]): string | undefined {
  try {
    return decoder.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}
