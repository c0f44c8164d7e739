/**
 * Route stage: one MetaProtocol RouteConfiguration for a service port, from the resolved MetaRouter
 * (every host in it already means a service host) and the DestinationRules that apply. Pure. Without
 * a MetaRouter with routes, the table holds one default route to the service.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { DestinationRuleModel, ProtocolModel, RouterModel } from '../model/host.js';
import type { DestinationRuleSpec, MetaRouteMatch } from '../model/resources.js';
import type { AttributeMatch, MetaProtocolRoute, MetaProtocolRouteConfiguration } from '../model/routes.js';
import { cmp } from '../model/diagnostics.js';
import { outboundCluster } from './clusters.js';

export interface RouteInput {
  /** Name of the RouteConfiguration. */
  readonly name: string;
  /** The service host the table is for. */
  readonly host: string;
  /** The port a destination without `port` goes to. */
  readonly defaultPort: number;
  readonly protocol: ProtocolModel;
  /** The MetaRouter that applies, resolved; undefined for the default route. */
  readonly router: RouterModel | undefined;
  /** The DestinationRules that apply, by host. */
  readonly destinationRules: Readonly<Record<string, DestinationRuleModel>>;
}

export interface RouteOutput {
  readonly config: MetaProtocolRouteConfiguration;
  /** Warnings about the router in this service's context (unroutable attributes, subsets…). */
  readonly diagnostics: Diagnostic[];
}

export function buildRouteConfiguration(input: RouteInput): RouteOutput {
  const diagnostics: Diagnostic[] = [];
  const router = input.router;
  if (!router || (router.spec.routes ?? []).length === 0) {
    return { config: { name: input.name, routes: [defaultRoute(input)] }, diagnostics };
  }
  const ref = router.ref;
  const ruleOf = (host: string) => (Object.hasOwn(input.destinationRules, host) ? input.destinationRules[host] : undefined);
  const resolve = (d: { host: string; subset?: string; port?: { number?: number } }) => ({
    host: d.host,
    port: d.port?.number || input.defaultPort,
    subset: d.subset || undefined,
  });
  const checkSubset = (host: string, subset: string | undefined, at: () => string) => {
    if (!subset) return;
    const dr = ruleOf(host);
    if (!dr?.spec.subsets?.some((s) => s.name === subset)) {
      diagnostics.push(diag('MM_ROUTER_UNKNOWN_SUBSET', ref, `${at()} names subset "${subset}" of ${host}, but ${dr ? `${dr.ref} does not define it` : 'no DestinationRule defines subsets for that host'}; requests routed there will fail with "cluster not found".`));
    }
  };

  const list = router.spec.routes ?? [];
  const routes: MetaProtocolRoute[] = [];
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    const rd = r.route ?? [];
    const clusters: { name: string; weight: number }[] = [];
    const hashPolicy: string[] = [];
    for (let j = 0; j < rd.length; j++) {
      const d = rd[j]!;
      const t = resolve(d.destination);
      checkSubset(t.host, t.subset, () => `spec.routes[${i}].route[${j}]`);
      clusters.push({ name: outboundCluster(t.port, t.subset, t.host), weight: d.weight ?? 0 });
      const key = hashKey(ruleOf(t.host), t.subset);
      if (key && !hashPolicy.includes(key)) hashPolicy.push(key);
    }
    const mirrors = [];
    if (r.mirror) {
      const m = resolve(r.mirror);
      checkSubset(m.host, m.subset, () => `spec.routes[${i}].mirror`);
      const pct = r.mirrorPercentage?.value && r.mirrorPercentage.value > 0 ? r.mirrorPercentage.value : 100;
      mirrors.push({ cluster: outboundCluster(m.port, m.subset, m.host), perMillion: Math.round(pct * 10000) });
    }
    const match = attributeMatches(r.match);
    if (!input.protocol.openAttributes) checkAttributes(match, input.protocol, ref, `spec.routes[${i}].match`, diagnostics);
    const requestMutation = (r.requestMutation ?? []).map(({ key, value }) => ({ key, value }));
    const responseMutation = (r.responseMutation ?? []).map(({ key, value }) => ({ key, value }));
    if (!input.protocol.mutations && requestMutation.length + responseMutation.length > 0) {
      diagnostics.push(diag('MM_ROUTER_MUTATION_IGNORED', ref, `spec.routes[${i}] sets mutations, but the ${input.protocol.name} codec (${input.protocol.codec}) does not apply them; they are sent but have no effect.`));
    }
    const name = r.name || `route-${i}`;
    routes.push(
      clusters.length === 1
        ? { name, match, hashPolicy, mirrors, requestMutation, responseMutation, cluster: clusters[0]!.name }
        : { name, match, hashPolicy, mirrors, requestMutation, responseMutation, weightedClusters: clusters },
    );
  }
  return { config: { name: input.name, routes }, diagnostics };
}

function defaultRoute(input: RouteInput): MetaProtocolRoute {
  const key = hashKey(Object.hasOwn(input.destinationRules, input.host) ? input.destinationRules[input.host] : undefined, undefined);
  return {
    name: 'default',
    match: [],
    cluster: outboundCluster(input.defaultPort, undefined, input.host),
    hashPolicy: key ? [key] : [],
    mirrors: [],
    requestMutation: [],
    responseMutation: [],
  };
}

/**
 * The metadata key of consistent-hash load balancing for a destination, read from the destination
 * host's DestinationRule. Aeraki re-purposes `consistentHash.httpHeaderName` to carry it. Like Istio
 * building the subset's cluster, a subset's own `trafficPolicy.loadBalancer` replaces the top-level
 * one whole (`simple: ROUND_ROBIN` there means no hash key); a subset without one inherits it.
 */
function hashKey(dr: { readonly spec: DestinationRuleSpec } | undefined, subset: string | undefined): string | undefined {
  if (!dr) return undefined;
  const sub = subset ? dr.spec.subsets?.find((s) => s.name === subset) : undefined;
  const loadBalancer = sub?.trafficPolicy?.loadBalancer ?? dr.spec.trafficPolicy?.loadBalancer;
  return loadBalancer?.consistentHash?.httpHeaderName || undefined;
}

/**
 * The matchers of a match, sorted by attribute name so that output never depends on map order.
 * An attribute written as `null` (or `~`) gives no matcher, as in Aeraki, where the JSON null
 * decodes to an empty StringMatch; a match made only of nulls matches every request. Presence is
 * `regex: "*"`.
 */
export function attributeMatches(m: MetaRouteMatch | undefined): AttributeMatch[] {
  const attrs = m?.attributes;
  const out: AttributeMatch[] = [];
  if (!attrs) return out;
  for (const name of Object.keys(attrs).sort(cmp)) {
    const sm = attrs[name];
    if (sm === null || sm === undefined) continue; // a null attribute gives no matcher, as in Aeraki
    if (sm.regex === '*') out.push({ name, present: true });
    else if (sm.exact !== undefined) out.push({ name, exact: sm.exact });
    else if (sm.prefix !== undefined) out.push({ name, prefix: sm.prefix });
    else out.push({ name, regex: sm.regex! });
  }
  return out;
}

export function checkAttributes(match: readonly AttributeMatch[], protocol: ProtocolModel, ref: string, at: string, out: Diagnostic[]): void {
  if (protocol.openAttributes) return;
  for (const m of match) {
    if (!protocol.attributes.includes(m.name)) {
      const exposed = protocol.attributes.length ? `only ${protocol.attributes.join(', ')}` : 'no attributes';
      out.push(diag('MM_ROUTER_UNROUTABLE_ATTRIBUTE', ref, `${at} uses attribute "${m.name}", but the ${protocol.name} codec exposes ${exposed}; this route can never match.`));
    }
  }
}
