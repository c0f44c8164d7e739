/**
 * Protobuf schema registry: loads metamesh's MetaProtocol API protos and its renditions of the
 * Istio API messages (proto/) together with the Envoy / xDS / googleapis / PGV protos shipped
 * inside @grpc/grpc-js-xds (deps/ folders), into one protobufjs Root.
 *
 * There is no module-level cache: every call parses the .proto files again (a few hundred ms),
 * so callers create one Root and keep it (see `createWire` in ./wire.ts).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** Our .proto files, relative to the `proto/` directory. */
export const METAMESH_PROTO_FILES: readonly string[] = [
  'aeraki/meta_protocol_proxy/v1alpha/meta_protocol_proxy.proto',
  'aeraki/meta_protocol_proxy/config/route/v1alpha/route.proto',
  'aeraki/meta_protocol_proxy/filters/router/v1alpha/router.proto',
  'aeraki/meta_protocol_proxy/filters/local_ratelimit/v1alpha/local_ratelimit.proto',
  'aeraki/meta_protocol_proxy/filters/global_ratelimit/v1alpha/global_ratelimit.proto',
  'aeraki/meta_protocol_proxy/filters/istio_stats/v1alpha/istio_stats.proto',
  'aeraki/meta_protocol_proxy/filters/metadata_exchange/v1alpha/metadata_exchange.proto',
  'aeraki/meta_protocol/codec/dubbo_codec.proto',
  'aeraki/meta_protocol/codec/thrift_codec.proto',
  'aeraki/meta_protocol/codec/trpc_codec.proto',
  'aeraki/meta_protocol/codec/brpc_codec.proto',
];

/**
 * Our renditions of the Istio API messages the MCP sink serves to istiod (src/mcp/), relative to
 * `proto/`: the MCP envelope and the networking v1alpha3 specs metamesh generates.
 */
export const ISTIO_PROTO_FILES: readonly string[] = [
  'istio/mcp/v1alpha1/resource.proto',
  'istio/networking/v1alpha3/service_entry.proto',
  'istio/networking/v1alpha3/envoy_filter.proto',
  'istio/networking/v1alpha3/virtual_service.proto',
];

/** Upstream protos loaded from the grpc-js-xds deps folders (their imports follow). */
export const UPSTREAM_PROTO_FILES: readonly string[] = [
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/service/route/v3/rds.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'udpa/type/v1/typed_struct.proto',
  'xds/type/v3/typed_struct.proto',
];

/** Finds the package's `proto/` directory by walking up from this module (works from src/ and dist/src/). */
export function metameshProtoDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'proto');
    if (existsSync(path.join(candidate, 'aeraki', 'meta_protocol_proxy'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('metamesh proto/ directory not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/**
 * Import search path, in order: our proto/, the four grpc-js-xds deps folders, and the
 * protobufjs package (for google/protobuf/descriptor.proto, which PGV/udpa annotations import;
 * any/duration/wrappers/struct/timestamp/empty/field_mask are bundled inside protobufjs).
 */
export function protoIncludeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const xdsRoot = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const protobufjsRoot = path.dirname(require.resolve('protobufjs/package.json'));
  return [
    metameshProtoDir(),
    path.join(xdsRoot, 'deps', 'envoy-api'),
    path.join(xdsRoot, 'deps', 'xds'),
    path.join(xdsRoot, 'deps', 'googleapis'),
    path.join(xdsRoot, 'deps', 'protoc-gen-validate'),
    protobufjsRoot,
  ];
}

/**
 * Loads a fresh, fully resolved Root with our MetaProtocol and Istio protos and the Envoy types listed in
 * UPSTREAM_PROTO_FILES. Field names are protobufjs' lowerCamelCase of the proto names (except in
 * the bundled google.protobuf types, e.g. Any's `type_url`), which is what the JSON converter
 * (json.ts) expects. Throws if any file or import cannot be found.
 */
export function loadProtoRoot(): protobuf.Root {
  const includeDirs = protoIncludeDirs();
  const root = new protobuf.Root();
  root.resolvePath = (origin: string, target: string): string => {
    if (path.isAbsolute(target) && existsSync(target)) return target;
    for (const dir of includeDirs) {
      const candidate = path.join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    throw new Error(`proto import "${target}" (from ${origin || '<root>'}) not found in ${includeDirs.join(', ')}`);
  };
  root.loadSync([...METAMESH_PROTO_FILES, ...ISTIO_PROTO_FILES, ...UPSTREAM_PROTO_FILES], {
    keepCase: false,
    alternateCommentMode: false,
  });
  root.resolveAll();
  return root;
}
