/**
 * The MetaProtocol data plane's conversion of the HTTP RouteConfiguration it receives over RDS into
 * its own route table, on proto3 JSON (lowerCamelCase keys), so tests can check that what metamesh
 * serves means what it should once the proxy has converted it.
 *
 * What the data plane does: it reads only the routes of the first virtual host (`virtualHosts[0]`);
 * per route it keeps the name, turns `match.headers` into `match.metadata` (the RouteMatch path
 * specifier is dropped), keeps `cluster` or `weightedClusters`, turns each hash policy into its
 * header name (`hashPolicy` becomes a list of strings), keeps each mirror's cluster and runtime
 * fraction default value (runtime keys are dropped), and turns `requestHeadersToAdd` /
 * `responseHeadersToAdd` into `requestMutation` / `responseMutation` key-value pairs. Virtual host
 * names and domains are dropped. A route without a route action is rejected.
 */
import type { JsonObject, JsonValue } from './proto-decode.js';

interface HttpRouteConfigurationJson {
  name?: string;
  virtualHosts?: { routes?: HttpRouteJson[] }[];
}
interface HeaderValueOptionJson {
  header?: { key?: string; value?: string };
}
interface HttpRouteJson {
  name?: string;
  match?: { headers?: JsonValue[] };
  route?: {
    cluster?: string;
    weightedClusters?: JsonObject;
    hashPolicy?: { header?: { headerName?: string } }[];
    requestMirrorPolicies?: {
      cluster?: string;
      runtimeFraction?: { defaultValue?: { numerator?: number; denominator?: string | number } };
    }[];
  };
  requestHeadersToAdd?: HeaderValueOptionJson[];
  responseHeadersToAdd?: HeaderValueOptionJson[];
}

/** Converts an HTTP RouteConfiguration (proto3 JSON) as the data plane does; throws where it would reject. */
export function metaProtocolFromHttpRoute(json: object): JsonObject {
  const config = json as HttpRouteConfigurationJson;
  const out: JsonObject = {};
  if (config.name) out.name = config.name;
  const routes = config.virtualHosts?.[0]?.routes ?? [];
  if (routes.length > 0) out.routes = routes.map((route, i) => convertHttpRoute(route, i));
  return out;
}

function convertHttpRoute(route: HttpRouteJson, index: number): JsonObject {
  const out: JsonObject = {};
  if (route.name) out.name = route.name;
  if (route.match !== undefined) {
    const headers = route.match.headers ?? [];
    out.match = headers.length > 0 ? { metadata: structuredClone(headers) } : {};
  }
  const action = route.route;
  if (action === undefined) {
    throw new Error(`virtualHosts[0].routes[${index}]: the data plane requires a route action`);
  }
  const outAction: JsonObject = {};
  if (action.cluster !== undefined) outAction.cluster = action.cluster;
  else if (action.weightedClusters !== undefined) outAction.weightedClusters = structuredClone(action.weightedClusters);
  const hashKeys = (action.hashPolicy ?? []).map((policy) => policy.header?.headerName ?? '');
  if (hashKeys.length > 0) outAction.hashPolicy = hashKeys;
  const mirrors = (action.requestMirrorPolicies ?? []).map((policy) => {
    const mirror: JsonObject = {};
    if (policy.cluster) mirror.cluster = policy.cluster;
    const dflt = policy.runtimeFraction?.defaultValue;
    if (dflt !== undefined) {
      const value: JsonObject = {};
      if (dflt.numerator !== undefined) value.numerator = dflt.numerator;
      if (dflt.denominator !== undefined) value.denominator = dflt.denominator;
      mirror.runtimeFraction = { defaultValue: value };
    }
    return mirror;
  });
  if (mirrors.length > 0) outAction.requestMirrorPolicies = mirrors;
  out.route = outAction;
  const requestMutation = (route.requestHeadersToAdd ?? []).map(toKeyValue);
  if (requestMutation.length > 0) out.requestMutation = requestMutation;
  const responseMutation = (route.responseHeadersToAdd ?? []).map(toKeyValue);
  if (responseMutation.length > 0) out.responseMutation = responseMutation;
  return out;
}

function toKeyValue(option: HeaderValueOptionJson): JsonObject {
  const kv: JsonObject = {};
  if (option.header?.key) kv.key = option.header.key;
  if (option.header?.value) kv.value = option.header.value;
  return kv;
}
