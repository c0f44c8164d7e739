/**
 * Test-only inverse of the product encoder (src/proto/wire.ts): protobuf bytes -> canonical proto3
 * JSON (lowerCamelCase keys, defaults omitted, maps with sorted keys, Any as {"@type", ...}),
 * through protobufjs' decoder and `toObject`. The product never decodes RDS resources; tests use
 * this to prove that what was encoded is what was meant.
 */
import protobuf from 'protobufjs';
import { HTTP_ROUTE_CONFIGURATION_TYPE, type Wire } from '../../src/proto/wire.js';
import { INT64, OMIT, ProtoJsonError, SPECIAL_JSON, UINT64, WRAPPERS, isPlainObject, snakeToCamel, tracksPresence } from '../../src/proto/json-values.js';

/** Canonical proto3 JSON, as decoded. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const META_PROTOCOL_ROUTE_CONFIGURATION_TYPE = 'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration';

const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String, defaults: false };

/** Decodes bytes of `typeName` (looked up in `root`) into canonical proto3 JSON. */
export function decodeJson(root: protobuf.Root, typeName: string, bytes: Uint8Array): JsonObject {
  const type = root.lookupType(typeName);
  const json = messageToJson(root, type, type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS), type.name);
  if (!isPlainObject(json)) throw new ProtoJsonError('decoded to a non-object JSON value', type.name);
  return json as JsonObject;
}

export function decodeRouteConfiguration(bytes: Uint8Array, wire: Wire): JsonObject {
  return decodeJson(wire.root, HTTP_ROUTE_CONFIGURATION_TYPE, bytes);
}

export function decodeMetaProtocolRouteConfiguration(bytes: Uint8Array, wire: Wire): JsonObject {
  return decodeJson(wire.root, META_PROTOCOL_ROUTE_CONFIGURATION_TYPE, bytes);
}

function messageToJson(root: protobuf.Root, type: protobuf.Type, object: unknown, path: string): JsonValue {
  if (!isPlainObject(object)) throw new ProtoJsonError(`expected an object for ${type.fullName.slice(1)}`, path);
  const special = specialToJson(root, type, object, path);
  if (special !== undefined) return special;
  const out: JsonObject = {};
  for (const field of type.fieldsArray) {
    const value = object[field.name];
    if (value === undefined || value === null) continue;
    const jsonName = snakeToCamel(field.name);
    const fieldPath = `${path}.${jsonName}`;
    if (field instanceof protobuf.MapField) {
      if (!isPlainObject(value)) continue;
      const keys = Object.keys(value).sort();
      if (keys.length === 0) continue;
      const map: JsonObject = {};
      for (const key of keys) map[mapKeyToJson(field.keyType, key)] = singleToJson(root, field, value[key], `${fieldPath}[${key}]`, true) as JsonValue;
      out[jsonName] = map;
    } else if (field.repeated) {
      if (!Array.isArray(value) || value.length === 0) continue;
      out[jsonName] = value.map((element: unknown, i) => singleToJson(root, field, element, `${fieldPath}[${i}]`, true) as JsonValue);
    } else {
      const converted = singleToJson(root, field, value, fieldPath, tracksPresence(field));
      if (converted !== OMIT) out[jsonName] = converted;
    }
  }
  return out;
}

/** protobufjs keys decoded 64-bit map entries by an 8-character hash of the value's bits. */
function mapKeyToJson(keyType: string, key: string): string {
  if (!INT64.has(keyType) && !UINT64.has(keyType)) return key;
  return protobuf.util.longFromHash(key, UINT64.has(keyType)).toString();
}

function singleToJson(root: protobuf.Root, field: protobuf.Field, value: unknown, path: string, keepDefault: boolean): JsonValue | typeof OMIT {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return messageToJson(root, resolved, value, path);
  if (resolved instanceof protobuf.Enum) {
    const isDefault = value === 0 || (typeof value === 'string' && resolved.values[value] === 0);
    return isDefault && !keepDefault ? OMIT : (value as JsonValue);
  }
  return scalarToJson(field.type, value, keepDefault);
}

function scalarToJson(type: string, value: unknown, keepDefault: boolean): JsonValue | typeof OMIT {
  if (!keepDefault && (value === '' || value === false || value === 0 || value === '0')) return OMIT;
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  if ((INT64.has(type) || UINT64.has(type)) && typeof value !== 'string') return String(value);
  return value as JsonValue;
}

function scalarDefault(type: string): unknown {
  if (type === 'string' || type === 'bytes') return '';
  if (type === 'bool') return false;
  if (INT64.has(type) || UINT64.has(type)) return '0';
  return 0;
}

function specialToJson(root: protobuf.Root, type: protobuf.Type, object: Record<string, unknown>, path: string): JsonValue | undefined {
  const name = type.fullName;
  const wrapped = WRAPPERS[name];
  if (wrapped !== undefined) {
    const value = scalarToJson(wrapped, object['value'] ?? scalarDefault(wrapped), true);
    return value === OMIT ? null : value;
  }
  switch (name) {
    case '.google.protobuf.Any':
      return anyToJson(root, object, path);
    case '.google.protobuf.Duration':
      return formatSecondsNanos(String(object['seconds'] ?? '0'), Number(object['nanos'] ?? 0)) + 's';
    case '.google.protobuf.Timestamp': {
      const seconds = Number(object['seconds'] ?? 0);
      const nanos = Number(object['nanos'] ?? 0);
      return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '') + fractionDigits(nanos) + 'Z';
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

function anyToJson(root: protobuf.Root, object: Record<string, unknown>, path: string): JsonValue {
  const typeUrl = object['type_url'];
  if (typeof typeUrl !== 'string' || typeUrl === '') return {};
  const typeName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  const type = root.lookup(typeName);
  if (!(type instanceof protobuf.Type)) throw new ProtoJsonError(`Any type ${typeName} is not in the proto registry`, path);
  const raw = object['value'];
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'base64') : new Uint8Array();
  const inner = messageToJson(root, type, type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS), `${path}<${type.name}>`);
  if (SPECIAL_JSON.has(type.fullName)) return { '@type': typeUrl, value: inner };
  if (!isPlainObject(inner)) throw new ProtoJsonError('Any payload did not convert to an object', path);
  return { '@type': typeUrl, ...(inner as JsonObject) };
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
  return (negative ? '-' : '') + seconds.replace(/^-/, '') + fractionDigits(nanos);
}
