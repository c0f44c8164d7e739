import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { METAMESH_PROTO_FILES, loadProtoRoot } from '../../src/proto/registry.js';
import { ProtoJsonError, createWire, encodeRouteConfiguration } from '../../src/proto/wire.js';
import { ROUTE_CONFIGURATION_TYPE_URL } from '../../src/route/wire.js';
import { META_PROTOCOL_ROUTE_CONFIGURATION_TYPE, decodeJson, decodeMetaProtocolRouteConfiguration, decodeRouteConfiguration, type JsonObject } from '../support/proto-decode.js';
import { metaProtocolFromHttpRoute } from '../support/meta-protocol-route.js';

// The MetaProtocol Proxy API messages as Aeraki's meta-protocol-proxy defines them (commit
// 19c1288b, meta-protocol-control-plane-api v1.4.1): [number, proto name, type, label, oneof].
type FieldRow = readonly [number, string, string, 'optional' | 'repeated', string?];
const MESSAGE_TABLES: Record<string, readonly FieldRow[]> = {
  'aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy': [
    [1, 'stat_prefix', 'string', 'optional'],
    [2, 'application_protocol', 'string', 'optional'],
    [3, 'rds', 'aeraki.meta_protocol_proxy.v1alpha.Rds', 'optional', 'route_specifier'],
    [4, 'route_config', 'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration', 'optional', 'route_specifier'],
    [5, 'codec', 'aeraki.meta_protocol_proxy.v1alpha.Codec', 'optional'],
    [6, 'meta_protocol_filters', 'aeraki.meta_protocol_proxy.v1alpha.MetaProtocolFilter', 'repeated'],
    [7, 'tracing', 'aeraki.meta_protocol_proxy.v1alpha.Tracing', 'optional'],
    [8, 'access_log', 'envoy.config.accesslog.v3.AccessLog', 'repeated'],
    [11, 'idle_timeout', 'google.protobuf.Duration', 'optional'],
    [12, 'protocol', 'aeraki.meta_protocol_proxy.v1alpha.ApplicationProtocol', 'optional'],
  ],
  'aeraki.meta_protocol_proxy.v1alpha.Rds': [
    [1, 'config_source', 'envoy.config.core.v3.ConfigSource', 'optional'],
    [2, 'route_config_name', 'string', 'optional'],
  ],
  'aeraki.meta_protocol_proxy.v1alpha.MetaProtocolFilter': [
    [1, 'name', 'string', 'optional'],
    [2, 'config', 'google.protobuf.Any', 'optional'],
  ],
  'aeraki.meta_protocol_proxy.v1alpha.Codec': [
    [1, 'name', 'string', 'optional'],
    [2, 'config', 'google.protobuf.Any', 'optional'],
  ],
  'aeraki.meta_protocol_proxy.v1alpha.ApplicationProtocol': [
    [1, 'name', 'string', 'optional'],
    [2, 'codec', 'aeraki.meta_protocol_proxy.v1alpha.Codec', 'optional'],
    [3, 'multiplexing', 'bool', 'optional'],
  ],
  'aeraki.meta_protocol_proxy.v1alpha.Tracing': [
    [3, 'client_sampling', 'envoy.type.v3.Percent', 'optional'],
    [4, 'random_sampling', 'envoy.type.v3.Percent', 'optional'],
    [5, 'overall_sampling', 'envoy.type.v3.Percent', 'optional'],
    [6, 'verbose', 'bool', 'optional'],
    [7, 'max_tag_length', 'google.protobuf.UInt32Value', 'optional'],
    [9, 'provider', 'envoy.config.trace.v3.Tracing.Http', 'optional'],
  ],
  'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration': [
    [1, 'name', 'string', 'optional'],
    [2, 'routes', 'aeraki.meta_protocol_proxy.config.route.v1alpha.Route', 'repeated'],
  ],
  'aeraki.meta_protocol_proxy.config.route.v1alpha.Route': [
    [1, 'name', 'string', 'optional'],
    [2, 'match', 'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteMatch', 'optional'],
    [3, 'route', 'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteAction', 'optional'],
    [19, 'request_mutation', 'aeraki.meta_protocol_proxy.config.route.v1alpha.KeyValue', 'repeated'],
    [20, 'response_mutation', 'aeraki.meta_protocol_proxy.config.route.v1alpha.KeyValue', 'repeated'],
  ],
  'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteMatch': [
    [1, 'metadata', 'envoy.config.route.v3.HeaderMatcher', 'repeated'],
  ],
  'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteAction': [
    [1, 'cluster', 'string', 'optional', 'cluster_specifier'],
    [2, 'weighted_clusters', 'envoy.config.route.v3.WeightedCluster', 'optional', 'cluster_specifier'],
    [10, 'hash_policy', 'string', 'repeated'],
    [11, 'request_mirror_policies', 'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteAction.RequestMirrorPolicy', 'repeated'],
  ],
  'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteAction.RequestMirrorPolicy': [
    [1, 'cluster', 'string', 'optional'],
    [2, 'runtime_fraction', 'envoy.config.core.v3.RuntimeFractionalPercent', 'optional'],
  ],
  'aeraki.meta_protocol_proxy.config.route.v1alpha.KeyValue': [
    [1, 'key', 'string', 'optional'],
    [2, 'value', 'string', 'optional'],
  ],
  'aeraki.meta_protocol_proxy.filters.router.v1alpha.Router': [],
  'aeraki.meta_protocol_proxy.filters.local_ratelimit.v1alpha.LocalRateLimit': [
    [1, 'stat_prefix', 'string', 'optional'],
    [2, 'token_bucket', 'envoy.type.v3.TokenBucket', 'optional'],
    [3, 'conditions', 'aeraki.meta_protocol_proxy.filters.local_ratelimit.v1alpha.LocalRateLimitCondition', 'repeated'],
  ],
  'aeraki.meta_protocol_proxy.filters.local_ratelimit.v1alpha.LocalRateLimitCondition': [
    [1, 'match', 'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteMatch', 'optional'],
    [2, 'token_bucket', 'envoy.type.v3.TokenBucket', 'optional'],
  ],
  'aeraki.meta_protocol_proxy.filters.ratelimit.v1alpha.RateLimit': [
    [1, 'match', 'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteMatch', 'optional'],
    [2, 'domain', 'string', 'optional'],
    [3, 'timeout', 'google.protobuf.Duration', 'optional'],
    [4, 'failure_mode_deny', 'bool', 'optional'],
    [5, 'rate_limit_service', 'envoy.config.ratelimit.v3.RateLimitServiceConfig', 'optional'],
    [6, 'descriptors', 'aeraki.meta_protocol_proxy.filters.ratelimit.v1alpha.Descriptor', 'repeated'],
  ],
  'aeraki.meta_protocol_proxy.filters.ratelimit.v1alpha.Descriptor': [
    [1, 'property', 'string', 'optional'],
    [2, 'descriptor_key', 'string', 'optional'],
  ],
  'aeraki.meta_protocol_proxy.filters.istio_stats.v1alpha.IstioStats': [[1, 'destination_service', 'string', 'optional']],
  'aeraki.meta_protocol_proxy.filters.metadata_exchange.v1alpha.MetadataExchange': [],
  'aeraki.meta_protocol.codec.DubboCodec': [],
  'aeraki.meta_protocol.codec.ThriftCodec': [],
  'aeraki.meta_protocol.codec.TrpcCodec': [],
  'aeraki.meta_protocol.codec.BrpcCodec': [],
};

const wire = createWire();

/**
 * The RDS resource Aeraki serves for ServiceEntry host org.apache.dubbo.samples.basic.api.demoservice,
 * port 20880, with a MetaRouter routing `method: {exact: sayHello}` to subset v1 mirrored 50% to v2.
 */
const DEMOSERVICE_ROUTE = {
  name: 'org.apache.dubbo.samples.basic.api.demoservice_20880',
  virtualHosts: [
    {
      name: 'dummy',
      domains: ['*'],
      routes: [
        {
          name: 'v1',
          match: { prefix: '/', headers: [{ name: 'method', exactMatch: 'sayHello' }] },
          route: {
            cluster: 'outbound|20880|v1|org.apache.dubbo.samples.basic.api.demoservice',
            requestMirrorPolicies: [
              {
                cluster: 'outbound|20880|v2|org.apache.dubbo.samples.basic.api.demoservice',
                runtimeFraction: { defaultValue: { numerator: 500000, denominator: 'MILLION' } },
              },
            ],
          },
          requestHeadersToAdd: [{ header: { key: 'foo', value: 'bar' } }],
        },
      ],
    },
  ],
};

// Bytes protobuf-go (v1.36, deterministic marshal) produces for DEMOSERVICE_ROUTE with
// go-control-plane types, and for its MetaProtocol conversion with
// meta-protocol-control-plane-api v1.4.1 types (captured once; Go is not needed to run this test).
const GO_HTTP_HEX =
  '0a346f72672e6170616368652e647562626f2e73616d706c65732e62617369632e6170692e64656d6f736572766963655f323038383012cc010a0564756d6d7912012a1abf010a1732120a066d6574686f64220873617948656c6c6f0a012f4a0c0a0a0a03666f6f120362617272027631129101f2014c0a406f7574626f756e647c32303838307c76327c6f72672e6170616368652e647562626f2e73616d706c65732e62617369632e6170692e64656d6f736572766963651a080a0608a0c21e10020a406f7574626f756e647c32303838307c76317c6f72672e6170616368652e647562626f2e73616d706c65732e62617369632e6170692e64656d6f73657276696365';
const GO_META_HEX =
  '0a346f72672e6170616368652e647562626f2e73616d706c65732e62617369632e6170692e64656d6f736572766963655f323038383012ba010a02763112140a120a066d6574686f64220873617948656c6c6f1a90015a4c0a406f7574626f756e647c32303838307c76327c6f72672e6170616368652e647562626f2e73616d706c65732e62617369632e6170692e64656d6f7365727669636512080a0608a0c21e10020a406f7574626f756e647c32303838307c76317c6f72672e6170616368652e647562626f2e73616d706c65732e62617369632e6170692e64656d6f736572766963659a010a0a03666f6f1203626172';

/** A RouteConfiguration using every construct the route generator emits, plus a few more. */
function richRouteConfiguration(): JsonObject {
  return {
    name: 'hello.default.svc.cluster.local_9090',
    virtualHosts: [
      {
        name: 'dummy',
        domains: ['*'],
        routes: [
          {
            name: 'by-method',
            match: {
              prefix: '/',
              headers: [
                { name: 'method', exactMatch: 'sayHello' },
                { name: 'interface', safeRegexMatch: { googleRe2: {}, regex: '^org\\.apache\\..*' } },
                { name: 'x-tenant', presentMatch: true },
                { name: 'version', prefixMatch: 'v2' },
                { name: 'zone', invertMatch: true, exactMatch: 'east' },
              ],
            },
            route: {
              weightedClusters: {
                clusters: [
                  { name: 'outbound|9090|v1|hello.default.svc.cluster.local', weight: 20 },
                  { name: 'outbound|9090|v2|hello.default.svc.cluster.local', weight: 80 },
                ],
                totalWeight: 100,
              },
              hashPolicy: [{ header: { headerName: 'method' } }, { header: { headerName: 'interface' } }],
              requestMirrorPolicies: [
                {
                  cluster: 'outbound|9090|v3|hello.default.svc.cluster.local',
                  runtimeFraction: { defaultValue: { numerator: 500000, denominator: 'MILLION' } },
                },
              ],
              timeout: '1.500s',
            },
            requestHeadersToAdd: [{ header: { key: 'foo', value: 'bar' } }],
            responseHeadersToAdd: [{ header: { key: 'served-by', value: 'metamesh' } }],
          },
          {
            name: 'catch-all',
            match: { prefix: '/' },
            route: { cluster: 'outbound|9090||hello.default.svc.cluster.local' },
            typedPerFilterConfig: {
              'envoy.filters.http.b': {
                '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct',
                typeUrl: 'type.googleapis.com/example.B',
                value: { z: 1, a: [true, null, 'x'], m: {} },
              },
              'envoy.filters.http.a': { '@type': 'type.googleapis.com/xds.type.v3.TypedStruct', typeUrl: 'example.A' },
            },
          },
        ],
      },
    ],
  };
}

/** Deep copy with every object's keys inserted in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).reverse()) out[key] = reverseKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('proto registry', () => {
  it('loads our MetaProtocol protos together with the Envoy, xDS and udpa protos', () => {
    const root = loadProtoRoot();
    assert.equal(METAMESH_PROTO_FILES.length, 11);
    for (const name of Object.keys(MESSAGE_TABLES)) assert.ok(root.lookupType(name), name);
    for (const name of [
      'envoy.config.route.v3.RouteConfiguration',
      'envoy.config.cluster.v3.Cluster',
      'envoy.service.discovery.v3.DiscoveryRequest',
      'envoy.service.discovery.v3.DeltaDiscoveryResponse',
      'udpa.type.v1.TypedStruct',
      'xds.type.v3.TypedStruct',
      'envoy.extensions.access_loggers.file.v3.FileAccessLog',
    ]) {
      assert.ok(root.lookupType(name), name);
    }
    assert.ok(root.lookupService('envoy.service.route.v3.RouteDiscoveryService'));
  });

  it('returns an independent root on every call so callers own their cache', () => {
    assert.notEqual(loadProtoRoot(), loadProtoRoot());
  });

  it("gives every MetaProtocol message exactly the fields of Aeraki's API", () => {
    // protobufjs names fields and oneofs in lowerCamelCase; the tables use proto names.
    const root = loadProtoRoot();
    for (const [messageName, rows] of Object.entries(MESSAGE_TABLES)) {
      const type = root.lookupType(messageName);
      const actual = type.fieldsArray
        .map((field): FieldRow => {
          const typeName = field.resolvedType ? field.resolvedType.fullName.slice(1) : field.type;
          const label = field.repeated ? 'repeated' : 'optional';
          return field.partOf ? [field.id, field.name, typeName, label, field.partOf.name] : [field.id, field.name, typeName, label];
        })
        .sort((a, b) => a[0] - b[0]);
      const camel = protobuf.util.camelCase;
      const expected = rows.map(([id, name, type, label, oneof]): FieldRow => (oneof ? [id, camel(name), type, label, camel(oneof)] : [id, camel(name), type, label]));
      assert.deepEqual(actual, expected, messageName);
    }
  });

  it('reserves the retired Tracing field numbers and names', () => {
    const tracing = loadProtoRoot().lookupType('aeraki.meta_protocol_proxy.v1alpha.Tracing');
    assert.deepEqual(tracing.reserved, [[1, 1], [2, 2], 'operation_name', 'request_metadata_for_tags']);
  });
});

describe('RouteConfiguration wire encoding', () => {
  it('round-trips a rich RouteConfiguration through bytes unchanged', () => {
    const input = richRouteConfiguration();
    assert.deepEqual(decodeRouteConfiguration(encodeRouteConfiguration(input, wire), wire), input);
  });

  it('writes UInt32Value weights as plain numbers and keeps them on the wire', () => {
    const decoded = decodeRouteConfiguration(encodeRouteConfiguration(richRouteConfiguration(), wire), wire);
    const route = (decoded['virtualHosts'] as JsonObject[])[0]!['routes'] as JsonObject[];
    const weighted = (route[0]!['route'] as JsonObject)['weightedClusters'] as JsonObject;
    assert.deepEqual(
      (weighted['clusters'] as JsonObject[]).map((c) => c['weight']),
      [20, 80],
    );
    assert.equal(weighted['totalWeight'], 100);
    // A zero weight is still present (wrapper has presence) and decodes as 0.
    const zero = {
      name: 'z',
      virtualHosts: [{ name: 'dummy', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { weightedClusters: { clusters: [{ name: 'a', weight: 0 }] } } }] }],
    };
    assert.deepEqual(decodeRouteConfiguration(encodeRouteConfiguration(zero, wire), wire), zero);
  });

  it('throws on a field the schema does not know, at any depth', () => {
    assert.throws(() => encodeRouteConfiguration({ name: 'x', virtualHost: [] }, wire), ProtoJsonError);
    assert.throws(
      () => encodeRouteConfiguration({ virtualHosts: [{ name: 'd', domains: ['*'], routes: [{ match: { prefix: '/', headers: [{ name: 'a', exact: 'b' }] } }] }] }, wire),
      /virtualHosts\[0\]\.routes\[0\]\.match\.headers\[0\]\.exact: unknown field/,
    );
  });

  it('throws on shapes protobufjs would silently accept or drop', () => {
    const withAction = (route: object) => ({ virtualHosts: [{ name: 'd', domains: ['*'], routes: [{ match: { prefix: '/' }, route }] }] });
    // unknown enum name
    assert.throws(() => encodeRouteConfiguration(withAction({ cluster: 'c', clusterNotFoundResponseCode: 'TEAPOT' }), wire), /unknown .*ClusterNotFoundResponseCode/);
    // two members of one oneof
    assert.throws(() => encodeRouteConfiguration(withAction({ cluster: 'c', clusterHeader: 'h' }), wire), /oneof clusterSpecifier/);
    // wrapper in protobufjs' object form instead of proto3 JSON
    assert.throws(() => encodeRouteConfiguration(withAction({ weightedClusters: { clusters: [{ name: 'c', weight: { value: 1 } }] } }), wire), /plain uint32/);
    // wrong scalar type
    assert.throws(() => encodeRouteConfiguration({ name: 7 }, wire), /expected a string/);
    // Any with an unregistered type
    assert.throws(
      () => encodeRouteConfiguration({ typedPerFilterConfig: { f: { '@type': 'type.googleapis.com/no.such.Type' } } }, wire),
      /not in the proto registry/,
    );
  });

  it('encodes deterministically, regardless of object key insertion order', () => {
    const first = encodeRouteConfiguration(richRouteConfiguration(), wire);
    const second = encodeRouteConfiguration(richRouteConfiguration(), wire);
    const reordered = encodeRouteConfiguration(reverseKeys(richRouteConfiguration()) as object, wire);
    assert.equal(hex(second), hex(first));
    assert.equal(hex(reordered), hex(first));
    assert.equal(hex(encodeRouteConfiguration(richRouteConfiguration(), createWire())), hex(first));
  });

  it('produces the same bytes as Aeraki (protobuf-go) for the mirrored demoservice route', () => {
    assert.equal(hex(encodeRouteConfiguration(DEMOSERVICE_ROUTE, wire)), GO_HTTP_HEX);
  });

  it('embeds a RouteConfiguration in an RDS DiscoveryResponse Any as exactly its standalone bytes', () => {
    const bytes = encodeRouteConfiguration(DEMOSERVICE_ROUTE, wire);
    const responseJson = { versionInfo: '1', resources: [{ '@type': ROUTE_CONFIGURATION_TYPE_URL, ...DEMOSERVICE_ROUTE }], typeUrl: ROUTE_CONFIGURATION_TYPE_URL, nonce: 'n1' };
    const response = wire.encode('envoy.service.discovery.v3.DiscoveryResponse', responseJson);
    assert.deepEqual(decodeJson(wire.root, 'envoy.service.discovery.v3.DiscoveryResponse', response), responseJson);
    const decoded = wire.root.lookupType('envoy.service.discovery.v3.DiscoveryResponse').decode(response) as unknown as { resources: { type_url: string; value: Uint8Array }[] };
    assert.equal(decoded.resources[0]!.type_url, ROUTE_CONFIGURATION_TYPE_URL);
    assert.equal(hex(decoded.resources[0]!.value), hex(bytes));
  });
});

describe('MetaProtocol tunnelled route conversion', () => {
  it('converts the mirrored demoservice route into a MetaProtocol RouteConfiguration carrying every field', () => {
    const meta = metaProtocolFromHttpRoute(decodeRouteConfiguration(encodeRouteConfiguration(DEMOSERVICE_ROUTE, wire), wire));
    assert.deepEqual(meta, {
      name: 'org.apache.dubbo.samples.basic.api.demoservice_20880',
      routes: [
        {
          name: 'v1',
          match: { metadata: [{ name: 'method', exactMatch: 'sayHello' }] },
          route: {
            cluster: 'outbound|20880|v1|org.apache.dubbo.samples.basic.api.demoservice',
            requestMirrorPolicies: [
              {
                cluster: 'outbound|20880|v2|org.apache.dubbo.samples.basic.api.demoservice',
                runtimeFraction: { defaultValue: { numerator: 500000, denominator: 'MILLION' } },
              },
            ],
          },
          requestMutation: [{ key: 'foo', value: 'bar' }],
        },
      ],
    });
    const bytes = wire.encode(META_PROTOCOL_ROUTE_CONFIGURATION_TYPE, meta);
    assert.deepEqual(decodeMetaProtocolRouteConfiguration(bytes, wire), meta);
    assert.equal(hex(bytes), GO_META_HEX);
  });

  it('maps weighted clusters, hash keys and response mutations of a rich route', () => {
    const meta = metaProtocolFromHttpRoute(richRouteConfiguration());
    const [first, second] = meta['routes'] as JsonObject[];
    const action = first!['route'] as JsonObject;
    assert.deepEqual(action['hashPolicy'], ['method', 'interface']);
    assert.deepEqual((action['weightedClusters'] as JsonObject)['clusters'], [
      { name: 'outbound|9090|v1|hello.default.svc.cluster.local', weight: 20 },
      { name: 'outbound|9090|v2|hello.default.svc.cluster.local', weight: 80 },
    ]);
    assert.equal(((first!['match'] as JsonObject)['metadata'] as JsonObject[]).length, 5);
    assert.deepEqual(first!['responseMutation'], [{ key: 'served-by', value: 'metamesh' }]);
    assert.deepEqual(second, { name: 'catch-all', match: {}, route: { cluster: 'outbound|9090||hello.default.svc.cluster.local' } });
    // and it is valid against our MetaProtocol protos
    assert.deepEqual(decodeMetaProtocolRouteConfiguration(wire.encode(META_PROTOCOL_ROUTE_CONFIGURATION_TYPE, meta), wire), meta);
  });

  it('encodes a MetaProtocolProxy with Any-typed codec and filter configs', () => {
    const proxy = {
      statPrefix: 'outbound|20880||demoservice',
      applicationProtocol: 'dubbo',
      rds: {
        configSource: { apiConfigSource: { apiType: 'GRPC', transportApiVersion: 'V3', grpcServices: [{ envoyGrpc: { clusterName: 'aeraki-xds' } }] }, resourceApiVersion: 'V3' },
        routeConfigName: 'demoservice_20880',
      },
      codec: { name: 'aeraki.meta_protocol.codec.dubbo', config: { '@type': 'type.googleapis.com/aeraki.meta_protocol.codec.DubboCodec' } },
      metaProtocolFilters: [
        {
          name: 'aeraki.meta_protocol.filters.local_ratelimit',
          config: {
            '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.filters.local_ratelimit.v1alpha.LocalRateLimit',
            statPrefix: 'demo',
            tokenBucket: { maxTokens: 10, tokensPerFill: 5, fillInterval: '60s' },
          },
        },
        { name: 'aeraki.meta_protocol.filters.router', config: { '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.filters.router.v1alpha.Router' } },
      ],
      tracing: { maxTagLength: 0, clientSampling: { value: 100 } },
    };
    const type = 'aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy';
    assert.deepEqual(decodeJson(wire.root, type, wire.encode(type, proxy)), proxy);
  });
});

describe('protobufjs behaviours the generator relies on', () => {
  it('keeps the proto field name type_url on the bundled google.protobuf.Any', () => {
    const any = wire.root.lookupType('google.protobuf.Any');
    assert.deepEqual(Object.keys(any.fields), ['type_url', 'value']);
    assert.ok(wire.root.lookupType('envoy.config.route.v3.RouteConfiguration').fields['virtualHosts'] instanceof protobuf.Field);
  });
});
