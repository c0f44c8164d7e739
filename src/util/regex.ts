/**
 * The data plane matches regexes with RE2. JavaScript regexes are a superset in the ways that
 * matter here, so a pattern is accepted when JavaScript compiles it and it uses none of the
 * features RE2 lacks (look-around, back-references).
 */
const NOT_RE2 = [
  { re: /\(\?[=!]/, what: 'look-ahead' },
  { re: /\(\?<[=!]/, what: 'look-behind' },
  { re: /\\[1-9]/, what: 'a back-reference' },
  { re: /\\k</, what: 'a named back-reference' },
];

/** Undefined if valid, else the reason. */
export function re2Problem(pattern: string): string | undefined {
  for (const { re, what } of NOT_RE2) if (re.test(pattern)) return `uses ${what}, which RE2 does not support`;
  try {
    new RegExp(pattern, 'u');
    return undefined;
  } catch (e) {
    return `does not compile (${(e as Error).message})`;
  }
}
