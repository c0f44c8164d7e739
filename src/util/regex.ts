/**
 * RE2 syntax check for `regex` attribute matches. The data plane compiles them with C++ RE2 (Envoy's
 * `safe_regex` with `google_re2`) and the CRD's CEL rule with Go's regexp, which has the same
 * syntax. The check is re2js, a JavaScript port of RE2/J, which parses the RE2 syntax itself: Perl
 * flags (`(?i)`), `(?P<name>…)`, POSIX classes, `\pL`, `\z` and `\Q…\E` are valid; look-around,
 * back-references and repeat counts above 1000 (also nested repeats multiplying past 1000) are not.
 *
 * Two patterns that C++ RE2 accepts are refused here: `\C` (one byte; Go's regexp, and so the CRD,
 * refuses it too) and a capture-group name used twice (RE2/J keeps a name-to-group map).
 */
import { RE2JS, RE2JSException } from 're2js';

/** Undefined if RE2 accepts the pattern, else RE2's own parse error. */
export function re2Problem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (e) {
    if (e instanceof RE2JSException) return e.message;
    throw e;
  }
}

export type RegexCheck = (pattern: string) => string | undefined;

/**
 * re2Problem with a memory of the last `limit` distinct patterns. Compiling with re2js costs about
 * as much as building the routes of a MetaRouter, and meshes repeat the same few patterns across
 * thousands of MetaRouters. The owner (the engine) holds one; nothing is shared between owners.
 */
export function cachedRe2Check(limit = 4096): RegexCheck {
  const seen = new Map<string, string | undefined>();
  return (pattern) => {
    if (seen.has(pattern)) return seen.get(pattern);
    const problem = re2Problem(pattern);
    if (seen.size >= limit) seen.delete(seen.keys().next().value!);
    seen.set(pattern, problem);
    return problem;
  };
}
