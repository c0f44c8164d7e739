/**
 * `metamesh explain <host | namespace/metarouter>`: the explain stage. Pure: a query and the
 * engine's PipelineState in, an Explanation out (src/model/explanation.ts). It decides nothing
 * itself; it reads what the pipeline decided and says it in sentences.
 *
 * How a query is read:
 * - `namespace/name` (it has a slash, which no host has) is a MetaRouter;
 * - anything else is a host: exactly as a service or MetaRouter names it (case-insensitive, a
 *   trailing dot ignored), else a short name that means exactly one MetaProtocol host
 *   (`name.namespace` or `name` for `name.namespace.svc.<domain>`);
 * - otherwise nothing is known by that name: the explanation lists the nearest names.
 */
import type { Explanation } from '../model/explanation.js';
import type { PipelineState } from '../model/pipeline-state.js';
import { closeMatches } from '../util/nearest.js';
import { explainHost } from './host.js';
import { knownHosts, metaHosts } from './lookup.js';
import { explainRouter } from './router.js';

export function explain(query: string, state: PipelineState): Explanation {
  const q = query.trim().toLowerCase().replace(/\.$/, '');
  if (q.includes('/')) {
    const r = state.routers.find((x) => `${x.namespace}/${x.name}`.toLowerCase() === q);
    if (r) return explainRouter(query, r, state);
    const names = state.routers.map((x) => `${x.namespace}/${x.name}`);
    return unknown(query, 'MetaRouter', closeMatches(q, names), names);
  }
  const hosts = knownHosts(state);
  if (hosts.includes(q)) return explainHost(query, q, state);
  const expanded = shortNameMatches(q, metaHosts(state), state.domain);
  if (expanded.length === 1) return explainHost(query, expanded[0]!, state, `The query "${query}" is read as the host ${expanded[0]}.`);
  if (expanded.length > 1) {
    return { ...unknown(query, 'host', expanded, []), summary: `The short name "${query}" could mean ${expanded.length} hosts: ${expanded.join(', ')}. Ask for one of them.` };
  }
  return unknown(query, 'host', closeMatches(q, [...hosts, ...state.routers.map((x) => `${x.namespace}/${x.name}`)]), metaHosts(state));
}

/** Hosts `<q>.svc.<domain>` or `<q>.<namespace>.svc.<domain>`: what a short name may mean. */
function shortNameMatches(q: string, hosts: readonly string[], domain: string): string[] {
  if (q === '') return [];
  const suffix = `.svc.${domain}`;
  return hosts.filter((h) => {
    if (!h.startsWith(`${q}.`) || !h.endsWith(suffix)) return false;
    const middle = h.slice(q.length + 1, h.length - suffix.length);
    return middle === '' || !middle.includes('.');
  });
}

/** Names listed when none is close, if there are at most this many. */
const LIST_ALL_UP_TO = 10;

function unknown(query: string, what: 'host' | 'MetaRouter', near: string[], all: readonly string[]): Explanation {
  const none = what === 'host' ? `No service or MetaRouter names the host "${query}"` : `No MetaRouter ${query} was read`;
  const known = what === 'host' ? 'MetaProtocol hosts' : 'MetaRouters';
  const hint =
    near.length > 0
      ? ` Close matches: ${near.join(', ')}.`
      : all.length === 0
        ? ` No ${known} were read at all.`
        : all.length <= LIST_ALL_UP_TO
          ? ` Nothing known comes close; the ${known} are ${all.join(', ')}.`
          : ` Nothing known comes close among the ${all.length} ${known}.`;
  return {
    query,
    subject: { kind: 'unknown' },
    inEffect: false,
    summary: `${none}, so nothing is configured for it.${hint}`,
    facts: [],
    diagnostics: [],
    routeConfigurations: [],
    closeMatches: near,
  };
}
