/**
 * Strict proto3 JSON mapping over protobufjs reflection: proto3 JSON -> the message tree the
 * encoder (encode.ts) writes. Anything the schema does not know (unknown field, unknown enum name,
 * wrong JSON type, out-of-range number) throws ProtoJsonError with the path to it. Used by the
 * Wire (wire.ts).
 *
 * The tree it builds is the encoder's contract: fields keyed by protobufjs field name, present
 * exactly when they are to be written (proto3 implicit-presence defaults dropped, explicit
 * presence kept), enums as numbers, 64-bit integers as decimal strings, bytes as Uint8Array, maps
 * as [key, value] entries with typed keys sorted as protobuf-go's deterministic marshalling sorts
 * them, and Any payloads already encoded.
 */
import protobuf from 'protobufjs';
import type { MessageEncoder } from './encode.js';
import { OMIT, ProtoJsonError, SPECIAL_JSON, WRAPPERS, camelToSnake, mapKeyOrder, describe, durationFromJson, isPlainObject, scalarFromJson, snakeToCamel, structFromJson, timestampFromJson, tracksPresence, valueFromJson, type Converted } from './json-values.js';

export class JsonConverter {
  private readonly nameIndex = new Map<protobuf.Type, Map<string, protobuf.Field>>();

  constructor(
    private readonly root: protobuf.Root,
    /** Encodes Any payloads, which the tree carries as bytes. */
    private readonly encoder: MessageEncoder,
  ) {}

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
      const keys = Object.keys(value);
      if (keys.length === 0) return OMIT;
      const entries = keys.map((key): [unknown, unknown] => {
        const entryPath = `${path}[${JSON.stringify(key)}]`;
        const element = value[key];
        if (element === null || element === undefined) throw new ProtoJsonError('null map value', entryPath);
        return [this.mapKeyFromJson(field.keyType, key, entryPath), this.singleFromJson(field, element, entryPath, true)];
      });
      const order = mapKeyOrder(field.keyType);
      return entries.sort((a, b) => order(a[0], b[0]));
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

  /** A map key as the tree holds it: string, boolean, number (32-bit) or decimal string (64-bit). */
  private mapKeyFromJson(keyType: string, key: string, path: string): unknown {
    if (keyType === 'string') return key;
    if (keyType === 'bool') {
      if (key !== 'true' && key !== 'false') throw new ProtoJsonError('expected a bool map key', path);
      return key === 'true';
    }
    if (!/^-?\d+$/.test(key)) throw new ProtoJsonError(`expected an integer (${keyType}) map key`, path);
    return scalarFromJson(keyType, key, path, true);
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
      return number;
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
    const bytes = this.encoder.encode(type, this.messageFromJson(type, body, `${path}<${type.name}>`));
    return bytes.length > 0 ? { type_url: typeUrl, value: bytes } : { type_url: typeUrl };
  }

  private lookupAnyType(typeUrl: string, path: string): protobuf.Type {
    const typeName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
    const found = this.root.lookup(typeName);
    if (!(found instanceof protobuf.Type)) throw new ProtoJsonError(`Any type ${typeName} is not in the proto registry`, path);
    return found;
  }
}
