/** Small helpers that turn data into words for the explain sentences. Pure. */

/** `a`, `a and b`, `a, b and c`. */
export function list(items: readonly string[], conjunction = 'and'): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

/** `k=v, k2=v2`, sorted by key; `{}` as "no labels". */
export function labels(l: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(l ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? 'no labels' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** `1 route`, `2 routes`. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** `first`, `second` … for small numbers; `#12` beyond. */
export function ordinal(i: number): string {
  const words = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth'];
  return words[i - 1] ?? `#${i}`;
}

/** `Kind ns/name` of an emitted object. */
export function objectRef(o: { readonly kind: string; readonly metadata: { readonly namespace: string; readonly name: string } }): string {
  return `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
}

/** Envoy's outbound cluster name `outbound|<port>|<subset>|<host>` in words. */
export function clusterWords(cluster: string): string {
  const m = /^outbound\|(\d+)\|([^|]*)\|(.+)$/.exec(cluster);
  if (!m) return cluster;
  const [, port, subset, host] = m;
  return subset ? `subset ${subset} of ${host}:${port}` : `${host}:${port}`;
}
