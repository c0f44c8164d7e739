/**
 * Proto3-JSON <-> protobuf binary for the xDS resources metamesh serves.
 *
 * protobufjs' own `fromObject` is lenient (unknown fields and unknown enum names are silently
 * dropped, wrapper types such as UInt32Value need `{value: n}`, Duration needs `{seconds, nanos}`,
 * Any needs `{type_url, value}`), so JSON is first converted by a strict reflection walk that
 * implements the proto3 JSON mapping and throws `ProtoJsonError` on anything the schema does not
 * know. Output bytes are deterministic: fields are written in field-number order (protobufjs'
 * encoder sorts by id), proto3 implicit-presence fields holding their default value are omitted
 * (as Go/C++ do), and map entries are written in sorted key order.
 */
import protobuf from 'protobufjs';
import { loadProtoRoot } from './registry.js';
import { JsonConverter } from './json.js';
import { isPlainObject, ProtoJsonError, TO_OBJECT_OPTIONS, type JsonObject, type JsonValue } from './json-values.js';

export type { JsonObject, JsonValue } from './json-values.js';
export { ProtoJsonError } from './json-values.js';

export const TYPE_URL_PREFIX = 'type.googleapis.com/';
/** The RDS resource type the MetaProtocol proxy subscribes to (facts §1.5). */
export { ROUTE_CONFIGURATION_TYPE_URL } from '../route/wire.js';
export const HTTP_ROUTE_CONFIGURATION_TYPE = 'envoy.config.route.v3.RouteConfiguration';
export const META_PROTOCOL_ROUTE_CONFIGURATION_TYPE = 'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration';
export const META_PROTOCOL_ROUTE_CONFIGURATION_TYPE_URL = TYPE_URL_PREFIX + META_PROTOCOL_ROUTE_CONFIGURATION_TYPE;

/**
 * A google.protobuf.Any as protobufjs wants it. NB: protobufjs' bundled Any keeps the proto field
 * name `type_url` (not `typeUrl`), unlike every type parsed from a .proto file.
 */
export interface AnyMessage {
  type_url: string;
  value: Uint8Array;
}

export interface Wire {
  readonly root: protobuf.Root;
  /** Strictly converts proto3 JSON of `typeName` and encodes it. */
  encode(typeName: string, json: object): Uint8Array;
  /** Decodes bytes of `typeName` into canonical proto3 JSON (defaults omitted). */
  decode(typeName: string, bytes: Uint8Array): JsonObject;
  /** Strict proto3 JSON -> protobufjs message instance (for embedding in larger protobufjs messages). */
  fromJson(typeName: string, json: object): protobuf.Message;
}

/** Wraps already-encoded bytes into an Any. */
export function anyOf(typeUrl: string, bytes: Uint8Array): AnyMessage {
  return { type_url: typeUrl, value: bytes };
}

/** Builds a Wire over `root` (defaults to a freshly loaded registry root). Keep and reuse it. */
export function createWire(root: protobuf.Root = loadProtoRoot()): Wire {
  setupWithGoFieldOrder(root);
  const converter = new JsonConverter(root);
  return {
    root,
    encode(typeName, json) {
      const type = root.lookupType(typeName);
      return type.encode(type.fromObject(converter.messageFromJson(type, json, type.name))).finish();
    },
    decode(typeName, bytes) {
      const type = root.lookupType(typeName);
      const json = converter.messageToJson(type, type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS), type.name);
      if (!isPlainObject(json)) throw new ProtoJsonError('decoded to a non-object JSON value', type.name);
      return json;
    },
    fromJson(typeName, json) {
      const type = root.lookupType(typeName);
      return type.fromObject(converter.messageFromJson(type, json, type.name));
    },
  };
}

/**
 * Field order on the wire. protobufjs writes fields sorted by number; Go (protobuf-go, which Aeraki
 * and go-control-plane use, also with Deterministic) writes non-oneof fields by number first and
 * then the fields of each (non-synthetic) oneof, oneofs in declaration order. Both are valid
 * protobuf; we use Go's order so our bytes equal Aeraki's for the same message.
 */
export function goFieldOrder(a: protobuf.Field, b: protobuf.Field): number {
  const ao = realOneof(a);
  const bo = realOneof(b);
  if ((ao === null) !== (bo === null)) return ao === null ? -1 : 1;
  if (ao !== null && bo !== null && ao !== bo) {
    const oneofs = ao.parent instanceof protobuf.Type ? ao.parent.oneofsArray : [];
    return oneofs.indexOf(ao) - oneofs.indexOf(bo);
  }
  return a.id - b.id;
}

function realOneof(field: protobuf.Field): protobuf.OneOf | null {
  if (field.partOf === null || field.options?.['proto3_optional']) return null;
  return field.partOf;
}

/**
 * (Re)generates the protobufjs codecs of every type in `root` while protobufjs' field comparator
 * is temporarily Go's order. protobufjs reads `util.compareFieldsById` only while generating an
 * encoder, so the swap is synchronous and restored before returning.
 */
function setupWithGoFieldOrder(root: protobuf.Root): void {
  const util = protobuf.util as unknown as { compareFieldsById: (a: protobuf.Field, b: protobuf.Field) => number };
  const original = util.compareFieldsById;
  util.compareFieldsById = goFieldOrder;
  try {
    const visit = (namespace: protobuf.NamespaceBase): void => {
      for (const nested of namespace.nestedArray) {
        if (nested instanceof protobuf.Type) nested.setup();
        if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) visit(nested);
      }
    };
    visit(root);
  } finally {
    util.compareFieldsById = original;
  }
}

// Explicit memo for the convenience functions below; code that owns a lifecycle should call
// createWire() itself and pass the Wire around.
let memo: Wire | undefined;
export function defaultWire(): Wire {
  memo ??= createWire();
  return memo;
}

export function encodeRouteConfiguration(json: object, wire: Wire = defaultWire()): Uint8Array {
  return wire.encode(HTTP_ROUTE_CONFIGURATION_TYPE, json);
}

export function decodeRouteConfiguration(bytes: Uint8Array, wire: Wire = defaultWire()): JsonObject {
  return wire.decode(HTTP_ROUTE_CONFIGURATION_TYPE, bytes);
}

export function encodeMetaProtocolRouteConfiguration(json: object, wire: Wire = defaultWire()): Uint8Array {
  return wire.encode(META_PROTOCOL_ROUTE_CONFIGURATION_TYPE, json);
}

export function decodeMetaProtocolRouteConfiguration(bytes: Uint8Array, wire: Wire = defaultWire()): JsonObject {
  return wire.decode(META_PROTOCOL_ROUTE_CONFIGURATION_TYPE, bytes);
}

/**
 * The data plane's HTTP -> MetaProtocol route conversion (facts §1.5), on proto3 JSON
 * (lowerCamelCase keys). Only `virtualHosts[0].routes` is read; the path specifier of
 * RouteMatch, VirtualHost name/domains and mirror runtime keys are dropped.
 */
export function metaProtocolFromHttpRoute(json: object): JsonObject {
  const config = json as HttpRouteConfigurationJson;
  const out: JsonObject = {};
  if (config.name) out.name = config.name;
  const routes = config.virtualHosts?.[0]?.routes ?? [];
  if (routes.length > 0) out.routes = routes.map((route, i) => convertHttpRoute(route, i));
  return out;
}

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
