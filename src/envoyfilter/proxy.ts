/**
 * The MetaProtocolProxy network-filter config (`aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy`
 * with its filters, access log and tracing) as proto3 JSON, placed in a TypedStruct because
 * istiod cannot resolve the MetaProtocol types. Field names are lowerCamelCase;
 * nested Anys carry `@type`. Only the fields every released data plane knows are set (the newer
 * `protocol` field is not), since an unknown field makes Envoy reject the whole listener.
 */
import type { GlobalRateLimit, LocalRateLimit, MetaRouteMatch, TokenBucket } from '../model/resources.js';
import type { Options } from '../model/options.js';
import { attributeMatches } from '../route/build.js';
import { headerMatcher, type JsonObject } from '../route/wire.js';
import { parseDuration, toProtoDuration } from '../util/duration.js';

export const NETWORK_FILTER_NAME = 'envoy.filters.network.meta_protocol_proxy';
export const MPP_TYPE_URL = 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy';
export const TYPED_STRUCT_TYPE_URL = 'type.googleapis.com/udpa.type.v1.TypedStruct';

const F = 'aeraki.meta_protocol.filters';
const T = 'type.googleapis.com/aeraki.meta_protocol_proxy.filters';
export const FILTERS = {
  router: `${F}.router`,
  localRateLimit: `${F}.local_ratelimit`,
  globalRateLimit: `${F}.ratelimit`,
  istioStats: `${F}.istio_stats`,
  metadataExchange: `${F}.metadata_exchange`,
} as const;

export interface ProxyCommon {
  statPrefix: string;
  protocol: string;
  codec: string;
  /** The service host: the istio_stats filter's destination_service. */
  host: string;
  options: Options;
}

export function networkFilter(proxy: JsonObject): JsonObject {
  return {
    name: NETWORK_FILTER_NAME,
    typed_config: { '@type': TYPED_STRUCT_TYPE_URL, type_url: MPP_TYPE_URL, value: proxy },
  };
}

/** Outbound (sidecar or gateway): routes come from metamesh over RDS. */
export function outboundProxy(c: ProxyCommon, routeConfigName: string): JsonObject {
  return withObservability(
    {
      statPrefix: c.statPrefix,
      applicationProtocol: c.protocol,
      codec: { name: c.codec },
      rds: {
        configSource: {
          apiConfigSource: {
            apiType: 'GRPC',
            transportApiVersion: 'V3',
            grpcServices: [{ envoyGrpc: { clusterName: c.options.xds.clusterName } }],
          },
          resourceApiVersion: 'V3',
        },
        routeConfigName,
      },
      metaProtocolFilters: [...standardFilters(c.host)],
    },
    c.options,
  );
}

/**
 * Inbound: one static route to the local workload; rate limits are enforced here, server-side,
 * before metadata exchange and stats, as in Aeraki.
 */
export function inboundProxy(
  c: ProxyCommon,
  cluster: string,
  limits: { local?: LocalRateLimit | undefined; global?: GlobalRateLimit | undefined },
): JsonObject {
  const filters: JsonObject[] = [];
  if (limits.local) filters.push(localRateLimitFilter(limits.local, c.host));
  if (limits.global) filters.push(globalRateLimitFilter(limits.global));
  filters.push(...standardFilters(c.host));
  return withObservability(
    {
      statPrefix: c.statPrefix,
      applicationProtocol: c.protocol,
      codec: { name: c.codec },
      routeConfig: { name: cluster, routes: [{ name: 'inbound', route: { cluster } }] },
      metaProtocolFilters: filters,
    },
    c.options,
  );
}

function standardFilters(host: string): JsonObject[] {
  return [
    { name: FILTERS.metadataExchange },
    { name: FILTERS.istioStats, config: { '@type': `${T}.istio_stats.v1alpha.IstioStats`, destinationService: host } },
    { name: FILTERS.router },
  ];
}

function metadataMatch(m: MetaRouteMatch | undefined): JsonObject {
  return { metadata: attributeMatches(m).map(headerMatcher) };
}

function tokenBucket(b: TokenBucket): JsonObject {
  const out: JsonObject = { maxTokens: b.maxTokens ?? 0 };
  if (b.tokensPerFill) out.tokensPerFill = b.tokensPerFill;
  out.fillInterval = toProtoDuration(parseDuration(b.fillInterval ?? '') ?? 0);
  return out;
}

/** Precondition: the MetaRouter passed validation (buckets complete, durations parse). */
export function localRateLimitFilter(l: LocalRateLimit, host: string): JsonObject {
  const config: JsonObject = { '@type': `${T}.local_ratelimit.v1alpha.LocalRateLimit`, statPrefix: host };
  if (l.tokenBucket) config.tokenBucket = tokenBucket(l.tokenBucket);
  const conditions = (l.conditions ?? []).filter((c) => c.tokenBucket);
  if (conditions.length > 0) {
    config.conditions = conditions.map((c) => ({ match: metadataMatch(c.match), tokenBucket: tokenBucket(c.tokenBucket!) }));
  }
  return { name: FILTERS.localRateLimit, config };
}

/** Precondition: validated (domain, service, descriptors and a non-empty match present). */
export function globalRateLimitFilter(g: GlobalRateLimit): JsonObject {
  const config: JsonObject = {
    '@type': `${T}.ratelimit.v1alpha.RateLimit`,
    match: metadataMatch(g.match),
    domain: g.domain ?? '',
  };
  // Without requestTimeout the field is left out and the data plane's default applies (Aeraki's
  // generator dereferenced the missing value and crashed).
  const timeout = g.requestTimeout !== undefined ? parseDuration(g.requestTimeout) : undefined;
  if (timeout !== undefined) config.timeout = toProtoDuration(timeout);
  if (g.denyOnFail) config.failureModeDeny = true;
  config.rateLimitService = {
    grpcService: { envoyGrpc: { clusterName: g.rateLimitService ?? '' } },
    transportApiVersion: 'V3',
  };
  config.descriptors = (g.descriptors ?? []).map((d) => ({ property: d.property ?? '', descriptorKey: d.descriptorKey ?? '' }));
  return { name: FILTERS.globalRateLimit, config };
}

/**
 * Aeraki's default text format, byte for byte: note the two spaces after `%DURATION%`. Log parsers
 * written for Aeraki's lines keep working.
 */
const DEFAULT_TEXT_FORMAT =
  '[%START_TIME%] %REQ(X-META-PROTOCOL-APPLICATION-PROTOCOL)% %RESPONSE_CODE% %RESPONSE_CODE_DETAILS% ' +
  '%CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% ' +
  '%DURATION%  "%REQ(X-FORWARDED-FOR)%" "%REQ(X-REQUEST-ID)%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% ' +
  '%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %ROUTE_NAME%\n';

const DEFAULT_JSON_FORMAT: Record<string, string> = {
  start_time: '%START_TIME%',
  route_name: '%ROUTE_NAME%',
  application_protocol: '%REQ(X-META-PROTOCOL-APPLICATION-PROTOCOL)%',
  response_code: '%RESPONSE_CODE%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  request_id: '%REQ(X-REQUEST-ID)%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  upstream_local_address: '%UPSTREAM_LOCAL_ADDRESS%',
  downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
};

/** Access log and tracing follow the mesh options (Istio's `accessLogFile`, `enableTracing`). */
function withObservability(proxy: JsonObject, options: Options): JsonObject {
  const mesh = options.mesh;
  if (mesh.accessLogFile !== '') {
    const logFormat =
      mesh.accessLogEncoding === 'JSON'
        ? { jsonFormat: mesh.accessLogFormat ? (JSON.parse(mesh.accessLogFormat) as JsonObject) : DEFAULT_JSON_FORMAT }
        : { textFormatSource: { inlineString: mesh.accessLogFormat || DEFAULT_TEXT_FORMAT } };
    proxy.accessLog = [
      {
        name: 'envoy.access_loggers.file',
        typedConfig: {
          '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
          path: mesh.accessLogFile,
          logFormat,
        },
      },
    ];
  }
  if (mesh.enableTracing) {
    proxy.tracing = {
      clientSampling: { value: 100 },
      randomSampling: { value: mesh.tracingSampling },
      overallSampling: { value: 100 },
    };
  }
  return proxy;
}
