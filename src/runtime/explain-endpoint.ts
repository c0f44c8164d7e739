/**
 * `GET /debug/explain?q=<host | namespace/metarouter>` of `metamesh serve`: the explanation
 * `metamesh explain` prints, computed from the live engine, plus the proxies subscribed to the
 * route tables involved (from the xDS server's stream state) and whether they ACKed or NACKed the
 * version served now. A debug endpoint: the same token and loopback rules as /debug/xds.
 */
import { explain } from '../explain/explain.js';
import { withProxies } from '../explain/proxies.js';
import type { Engine } from '../pipeline/engine.js';
import type { StreamInfo } from '../xds/session.js';
import type { SyncEndpoint } from './http.js';

/** Longer queries are refused: no host or namespace/name is this long. */
export const MAX_QUERY_LENGTH = 512;

export interface ExplainSources {
  readonly engine: Pick<Engine, 'state'>;
  readonly xds: { streams(): StreamInfo[] };
  readonly cache: { get(name: string): { readonly version: string } | undefined };
}

export function explainEndpoint(s: ExplainSources): SyncEndpoint {
  return {
    debug: true,
    handle: (query) => {
      const q = query.get('q');
      if (q === null || q.trim() === '') return { status: 400, text: 'name what to explain: /debug/explain?q=<host or namespace/metarouter>' };
      if (q.length > MAX_QUERY_LENGTH) return { status: 400, text: `q is longer than ${MAX_QUERY_LENGTH} characters` };
      return { status: 200, json: withProxies(explain(q, s.engine.state()), s.xds.streams(), (name) => s.cache.get(name)?.version) };
    },
  };
}
