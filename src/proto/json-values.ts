/**
 * Building blocks of the strict proto3 JSON mapping (json.ts): the JSON types, the error, scalar
 * conversion, map key order, and the well-known types whose JSON form is not an object of their
 * fields (wrappers, Duration, Timestamp, Struct, Value). Values are built in the shape of the
 * encoder's message tree (see json.ts).
 */
import type protobuf from 'protobufjs';

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

export const WRAPPERS: Record<string, string> = {
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
export const SPECIAL_JSON = new Set([
  ...Object.keys(WRAPPERS),
  '.google.protobuf.Duration',
  '.google.protobuf.Timestamp',
  '.google.protobuf.FieldMask',
  '.google.protobuf.Struct',
  '.google.protobuf.Value',
  '.google.protobuf.ListValue',
]);

export const OMIT = Symbol('omit');
export type Converted = unknown;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export function snakeToCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

export function camelToSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

/** Whether a field keeps an explicitly set default value (oneof members, proto3 optional, proto2). */
export function tracksPresence(field: protobuf.Field): boolean {
  return field.partOf !== null || Boolean(field.options?.['proto3_optional']) || field.hasPresence === true;
}

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
export const INT64 = new Set(['int64', 'sint64', 'sfixed64']);
export const UINT64 = new Set(['uint64', 'fixed64']);

export function scalarFromJson(type: string, value: unknown, path: string, keepDefault: boolean): Converted {
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

const DURATION_RE = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

export function durationFromJson(json: unknown, path: string): Record<string, unknown> {
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

export function timestampFromJson(json: unknown, path: string): Record<string, unknown> {
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

export function structFromJson(json: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(json)) throw new ProtoJsonError(`expected an object (Struct), got ${describe(json)}`, path);
  const keys = Object.keys(json);
  if (keys.length === 0) return {};
  const fields = keys.sort(compareUtf8).map((key) => [key, valueFromJson(json[key], `${path}.${key}`)]);
  return { fields };
}

export function valueFromJson(json: unknown, path: string): Record<string, unknown> {
  if (json === null) return { nullValue: 0 }; // google.protobuf.NullValue.NULL_VALUE
  if (typeof json === 'number') return { numberValue: json };
  if (typeof json === 'string') return { stringValue: json };
  if (typeof json === 'boolean') return { boolValue: json };
  if (Array.isArray(json)) return { listValue: { values: json.map((v: unknown, i) => valueFromJson(v, `${path}[${i}]`)) } };
  if (isPlainObject(json)) return { structValue: structFromJson(json, path) };
  throw new ProtoJsonError(`not a JSON value: ${describe(json)}`, path);
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * String order of protobuf-go's deterministic map marshalling: by UTF-8 bytes. JavaScript's `<`
 * compares UTF-16 code units, which agrees except between a surrogate pair (U+10000 and above)
 * and U+E000..U+FFFF, so only strings with surrogates take the byte comparison.
 */
export function compareUtf8(a: string, b: string): number {
  if (SURROGATE.test(a) || SURROGATE.test(b)) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** protobuf-go's map key order for keys as `JsonConverter` types them: false < true, integers by value, strings by UTF-8 bytes. */
export function mapKeyOrder(keyType: string): (a: unknown, b: unknown) => number {
  if (keyType === 'string') return (a, b) => compareUtf8(a as string, b as string);
  if (keyType === 'bool') return (a, b) => Number(a) - Number(b);
  if (INT64.has(keyType) || UINT64.has(keyType)) return (a, b) => compareBigInts(BigInt(a as string), BigInt(b as string));
  return (a, b) => (a as number) - (b as number);
}

function compareBigInts(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
