/**
 * EnvoyFilter stage: the patches that install the MetaProtocol Proxy. Pure.
 *
 * Safety rules (Aeraki's users saw plain sidecars reject their listeners when a MetaProtocol Proxy
 * patch reached them mesh-wide):
 *  - every patch names its context (SIDECAR_OUTBOUND, SIDECAR_INBOUND, GATEWAY);
 *  - sidecar patches carry `options.proxySelector` so sidecars without the filter never get them;
 *  - an inbound patch exists only with a real workload selector, never `{app: ""}`;
 *  - inbound patches match the workload (target) port and live in the service's namespace.
 */
import type { Options } from '../model/options.js';
import type { GlobalRateLimit, LocalRateLimit } from '../model/resources.js';
import type { HostPortModel } from '../model/host.js';
import { MANAGED_BY, MANAGED_BY_LABEL, ROLE_LABEL, SOURCE_ANNOTATION, type OutputObject } from '../model/output.js';
import { inboundCluster, outboundCluster } from '../route/clusters.js';
import type { JsonObject } from '../route/wire.js';
import { objectName } from './names.js';
import { inboundProxy, networkFilter, outboundProxy } from './proxy.js';
import { xdsCluster } from './xds-cluster.js';

const ISTIO_NETWORKING = 'networking.istio.io/v1alpha3';
const TCP_PROXY = 'envoy.filters.network.tcp_proxy';

function envoyFilter(name: string, namespace: string, role: string, sources: string[], spec: JsonObject): OutputObject {
  return {
    apiVersion: ISTIO_NETWORKING,
    kind: 'EnvoyFilter',
    metadata: {
      name,
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [ROLE_LABEL]: role },
      annotations: { [SOURCE_ANNOTATION]: sources.join(', ') },
    },
    spec,
  };
}

function selectorSpec(labels: Record<string, string>): JsonObject {
  return Object.keys(labels).length > 0 ? { workloadSelector: { labels: sortedLabels(labels) } } : {};
}

function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function replaceTcpProxy(context: string, listener: JsonObject, proxy: JsonObject): JsonObject {
  return {
    applyTo: 'NETWORK_FILTER',
    match: { context, listener: { ...listener, filterChain: { ...(listener.filterChain as JsonObject | undefined), filter: { name: TCP_PROXY } } } },
    patch: { operation: 'REPLACE', value: networkFilter(proxy) },
  };
}

export interface OutboundInput {
  /** The owning service's addresses: one patch each. */
  addresses: readonly string[];
  host: string;
  port: HostPortModel;
  routeConfigName: string;
  /** Namespaces to write the patch to: the root namespace, or the MetaRouter's exportTo. */
  namespaces: readonly string[];
  sources: string[];
  options: Options;
}

/** One EnvoyFilter per namespace with one patch per service address. */
export function outboundEnvoyFilters(i: OutboundInput): OutputObject[] {
  if (i.addresses.length === 0) return [];
  const proxy = outboundProxy(
    {
      statPrefix: outboundCluster(i.port.number, undefined, i.host),
      protocol: i.port.protocol.name,
      codec: i.port.protocol.codec,
      host: i.host,
      options: i.options,
    },
    i.routeConfigName,
  );
  const spec: JsonObject = {
    ...selectorSpec(i.options.proxySelector),
    configPatches: [...i.addresses]
      .sort()
      .map((addr) => replaceTcpProxy('SIDECAR_OUTBOUND', { name: `${addr}_${i.port.number}` }, proxy)),
  };
  const name = objectName('metamesh-outbound', i.host, i.port.number);
  return i.namespaces.map((ns) => envoyFilter(name, ns, 'outbound', i.sources, spec));
}

export interface InboundInput {
  /** The owning service's namespace: a workloadSelector only selects workloads of its own namespace. */
  namespace: string;
  host: string;
  port: HostPortModel;
  targetPort: number;
  /** The service's selector merged with the proxy selector (caller checked it is non-empty). */
  selector: Record<string, string>;
  localRateLimit: LocalRateLimit | undefined;
  globalRateLimit: GlobalRateLimit | undefined;
  sources: string[];
  options: Options;
}

export function inboundEnvoyFilter(i: InboundInput): OutputObject {
  const targetPort = i.targetPort;
  const cluster = inboundCluster(targetPort);
  const proxy = inboundProxy(
    { statPrefix: cluster, protocol: i.port.protocol.name, codec: i.port.protocol.codec, host: i.host, options: i.options },
    cluster,
    { local: i.localRateLimit, global: i.globalRateLimit },
  );
  return envoyFilter(objectName('metamesh-inbound', i.host, i.port.number), i.namespace, 'inbound', i.sources, {
    workloadSelector: { labels: sortedLabels(i.selector) },
    configPatches: [
      replaceTcpProxy('SIDECAR_INBOUND', { name: 'virtualInbound', filterChain: { destinationPort: targetPort } }, proxy),
    ],
  });
}

/** Gives the selected sidecars a cluster through which they reach metamesh's xDS server. */
export function xdsClusterEnvoyFilter(options: Options): OutputObject {
  return envoyFilter(objectName('metamesh-xds-cluster'), options.rootNamespace, 'xds-cluster', ['MetameshOptions'], {
    ...selectorSpec(options.proxySelector),
    configPatches: [xdsClusterPatch('SIDECAR_OUTBOUND', options)],
  });
}

export function xdsClusterPatch(context: string, options: Options): JsonObject {
  return { applyTo: 'CLUSTER', match: { context }, patch: { operation: 'ADD', value: xdsCluster(options) } };
}

export interface GatewayInput {
  gatewayNamespace: string;
  gatewayName: string;
  selector: Record<string, string>;
  gatewayPort: number;
  protocol: string;
  codec: string;
  host: string;
  routeConfigName: string;
  sources: string[];
  options: Options;
}

export function gatewayEnvoyFilter(i: GatewayInput): OutputObject {
  const proxy = outboundProxy(
    {
      statPrefix: outboundCluster(i.gatewayPort, undefined, i.host),
      protocol: i.protocol,
      codec: i.codec,
      host: i.host,
      options: i.options,
    },
    i.routeConfigName,
  );
  return envoyFilter(
    objectName('metamesh-gateway', `${i.gatewayNamespace}.${i.gatewayName}`, i.gatewayPort),
    i.gatewayNamespace,
    'gateway',
    i.sources,
    {
      ...selectorSpec(i.selector),
      configPatches: [replaceTcpProxy('GATEWAY', { name: `0.0.0.0_${i.gatewayPort}` }, proxy)],
    },
  );
}

/** The xDS cluster for one gateway workload: once per gateway, however many ports it serves. */
export function gatewayXdsClusterEnvoyFilter(gatewayNamespace: string, gatewayName: string, selector: Record<string, string>, options: Options): OutputObject {
  return envoyFilter(objectName('metamesh-xds-cluster', `${gatewayNamespace}.${gatewayName}`), gatewayNamespace, 'xds-cluster', [`Gateway ${gatewayNamespace}/${gatewayName}`], {
    ...selectorSpec(selector),
    configPatches: [xdsClusterPatch('GATEWAY', options)],
  });
}

/**
 * Istio opens a gateway's TCP listener only when a VirtualService routes TCP through it; this is
 * that VirtualService, sending the port to the service (the MetaProtocol Proxy then replaces it).
 */
export function gatewayVirtualService(i: GatewayInput, servicePort: number): OutputObject {
  return {
    apiVersion: ISTIO_NETWORKING,
    kind: 'VirtualService',
    metadata: {
      name: objectName('metamesh-gateway', `${i.gatewayNamespace}.${i.gatewayName}`, i.gatewayPort),
      namespace: i.gatewayNamespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [ROLE_LABEL]: 'gateway-listener' },
      annotations: { [SOURCE_ANNOTATION]: i.sources.join(', ') },
    },
    spec: {
      hosts: [i.host],
      gateways: [`${i.gatewayNamespace}/${i.gatewayName}`],
      tcp: [{ match: [{ port: i.gatewayPort }], route: [{ destination: { host: i.host, port: { number: servicePort } } }] }],
    },
  };
}
