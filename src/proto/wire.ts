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

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

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

/** Thrown for JSON that does not fit the schema (a programming error in the caller). */
export class ProtoJsonError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'ProtoJsonError';
  }
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

// ---------------------------------------------------------------------------------------------
// Strict proto3 JSON mapping over protobufjs reflection.

const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: String,
  defaults: false,
};

const WRAPPERS: Record<string, string> = {
  '.google.protobuf.DoubleValue': 'double',
  '.google.protobuf.FloatValue': 'float',
  '.google.protobuf.Int64Value': 'int64',
  '.google.protobuf.UInt64Value': 'uint64',
  '.google.protobuf.Int32Value': 'int32',
  '.google.protobuf.UInt32Value': 'uint32',
  '.google.protobuf.BoolValue': 'bool',
  '.google.protobuf.StringValue': 'string',
  '.google.protobuf.BytesValue': 'bytes',
};

/** Types whose proto3 JSON form is not an object of their fields (Any embeds them as {"@type", "value"}). */
const SPECIAL_JSON = new Set([
  ...Object.keys(WRAPPERS),
  '.google.protobuf.Duration',
  '.google.protobuf.Timestamp',
  '.google.protobuf.FieldMask',
  '.google.protobuf.Struct',
  '.google.protobuf.Value',
  '.google.protobuf.ListValue',
]);

const OMIT = Symbol('omit');
type Converted = unknown;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function snakeToCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function camelToSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

/** Whether a field keeps an explicitly set default value (oneof members, proto3 optional, proto2). */
function tracksPresence(field: protobuf.Field): boolean {
  return field.partOf !== null || Boolean(field.options?.['proto3_optional']) || field.hasPresence === true;
}

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64']);
const UINT64 = new Set(['uint64', 'fixed64']);

class JsonConverter {
  private readonly nameIndex = new Map<protobuf.Type, Map<string, protobuf.Field>>();

  constructor(private readonly root: protobuf.Root) {}

  private fieldsByJsonName(type: protobuf.Type): Map<string, protobuf.Field> {
    let index = this.nameIndex.get(type);
    if (index === undefined) {
      index = new Map();
      for (const field of type.fieldsArray) {
        // field.name is protobufjs' camelCase of the proto name (or the proto name itself for
        // bundled google.protobuf types); accept the lowerCamelCase and snake_case spellings.
        index.set(field.name, field);
        index.set(snakeToCamel(field.name), field);
        index.set(camelToSnake(field.name), field);
        const jsonName = field.options?.['json_name'];
        if (typeof jsonName === 'string') index.set(jsonName, field);
      }
      this.nameIndex.set(type, index);
    }
    return index;
  }

  // ---- JSON -> protobufjs plain object ----

  messageFromJson(type: protobuf.Type, json: unknown, path: string): Record<string, unknown> {
    const special = this.specialFromJson(type, json, path);
    if (special !== undefined) return special;
    if (!isPlainObject(json)) throw new ProtoJsonError(`expected an object for ${type.fullName.slice(1)}, got ${describe(json)}`, path);
    const index = this.fieldsByJsonName(type);
    const out: Record<string, unknown> = {};
    const oneofSeen = new Map<string, string>();
    for (const key of Object.keys(json)) {
      const fieldPath = `${path}.${key}`;
      const field = index.get(key);
      if (field === undefined) throw new ProtoJsonError(`unknown field for ${type.fullName.slice(1)}`, fieldPath);
      if (Object.prototype.hasOwnProperty.call(out, field.name)) throw new ProtoJsonError('field given twice', fieldPath);
      const value = json[key];
      if (value === undefined) continue;
      if (value === null && field.resolvedType?.fullName !== '.google.protobuf.Value') continue;
      if (field.partOf) {
        const other = oneofSeen.get(field.partOf.name);
        if (other !== undefined) throw new ProtoJsonError(`oneof ${field.partOf.name} already set by ${other}`, fieldPath);
        oneofSeen.set(field.partOf.name, key);
      }
      const converted = this.fieldFromJson(field, value, fieldPath);
      if (converted !== OMIT) out[field.name] = converted;
    }
    return out;
  }

  private fieldFromJson(field: protobuf.Field, value: unknown, path: string): Converted {
    if (field instanceof protobuf.MapField) {
      if (!isPlainObject(value)) throw new ProtoJsonError(`expected an object (map), got ${describe(value)}`, path);
      const keys = Object.keys(value).sort();
      if (keys.length === 0) return OMIT;
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        this.mapKeyFromJson(field.keyType, key, `${path}[${JSON.stringify(key)}]`);
        const element = value[key];
        if (element === null || element === undefined) throw new ProtoJsonError('null map value', `${path}[${JSON.stringify(key)}]`);
        out[key] = this.singleFromJson(field, element, `${path}[${JSON.stringify(key)}]`, true);
      }
      return out;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) throw new ProtoJsonError(`expected an array, got ${describe(value)}`, path);
      if (value.length === 0) return OMIT;
      return value.map((element: unknown, i) => {
        if (element === null || element === undefined) throw new ProtoJsonError('null array element', `${path}[${i}]`);
        return this.singleFromJson(field, element, `${path}[${i}]`, true);
      });
    }
    return this.singleFromJson(field, value, path, tracksPresence(field));
  }

  private mapKeyFromJson(keyType: string, key: string, path: string): void {
    if (keyType === 'string') return;
    if (keyType === 'bool') {
      if (key !== 'true' && key !== 'false') throw new ProtoJsonError('expected a bool map key', path);
      return;
    }
    if (!/^-?\d+$/.test(key)) throw new ProtoJsonError(`expected an integer (${keyType}) map key`, path);
  }

  /** Converts one (non-repeated) value; `keepDefault` false drops proto3 implicit defaults. */
  private singleFromJson(field: protobuf.Field, value: unknown, path: string, keepDefault: boolean): Converted {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) return this.messageFromJson(resolved, value, path);
    if (resolved instanceof protobuf.Enum) {
      let number: number;
      if (typeof value === 'string') {
        const n = resolved.values[value];
        if (n === undefined) throw new ProtoJsonError(`unknown ${resolved.fullName.slice(1)} value ${JSON.stringify(value)}`, path);
        number = n;
      } else if (typeof value === 'number' && Number.isInteger(value) && value >= -2147483648 && value <= 2147483647) {
        number = value;
      } else {
        throw new ProtoJsonError(`expected an enum name or number, got ${describe(value)}`, path);
      }
      if (number === 0 && !keepDefault) return OMIT;
      return value;
    }
    return scalarFromJson(field.type, value, path, keepDefault);
  }

  private specialFromJson(type: protobuf.Type, json: unknown, path: string): Record<string, unknown> | undefined {
    const name = type.fullName;
    const wrapped = WRAPPERS[name];
    if (wrapped !== undefined) {
      if (isPlainObject(json)) throw new ProtoJsonError(`${name.slice(1)} is written as a plain ${wrapped} in proto3 JSON`, path);
      const value = scalarFromJson(wrapped, json, path, false);
      return value === OMIT ? {} : { value };
    }
    switch (name) {
      case '.google.protobuf.Any':
        return this.anyFromJson(json, path);
      case '.google.protobuf.Duration':
        return durationFromJson(json, path);
      case '.google.protobuf.Timestamp':
        return timestampFromJson(json, path);
      case '.google.protobuf.FieldMask': {
        if (typeof json !== 'string') throw new ProtoJsonError(`expected a FieldMask string, got ${describe(json)}`, path);
        const paths = json.split(',').filter((p) => p !== '').map((p) => p.split('.').map(camelToSnake).join('.'));
        return paths.length > 0 ? { paths } : {};
      }
      case '.google.protobuf.Struct':
        return structFromJson(json, path);
      case '.google.protobuf.Value':
        return valueFromJson(json, path);
      case '.google.protobuf.ListValue':
        if (!Array.isArray(json)) throw new ProtoJsonError(`expected an array (ListValue), got ${describe(json)}`, path);
        return { values: json.map((v: unknown, i) => valueFromJson(v, `${path}[${i}]`)) };
      default:
        return undefined;
    }
  }

  private anyFromJson(json: unknown, path: string): Record<string, unknown> {
    if (!isPlainObject(json)) throw new ProtoJsonError(`expected an object (Any), got ${describe(json)}`, path);
    const typeUrl = json['@type'];
    if (Object.keys(json).length === 0) return {};
    if (typeof typeUrl !== 'string' || !typeUrl.includes('/')) throw new ProtoJsonError('Any needs an "@type" type URL', path);
    const type = this.lookupAnyType(typeUrl, path);
    let body: unknown;
    if (SPECIAL_JSON.has(type.fullName)) {
      for (const key of Object.keys(json)) {
        if (key !== '@type' && key !== 'value') throw new ProtoJsonError(`unknown field in Any of ${type.fullName.slice(1)}`, `${path}.${key}`);
      }
      body = json['value'];
    } else {
      const { ['@type']: _dropped, ...rest } = json;
      body = rest;
    }
    const bytes = type.encode(type.fromObject(this.messageFromJson(type, body, `${path}<${type.name}>`))).finish();
    return bytes.length > 0 ? { type_url: typeUrl, value: bytes } : { type_url: typeUrl };
  }

  private lookupAnyType(typeUrl: string, path: string): protobuf.Type {
    const typeName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
    const found = this.root.lookup(typeName);
    if (!(found instanceof protobuf.Type)) throw new ProtoJsonError(`Any type ${typeName} is not in the proto registry`, path);
    return found;
  }

  // ---- protobufjs toObject() output -> canonical proto3 JSON ----

  messageToJson(type: protobuf.Type, object: unknown, path: string): JsonValue {
    if (!isPlainObject(object)) throw new ProtoJsonError(`expected an object for ${type.fullName.slice(1)}`, path);
    const special = this.specialToJson(type, object, path);
    if (special !== undefined) return special;
    const out: JsonObject = {};
    for (const field of type.fieldsArray) {
      if (!Object.prototype.hasOwnProperty.call(object, field.name)) continue;
      const value = object[field.name];
      if (value === undefined || value === null) continue;
      const jsonName = snakeToCamel(field.name);
      const fieldPath = `${path}.${jsonName}`;
      if (field instanceof protobuf.MapField) {
        if (!isPlainObject(value)) continue;
        const keys = Object.keys(value).sort();
        if (keys.length === 0) continue;
        const map: JsonObject = {};
        for (const key of keys) map[key] = this.singleToJson(field, value[key], `${fieldPath}[${key}]`, true) as JsonValue;
        out[jsonName] = map;
      } else if (field.repeated) {
        if (!Array.isArray(value) || value.length === 0) continue;
        out[jsonName] = value.map((element: unknown, i) => this.singleToJson(field, element, `${fieldPath}[${i}]`, true) as JsonValue);
      } else {
        const converted = this.singleToJson(field, value, fieldPath, tracksPresence(field));
        if (converted !== OMIT) out[jsonName] = converted as JsonValue;
      }
    }
    return out;
  }

  private singleToJson(field: protobuf.Field, value: unknown, path: string, keepDefault: boolean): JsonValue | typeof OMIT {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) return this.messageToJson(resolved, value, path);
    if (resolved instanceof protobuf.Enum) {
      const isDefault = value === 0 || (typeof value === 'string' && resolved.values[value] === 0);
      if (isDefault && !keepDefault) return OMIT;
      return value as JsonValue;
    }
    return scalarToJson(field.type, value, keepDefault);
  }

  private specialToJson(type: protobuf.Type, object: Record<string, unknown>, path: string): JsonValue | undefined {
    const name = type.fullName;
    const wrapped = WRAPPERS[name];
    if (wrapped !== undefined) {
      const value = scalarToJson(wrapped, object['value'] ?? scalarDefault(wrapped), true);
      return value === OMIT ? null : value;
    }
    switch (name) {
      case '.google.protobuf.Any':
        return this.anyToJson(object, path);
      case '.google.protobuf.Duration':
        return formatSecondsNanos(String(object['seconds'] ?? '0'), Number(object['nanos'] ?? 0)) + 's';
      case '.google.protobuf.Timestamp': {
        const seconds = Number(object['seconds'] ?? 0);
        const nanos = Number(object['nanos'] ?? 0);
        const iso = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '');
        return iso + fractionDigits(nanos) + 'Z';
      }
      case '.google.protobuf.FieldMask': {
        const paths = Array.isArray(object['paths']) ? (object['paths'] as string[]) : [];
        return paths.map((p) => p.split('.').map(snakeToCamel).join('.')).join(',');
      }
      case '.google.protobuf.Struct':
        return structToJson(object);
      case '.google.protobuf.Value':
        return valueToJson(object);
      case '.google.protobuf.ListValue':
        return Array.isArray(object['values']) ? (object['values'] as unknown[]).map(valueToJson) : [];
      default:
        return undefined;
    }
  }

  private anyToJson(object: Record<string, unknown>, path: string): JsonValue {
    const typeUrl = object['type_url'];
    if (typeof typeUrl !== 'string' || typeUrl === '') return {};
    const type = this.lookupAnyType(typeUrl, path);
    const raw = object['value'];
    const bytes = typeof raw === 'string' ? Buffer.from(raw, 'base64') : new Uint8Array();
    const inner = this.messageToJson(type, type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS), `${path}<${type.name}>`);
    if (SPECIAL_JSON.has(type.fullName)) return { '@type': typeUrl, value: inner };
    if (!isPlainObject(inner)) throw new ProtoJsonError('Any payload did not convert to an object', path);
    return { '@type': typeUrl, ...(inner as JsonObject) };
  }
}

function scalarDefault(type: string): unknown {
  if (type === 'string' || type === 'bytes') return '';
  if (type === 'bool') return false;
  if (INT64.has(type) || UINT64.has(type)) return '0';
  return 0;
}

function scalarFromJson(type: string, value: unknown, path: string, keepDefault: boolean): Converted {
  let out: unknown;
  let isDefault: boolean;
  if (type === 'string') {
    if (typeof value !== 'string') throw new ProtoJsonError(`expected a string, got ${describe(value)}`, path);
    out = value;
    isDefault = value === '';
  } else if (type === 'bool') {
    if (typeof value !== 'boolean') throw new ProtoJsonError(`expected a boolean, got ${describe(value)}`, path);
    out = value;
    isDefault = value === false;
  } else if (type === 'bytes') {
    if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) {
      throw new ProtoJsonError(`expected a base64 string, got ${describe(value)}`, path);
    }
    const bytes = new Uint8Array(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
    out = bytes;
    isDefault = bytes.length === 0;
  } else if (type === 'double' || type === 'float') {
    let n: number;
    if (typeof value === 'number') n = value;
    else if (value === 'NaN') n = NaN;
    else if (value === 'Infinity') n = Infinity;
    else if (value === '-Infinity') n = -Infinity;
    else if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) n = Number(value);
    else throw new ProtoJsonError(`expected a number, got ${describe(value)}`, path);
    out = n;
    isDefault = n === 0 && !Object.is(n, -0);
  } else if (INT32.has(type) || UINT32.has(type)) {
    const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
    const [min, max] = INT32.has(type) ? [-2147483648, 2147483647] : [0, 4294967295];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new ProtoJsonError(`expected a ${type}, got ${JSON.stringify(value)}`, path);
    }
    out = n;
    isDefault = n === 0;
  } else if (INT64.has(type) || UINT64.has(type)) {
    let text: string;
    if (typeof value === 'number' && Number.isSafeInteger(value)) text = String(value);
    else if (typeof value === 'string' && /^-?\d+$/.test(value)) text = value;
    else throw new ProtoJsonError(`expected a ${type} (integer or decimal string), got ${JSON.stringify(value)}`, path);
    const big = BigInt(text);
    const [min, max] = INT64.has(type) ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
    if (big < min || big > max) throw new ProtoJsonError(`${type} out of range: ${text}`, path);
    out = big.toString();
    isDefault = big === 0n;
  } else {
    throw new ProtoJsonError(`unsupported scalar type ${type}`, path);
  }
  return isDefault && !keepDefault ? OMIT : out;
}

function scalarToJson(type: string, value: unknown, keepDefault: boolean): JsonValue | typeof OMIT {
  if (!keepDefault && (value === '' || value === false || value === 0 || value === '0')) return OMIT;
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  if ((INT64.has(type) || UINT64.has(type)) && typeof value !== 'string') return String(value);
  return value as JsonValue;
}

const DURATION_RE = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

function durationFromJson(json: unknown, path: string): Record<string, unknown> {
  const m = typeof json === 'string' ? DURATION_RE.exec(json) : null;
  if (m === null) throw new ProtoJsonError(`expected a Duration string like "1.5s", got ${JSON.stringify(json)}`, path);
  const sign = m[1] === '-' ? -1n : 1n;
  const seconds = BigInt(m[2] ?? '0') * sign;
  if (seconds > 315576000000n || seconds < -315576000000n) throw new ProtoJsonError('Duration out of range', path);
  const nanos = Number((m[3] ?? '').padEnd(9, '0') || '0') * Number(sign);
  const out: Record<string, unknown> = {};
  if (seconds !== 0n) out['seconds'] = seconds.toString();
  if (nanos !== 0) out['nanos'] = nanos;
  return out;
}

const TIMESTAMP_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

function timestampFromJson(json: unknown, path: string): Record<string, unknown> {
  const m = typeof json === 'string' ? TIMESTAMP_RE.exec(json) : null;
  const millis = m === null ? NaN : Date.parse(`${m[1]}${m[3]}`);
  if (m === null || Number.isNaN(millis)) throw new ProtoJsonError(`expected an RFC 3339 timestamp, got ${JSON.stringify(json)}`, path);
  const seconds = Math.floor(millis / 1000);
  const nanos = Number((m[2] ?? '').padEnd(9, '0') || '0');
  const out: Record<string, unknown> = {};
  if (seconds !== 0) out['seconds'] = String(seconds);
  if (nanos !== 0) out['nanos'] = nanos;
  return out;
}

function structFromJson(json: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(json)) throw new ProtoJsonError(`expected an object (Struct), got ${describe(json)}`, path);
  const keys = Object.keys(json).sort();
  if (keys.length === 0) return {};
  const fields: Record<string, unknown> = {};
  for (const key of keys) fields[key] = valueFromJson(json[key], `${path}.${key}`);
  return { fields };
}

function valueFromJson(json: unknown, path: string): Record<string, unknown> {
  if (json === null) return { nullValue: 'NULL_VALUE' };
  if (typeof json === 'number') return { numberValue: json };
  if (typeof json === 'string') return { stringValue: json };
  if (typeof json === 'boolean') return { boolValue: json };
  if (Array.isArray(json)) return { listValue: { values: json.map((v: unknown, i) => valueFromJson(v, `${path}[${i}]`)) } };
  if (isPlainObject(json)) return { structValue: structFromJson(json, path) };
  throw new ProtoJsonError(`not a JSON value: ${describe(json)}`, path);
}

function structToJson(object: unknown): JsonObject {
  const fields = isPlainObject(object) && isPlainObject(object['fields']) ? object['fields'] : {};
  const out: JsonObject = {};
  for (const key of Object.keys(fields).sort()) out[key] = valueToJson(fields[key]);
  return out;
}

function valueToJson(object: unknown): JsonValue {
  if (!isPlainObject(object)) return null;
  if ('numberValue' in object) return object['numberValue'] as number;
  if ('stringValue' in object) return object['stringValue'] as string;
  if ('boolValue' in object) return object['boolValue'] as boolean;
  if ('structValue' in object) return structToJson(object['structValue']);
  if ('listValue' in object) {
    const list = object['listValue'];
    return isPlainObject(list) && Array.isArray(list['values']) ? (list['values'] as unknown[]).map(valueToJson) : [];
  }
  return null;
}

function fractionDigits(nanos: number): string {
  if (nanos === 0) return '';
  const digits = String(Math.abs(nanos)).padStart(9, '0');
  if (digits.endsWith('000000')) return '.' + digits.slice(0, 3);
  if (digits.endsWith('000')) return '.' + digits.slice(0, 6);
  return '.' + digits;
}

function formatSecondsNanos(seconds: string, nanos: number): string {
  const negative = seconds.startsWith('-') || nanos < 0;
  const abs = seconds.replace(/^-/, '');
  return (negative ? '-' : '') + abs + fractionDigits(nanos);
}
