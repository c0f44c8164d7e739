/**
 * The Envoy cluster through which proxies reach metamesh's xDS server (an `envoy.config.cluster.v3.Cluster`
 * in proto3 JSON, added by an EnvoyFilter CLUSTER patch). HTTP/2 is required by gRPC. With
 * ISTIO_MUTUAL the proxy presents its Istio workload certificate and verifies metamesh against the
 * mesh root, both fetched from the Istio agent over SDS, like Istio's own xDS connection. The mesh
 * root signs every workload's certificate, so the proxy also requires metamesh's own identity
 * (`xds.subjectAltNames`, by default its SPIFFE id): otherwise any workload could pose as metamesh.
 */
import type { Options } from '../model/options.js';
import type { JsonObject } from '../route/wire.js';
import { isIPv4 } from '../util/ip.js';

function sds(name: string): JsonObject {
  return {
    name,
    sdsConfig: {
      apiConfigSource: {
        apiType: 'GRPC',
        transportApiVersion: 'V3',
        grpcServices: [{ envoyGrpc: { clusterName: 'sds-grpc' } }],
        setNodeOnFirstMessageOnly: true,
      },
      initialFetchTimeout: '0s',
      resourceApiVersion: 'V3',
    },
  };
}

/** A SAN with a scheme (`spiffe://…`) is matched as a URI SAN, anything else as a DNS SAN. */
function sanMatcher(san: string): JsonObject {
  return { sanType: san.includes('://') ? 'URI' : 'DNS', matcher: { exact: san } };
}

export function xdsCluster(options: Options): JsonObject {
  const { clusterName, address, port, tls } = options.xds;
  const isIp = isIPv4(address);
  const cluster: JsonObject = {
    name: clusterName,
    type: isIp ? 'STATIC' : 'STRICT_DNS',
    connectTimeout: '1s',
    typedExtensionProtocolOptions: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicitHttpConfig: { http2ProtocolOptions: {} },
      },
    },
    loadAssignment: {
      clusterName,
      endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address, portValue: port } } } }] }],
    },
  };
  if (tls === 'ISTIO_MUTUAL') {
    cluster.transportSocket = {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        commonTlsContext: {
          tlsCertificateSdsSecretConfigs: [sds('default')],
          combinedValidationContext: {
            defaultValidationContext: { matchTypedSubjectAltNames: options.xds.subjectAltNames.map(sanMatcher) },
            validationContextSdsSecretConfig: sds('ROOTCA'),
          },
        },
        sni: address,
      },
    };
  }
  return cluster;
}
