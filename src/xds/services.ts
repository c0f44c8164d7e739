/**
 * The gRPC service definitions metamesh serves, loaded with @grpc/proto-loader from the same
 * include directories as the protobuf registry (src/proto/registry.ts). Used by the server and by
 * tests that need real clients.
 *
 * Messages use the field names of the .proto files (keepCase: snake_case). The server writes its
 * responses already encoded (envelope.ts): its service definitions serialise a Buffer as is.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoIncludeDirs } from '../proto/registry.js';

export const XDS_PROTO_FILES: readonly string[] = ['envoy/service/route/v3/rds.proto', 'envoy/service/discovery/v3/ads.proto'];

export const RDS_SERVICE = 'envoy.service.route.v3.RouteDiscoveryService';
export const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

export interface XdsServices {
  /** Server-side definitions: a response that is a Buffer is sent as is (see passThroughResponses). */
  readonly rds: grpc.ServiceDefinition;
  readonly ads: grpc.ServiceDefinition;
  /** Client constructors, for tests and tools. */
  readonly RdsClient: grpc.ServiceClientConstructor;
  readonly AdsClient: grpc.ServiceClientConstructor;
}

/** Parses the protos (a few hundred ms); call once and keep the result. */
export function loadXdsServices(): XdsServices {
  const def = protoLoader.loadSync([...XDS_PROTO_FILES], {
    includeDirs: protoIncludeDirs(),
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def);
  const lookup = (name: string): grpc.ServiceClientConstructor => {
    let node: unknown = pkg;
    for (const part of name.split('.')) node = (node as Record<string, unknown>)[part];
    if (typeof node !== 'function') throw new Error(`bug: service ${name} not found in ${XDS_PROTO_FILES.join(', ')}`);
    return node as grpc.ServiceClientConstructor;
  };
  const RdsClient = lookup(RDS_SERVICE);
  const AdsClient = lookup(ADS_SERVICE);
  return { rds: passThroughResponses(RdsClient.service), ads: passThroughResponses(AdsClient.service), RdsClient, AdsClient };
}

/**
 * A copy of `def` whose response serialisers send a Buffer unchanged (an already-encoded
 * response) and encode anything else with the original serialiser.
 */
export function passThroughResponses(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(def as Record<string, grpc.MethodDefinition<unknown, unknown>>)) {
    const encode = method.responseSerialize;
    out[name] = { ...method, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : encode(value)) };
  }
  return out as grpc.ServiceDefinition;
}

// --- wire shapes (keepCase, defaults: true) ----------------------------------------------------

export interface AnyWire {
  type_url: string;
  value: Buffer;
}

export interface StatusWire {
  code: number;
  message: string;
}

export interface NodeWire {
  id?: string;
  cluster?: string;
}

export interface DiscoveryRequestWire {
  version_info?: string;
  node?: NodeWire | null;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: StatusWire | null;
}

export interface DiscoveryResponseWire {
  version_info: string;
  resources: AnyWire[];
  type_url: string;
  nonce: string;
}

export interface DeltaDiscoveryRequestWire {
  node?: NodeWire | null;
  type_url?: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: StatusWire | null;
}

export interface DeltaDiscoveryResponseWire {
  system_version_info: string;
  resources: Array<{ name: string; version: string; resource: AnyWire }>;
  type_url: string;
  removed_resources: string[];
  nonce: string;
}
