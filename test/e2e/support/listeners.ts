/**
 * Reading what istiod gave a proxy (the ADS client's JSON: protojson of Envoy's Cluster and
 * Listener messages), and the checks the istiod e2e tests make on it. Pure.
 */
import assert from 'node:assert/strict';

export const META_PROTOCOL_PROXY = 'envoy.filters.network.meta_protocol_proxy';
export const TCP_PROXY = 'envoy.filters.network.tcp_proxy';
const MPP_TYPE = 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy';

type Json = Record<string, unknown>;

export interface ProxyConfigDump {
  readonly node: string;
  readonly clusters: readonly Json[];
  readonly listeners: readonly Json[];
}

export interface FilterView {
  readonly name: string;
  /** The Any's type URL; for a TypedStruct, the type it stands for. */
  readonly type: string;
  /** The filter's configuration (a TypedStruct's value). */
  readonly config: Json;
}

export interface ChainView {
  readonly name: string;
  readonly destinationPort: number | undefined;
  readonly transportProtocol: string | undefined;
  readonly applicationProtocols: readonly string[];
  readonly filters: readonly FilterView[];
}

export function clusterNames(d: ProxyConfigDump): string[] {
  return d.clusters.map((c) => String(c.name)).sort();
}

export function listenerNames(d: ProxyConfigDump): string[] {
  return d.listeners.map((l) => String(l.name)).sort();
}

export function listener(d: ProxyConfigDump, name: string): Json {
  const l = d.listeners.find((x) => x.name === name);
  assert.ok(l, `${d.node} has no listener ${name} (it has ${listenerNames(d).join(', ')})`);
  return l;
}

/** The listener's filter chains (and its default chain, named "default"), with their network filters. */
export function chains(l: Json): ChainView[] {
  const all = [...((l.filterChains as Json[] | undefined) ?? [])];
  if (l.defaultFilterChain) all.push({ name: 'default', ...(l.defaultFilterChain as Json) });
  return all.map((c) => {
    const m = (c.filterChainMatch as Json | undefined) ?? {};
    return {
      name: String(c.name ?? ''),
      destinationPort: m.destinationPort === undefined ? undefined : Number(m.destinationPort),
      transportProtocol: m.transportProtocol as string | undefined,
      applicationProtocols: (m.applicationProtocols as string[] | undefined) ?? [],
      filters: ((c.filters as Json[] | undefined) ?? []).map(filterView),
    };
  });
}

function filterView(f: Json): FilterView {
  const tc = (f.typedConfig as Json | undefined) ?? {};
  const type = String(tc['@type'] ?? '');
  if (type.endsWith('.TypedStruct')) return { name: String(f.name), type: String(tc.typeUrl), config: (tc.value as Json | undefined) ?? {} };
  return { name: String(f.name), type, config: tc };
}

const filterNames = (c: ChainView) => c.filters.map((f) => f.name);

/** The MetaProtocol Proxy of every given chain: each must have it, and no tcp_proxy left. */
export function metaProtocolProxies(where: string, cs: readonly ChainView[]): Json[] {
  assert.ok(cs.length > 0, `${where}: no filter chain to check`);
  return cs.map((c) => {
    const names = filterNames(c);
    assert.ok(!names.includes(TCP_PROXY), `${where}: chain ${c.name || '(unnamed)'} still has tcp_proxy (filters: ${names.join(', ')})`);
    const mpp = c.filters.find((f) => f.name === META_PROTOCOL_PROXY);
    assert.ok(mpp, `${where}: chain ${c.name || '(unnamed)'} has no MetaProtocol Proxy (filters: ${names.join(', ')})`);
    assert.equal(mpp.type, MPP_TYPE, `${where}: the MetaProtocol Proxy's config type`);
    return mpp.config;
  });
}

/** Every given chain still has tcp_proxy and no MetaProtocol Proxy. */
export function assertTcpProxy(where: string, cs: readonly ChainView[]): void {
  assert.ok(cs.length > 0, `${where}: no filter chain to check`);
  for (const c of cs) {
    const names = filterNames(c);
    assert.ok(names.includes(TCP_PROXY), `${where}: chain ${c.name || '(unnamed)'} has no tcp_proxy (filters: ${names.join(', ')})`);
    assert.ok(!names.includes(META_PROTOCOL_PROXY), `${where}: chain ${c.name || '(unnamed)'} has the MetaProtocol Proxy`);
  }
}

/** The MetaProtocol Proxy fetches `routeConfigName` over RDS from the `cluster` xDS cluster. */
export function assertRdsVia(where: string, config: Json, routeConfigName: string, cluster: string): void {
  const rds = config.rds as Json | undefined;
  assert.ok(rds, `${where}: the MetaProtocol Proxy has no rds (keys: ${Object.keys(config).join(', ')})`);
  assert.equal(rds.routeConfigName, routeConfigName, `${where}: RDS route name`);
  const api = ((rds.configSource as Json | undefined)?.apiConfigSource as Json | undefined) ?? {};
  assert.equal(api.apiType, 'GRPC', `${where}: RDS over gRPC`);
  const grpc = (api.grpcServices as Json[] | undefined) ?? [];
  assert.deepEqual(grpc.map((g) => (g.envoyGrpc as Json | undefined)?.clusterName), [cluster], `${where}: RDS via the ${cluster} cluster`);
}

/** The chains of istiod's inbound listener (virtualInbound) for one port. */
export function inboundChains(d: ProxyConfigDump, port: number): ChainView[] {
  return chains(listener(d, 'virtualInbound')).filter((c) => c.destinationPort === port);
}
