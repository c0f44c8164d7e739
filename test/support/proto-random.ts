/**
 * Random, schema-valid proto3 JSON for any message type of a protobufjs Root, driven by a seeded
 * PRNG, for encoder round-trip and byte-equality tests. Every field kind is exercised: scalars of
 * each type (defaults included, so implicit presence is tested), enums by name and by number,
 * repeated and packed fields, maps, oneofs (at most one member set), proto3 `optional`, nested
 * messages up to a depth limit, and the well-known types with their special JSON forms.
 *
 * String map keys (and Struct keys) are never integer-like, integer map keys are never negative and
 * bool map keys are only `true`: the byte fixtures made with this generator predate the fix for
 * those cases (JavaScript object key order is not protobuf-go's sorted key order; a `false` key was
 * written as true), which have their own tests.
 */
import protobuf from 'protobufjs';
import { WRAPPERS } from '../../src/proto/json-values.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Rnd = () => number;

/** Any payload types the generator may pick (must exist in the Root). */
const ANY_TYPES = [
  'udpa.type.v1.TypedStruct',
  'xds.type.v3.TypedStruct',
  'google.protobuf.Duration',
  'google.protobuf.UInt32Value',
  'aeraki.meta_protocol_proxy.filters.local_ratelimit.v1alpha.LocalRateLimit',
  'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration',
];

export interface RandomJsonOptions {
  /** Deepest message nesting generated (the top message is depth 0). */
  readonly maxDepth: number;
  /** Chance that a given non-oneof field is set, at depth 0 (halved at every level below). */
  readonly fieldChance: number;
}

export function randomJson(type: protobuf.Type, rnd: Rnd, options: RandomJsonOptions): { [key: string]: Json } {
  const gen = new Generator(type.root as protobuf.Root, rnd, options);
  return gen.message(type, 0) as { [key: string]: Json };
}

class Generator {
  constructor(
    private readonly root: protobuf.Root,
    private readonly rnd: Rnd,
    private readonly options: RandomJsonOptions,
  ) {}

  private int(n: number): number {
    return Math.floor(this.rnd() * n);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  private word(): string {
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    let s = letters[this.int(26)]!;
    for (let i = this.int(8); i > 0; i--) s += this.pick([...letters, '-', '.', '_', '0', '9', 'é', '\u4e2d']);
    return s;
  }

  message(type: protobuf.Type, depth: number): Json {
    const special = this.special(type.fullName, depth);
    if (special !== undefined) return special;
    const out: { [key: string]: Json } = {};
    if (depth > this.options.maxDepth) return out;
    const chance = this.options.fieldChance / 2 ** depth;
    const chosenMembers = new Set<protobuf.Field>();
    for (const oneof of type.oneofsArray) {
      const members = oneof.fieldsArray;
      if (members.length > 0 && this.rnd() < Math.max(chance, 0.3)) chosenMembers.add(this.pick(members));
    }
    for (const field of type.fieldsArray) {
      if (field.partOf !== null) {
        if (!chosenMembers.has(field)) continue;
      } else if (this.rnd() >= chance) {
        continue;
      }
      const value = this.field(field, depth);
      if (value !== undefined) out[this.rnd() < 0.8 ? field.name : snake(field.name)] = value;
    }
    return out;
  }

  private field(field: protobuf.Field, depth: number): Json | undefined {
    if (field.resolvedType instanceof protobuf.Type && depth + 1 > this.options.maxDepth && field.partOf === null) return undefined;
    if (field instanceof protobuf.MapField) {
      const out: { [key: string]: Json } = {};
      for (let i = this.int(4); i > 0; i--) out[this.mapKey(field.keyType)] = this.single(field, depth);
      return out;
    }
    if (field.repeated) return Array.from({ length: this.int(4) }, () => this.single(field, depth));
    return this.single(field, depth);
  }

  private mapKey(keyType: string): string {
    if (keyType === 'string') return this.word();
    if (keyType === 'bool') return 'true';
    return String(this.int(1000));
  }

  private single(field: protobuf.Field, depth: number): Json {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) return this.message(resolved, depth + 1);
    if (resolved instanceof protobuf.Enum) {
      const names = Object.keys(resolved.values);
      const name = this.pick(names);
      return this.rnd() < 0.7 ? name : resolved.values[name]!;
    }
    return this.scalar(field.type);
  }

  scalar(type: string): Json {
    const r = this.rnd();
    switch (type) {
      case 'string':
        return r < 0.15 ? '' : this.word();
      case 'bool':
        return r < 0.5;
      case 'bytes':
        return Buffer.from(Array.from({ length: this.int(6) }, () => this.int(256))).toString(r < 0.5 ? 'base64' : 'base64url');
      case 'double':
      case 'float':
        return r < 0.15 ? 0 : r < 0.2 ? this.pick(['NaN', 'Infinity', '-Infinity']) : type === 'float' ? Math.fround((this.rnd() - 0.5) * 1e6) : (this.rnd() - 0.5) * 1e12;
      case 'int32':
      case 'sint32':
      case 'sfixed32':
        return r < 0.15 ? 0 : r < 0.25 ? this.pick([-2147483648, 2147483647, -1]) : this.int(200000) - 100000;
      case 'uint32':
      case 'fixed32':
        return r < 0.15 ? 0 : r < 0.25 ? 4294967295 : this.int(300000);
      case 'int64':
      case 'sint64':
      case 'sfixed64':
        return r < 0.15 ? 0 : r < 0.3 ? this.pick(['-9223372036854775808', '9223372036854775807', '-1']) : r < 0.6 ? String(this.int(1e9) - 5e8) : this.int(1e6) - 5e5;
      case 'uint64':
      case 'fixed64':
        return r < 0.15 ? '0' : r < 0.3 ? '18446744073709551615' : r < 0.6 ? String(this.int(1e9)) : this.int(1e6);
      default:
        throw new Error(`no generator for scalar type ${type}`);
    }
  }

  private special(fullName: string, depth: number): Json | undefined {
    switch (fullName) {
      case '.google.protobuf.Duration':
        return `${this.pick(['', '-'])}${this.int(100000)}${this.pick(['', '.5', '.000001', '.123456789'])}s`;
      case '.google.protobuf.Timestamp':
        return this.pick(['1970-01-01T00:00:00Z', '2024-02-29T12:34:56.789Z', '2001-09-09T01:46:40.000000001Z']);
      case '.google.protobuf.FieldMask':
        return this.pick(['', 'a', 'fooBar.baz,qux']);
      case '.google.protobuf.Struct':
        return this.struct(depth);
      case '.google.protobuf.Value':
        return this.value(depth);
      case '.google.protobuf.ListValue':
        return Array.from({ length: this.int(3) }, () => this.value(depth + 1));
      case '.google.protobuf.Any':
        return this.any(depth);
    }
    const wrapped = WRAPPERS[fullName];
    return wrapped === undefined ? undefined : this.scalar(wrapped);
  }

  private struct(depth: number): { [key: string]: Json } {
    const out: { [key: string]: Json } = {};
    for (let i = this.int(4); i > 0; i--) out[this.word()] = this.value(depth + 1);
    return out;
  }

  private value(depth: number): Json {
    const kinds = depth > this.options.maxDepth ? 4 : 6;
    switch (this.int(kinds)) {
      case 0:
        return null;
      case 1:
        return this.rnd() < 0.5;
      case 2:
        return this.word();
      case 3:
        return this.int(1000) - 500 + (this.rnd() < 0.5 ? 0.25 : 0);
      case 4:
        return this.struct(depth);
      default:
        return Array.from({ length: this.int(3) }, () => this.value(depth + 1));
    }
  }

  private any(depth: number): Json {
    if (this.rnd() < 0.1) return {};
    const typeName = this.pick(ANY_TYPES);
    const type = this.root.lookupType(typeName);
    const body = this.message(type, depth + 1);
    const typeUrl = 'type.googleapis.com/' + typeName;
    if (type.fullName.startsWith('.google.protobuf.')) return { '@type': typeUrl, value: body };
    return { '@type': typeUrl, ...(body as { [key: string]: Json }) };
  }
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}
