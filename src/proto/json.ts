/**
 * Strict proto3 JSON mapping over protobufjs reflection: JSON -> the plain objects protobufjs'
 * `fromObject` takes, and protobufjs' `toObject` output -> canonical proto3 JSON. Anything the
 * schema does not know (unknown field, unknown enum name, wrong JSON type) throws ProtoJsonError
 * with the path to it. Used by the Wire (wire.ts).
 */
import protobuf from 'protobufjs';
import { OMIT, ProtoJsonError, SPECIAL_JSON, TO_OBJECT_OPTIONS, WRAPPERS, camelToSnake, describe, durationFromJson, formatSecondsNanos, fractionDigits, isPlainObject, scalarDefault, scalarFromJson, scalarToJson, snakeToCamel, structFromJson, structToJson, timestampFromJson, tracksPresence, valueFromJson, valueToJson, type Converted, type JsonObject, type JsonValue } from './json-values.js';

export class JsonConverter {
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
