/**
 * The RDS wire form: MetaProtocol routes tunnelled in an Envoy
 * `envoy.config.route.v3.RouteConfiguration`, as proto3 JSON. The data plane reads only
 * `virtual_hosts[0].routes`; the virtual host name/domains and the `/` prefix exist only to satisfy
 * Envoy's validation. Header matchers use the fields Aeraki emits, which every MetaProtocol Proxy
 * release accepts.
 */
import type { AttributeMatch, MetaProtocolRoute, MetaProtocolRouteConfiguration } from '../model/routes.js';

export const ROUTE_CONFIGURATION_TYPE_URL = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';

export type JsonObject = { [k: string]: unknown };

export function toWire(config: MetaProtocolRouteConfiguration): JsonObject {
  return {
    '@type': ROUTE_CONFIGURATION_TYPE_URL,
    name: config.name,
    virtualHosts: [{ name: 'dummy', domains: ['*'], routes: config.routes.map(wireRoute) }],
  };
}

export function headerMatcher(m: AttributeMatch): JsonObject {
  if (m.exact !== undefined) return { name: m.name, exactMatch: m.exact };
  if (m.prefix !== undefined) return { name: m.name, prefixMatch: m.prefix };
  if (m.regex !== undefined) return { name: m.name, safeRegexMatch: { googleRe2: {}, regex: m.regex } };
  return { name: m.name, presentMatch: true };
}

function wireRoute(r: MetaProtocolRoute): JsonObject {
  const match: JsonObject = { prefix: '/' };
  if (r.match.length > 0) match.headers = r.match.map(headerMatcher);
  const action: JsonObject = {};
  if (r.cluster !== undefined) {
    action.cluster = r.cluster;
  } else {
    const clusters = r.weightedClusters ?? [];
    action.weightedClusters = {
      clusters: clusters.map((c) => ({ name: c.name, weight: c.weight })),
      // Ignored by the data plane, but older Envoy validation requires it to equal the sum.
      totalWeight: clusters.reduce((s, c) => s + c.weight, 0),
    };
  }
  if (r.hashPolicy.length > 0) action.hashPolicy = r.hashPolicy.map((h) => ({ header: { headerName: h } }));
  if (r.mirrors.length > 0) {
    action.requestMirrorPolicies = r.mirrors.map((m) => ({
      cluster: m.cluster,
      runtimeFraction: { defaultValue: { numerator: m.perMillion, denominator: 'MILLION' } },
    }));
  }
  const out: JsonObject = { name: r.name, match, route: action };
  if (r.requestMutation.length > 0) out.requestHeadersToAdd = r.requestMutation.map((kv) => ({ header: { key: kv.key, value: kv.value } }));
  if (r.responseMutation.length > 0) out.responseHeadersToAdd = r.responseMutation.map((kv) => ({ header: { key: kv.key, value: kv.value } }));
  return out;
}
