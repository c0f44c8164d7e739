/**
 * The names nearest to a misspelt one, for "did you mean" sentences. Pure. Distance is the
 * Levenshtein distance (insertions, deletions, substitutions), bounded so that a long list of long
 * names costs little: a pair further apart than the bound is not measured to the end.
 */

/** The edit distance of `a` and `b`, or `max + 1` when it is more than `max`. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(v);
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    prev = row;
  }
  return Math.min(prev[b.length]!, max + 1);
}

/**
 * Up to `limit` of `names` close to `query`, nearest first, then by name: those within an edit
 * distance of a fifth of the query's length (at least 2), then those in which the query's dot- or
 * slash-separated parts appear in a row, each equal, a prefix or a near miss of the name's part
 * (`demoservic` → `org.apache.dubbo.samples.basic.api.demoservice`, `dubbo/demo` → `dubbo/demoservice`).
 */
export function closeMatches(query: string, names: Iterable<string>, limit = 5): string[] {
  const q = query.toLowerCase();
  const max = Math.max(2, Math.floor(q.length / 5));
  const scored: Array<[number, string]> = [];
  for (const name of new Set(names)) {
    const n = name.toLowerCase();
    if (n === q) continue;
    const d = editDistance(q, n, max);
    if (d <= max) {
      scored.push([d, name]);
      continue;
    }
    const p = partsCost(parts(q), parts(n));
    if (p !== undefined) scored.push([max + 1 + p, name]);
  }
  scored.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return scored.slice(0, limit).map(([, n]) => n);
}

function parts(s: string): string[] {
  return s.split(/[./]/).filter((p) => p !== '');
}

/** The cheapest run of `name`'s parts matching `query`'s parts one by one; undefined if none. */
function partsCost(query: readonly string[], name: readonly string[]): number | undefined {
  if (query.length === 0 || query.length > name.length) return undefined;
  let best: number | undefined;
  for (let start = 0; start + query.length <= name.length; start++) {
    let total = 0;
    for (let i = 0; i < query.length && total !== Infinity; i++) total += partCost(query[i]!, name[start + i]!);
    if (total !== Infinity && (best === undefined || total < best)) best = total;
  }
  return best;
}

function partCost(q: string, n: string): number {
  if (q === n) return 0;
  if (n.startsWith(q)) return 1;
  const max = Math.max(1, Math.floor(q.length / 4));
  const d = editDistance(q, n, max);
  return d <= max ? d : Infinity;
}
