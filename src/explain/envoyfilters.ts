/**
 * An EnvoyFilter metamesh generates, in one sentence: which proxies it patches (context, listener
 * or port, workload selector, namespace scope) and what it gives them. Pure; reads the object as
 * emitted (src/envoyfilter/build.ts), so the sentence says what will be applied.
 */
import { ROLE_LABEL, type OutputObject } from '../model/output.js';
import { FILTERS } from '../envoyfilter/proxy.js';
import { labels, list, objectRef } from './words.js';

type Json = { readonly [k: string]: unknown };
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);

export function envoyFilterSentence(ef: OutputObject, rootNamespace: string): string {
  const role = ef.metadata.labels?.[ROLE_LABEL] ?? 'unknown';
  const ns = ef.metadata.namespace;
  const selector = obj(ef.spec.workloadSelector).labels as Record<string, string> | undefined;
  const patches = arr(ef.spec.configPatches);
  const listeners = patches.map((p) => obj(obj(p.match).listener));
  const proxy = obj(obj(obj(obj(patches[0]?.patch).value).typed_config).value);
  const protocol = typeof proxy.applicationProtocol === 'string' ? ` (${proxy.applicationProtocol})` : '';
  const rds = obj(proxy.rds).routeConfigName;
  const who = (kind: string) => {
    const scope = ns === rootNamespace ? `in every namespace (it lives in the root namespace ${ns})` : `in namespace ${ns}`;
    return selector && Object.keys(selector).length > 0 ? `the ${kind} labelled ${labels(selector)} ${scope}` : `every ${kind.replace(/s$/, '')} ${scope}`;
  };
  const ref = `${objectRef(ef)} (${role})`;
  switch (role) {
    case 'outbound':
      return `${ref} puts the MetaProtocol Proxy${protocol} on listener ${list(listeners.map((l) => String(l.name)))} of ${who('sidecars')}; they fetch route table ${String(rds)} from metamesh.`;
    case 'inbound': {
      const ports = listeners.map((l) => String(obj(l.filterChain).destinationPort));
      const limits = rateLimits(proxy);
      return `${ref} puts the MetaProtocol Proxy${protocol} on inbound port ${list(ports)} of ${who('workloads')}${limits ? `, enforcing ${limits}` : ''}.`;
    }
    case 'gateway':
      return `${ref} puts the MetaProtocol Proxy${protocol} on listener ${list(listeners.map((l) => String(l.name)))} of ${who('gateway workloads')}; they fetch route table ${String(rds)} from metamesh.`;
    case 'xds-cluster':
      return `${ref} gives ${who('proxies')} the cluster through which they fetch their routes from metamesh.`;
    default:
      return `${ref} patches ${who('proxies')}.`;
  }
}

function rateLimits(proxy: Json): string {
  const names = arr(proxy.metaProtocolFilters).map((f) => f.name);
  const out: string[] = [];
  if (names.includes(FILTERS.localRateLimit)) out.push('the local rate limit');
  if (names.includes(FILTERS.globalRateLimit)) out.push('the global rate limit');
  return list(out);
}
