/**
 * Protobuf binary encoding of a converted message tree (what `JsonConverter.messageFromJson`
 * returns), in protobuf-go's deterministic layout, over protobufjs' public reflection
 * (`Type.fieldsArray`, `Type.oneofsArray`, `Field.resolvedType`) and its `Writer`.
 *
 * Tree contract — the converter guarantees it, nothing here validates:
 * - a message is a plain object keyed by protobufjs field name, and a field is written exactly
 *   when its key holds a value (the converter has already dropped proto3 implicit-presence
 *   defaults and kept explicitly present ones: `optional`, oneof members, wrapper messages);
 * - scalars are numbers (32-bit integers, float, double; enums as their number), decimal strings
 *   (64-bit integers), booleans, strings and Uint8Arrays (bytes);
 * - repeated fields are arrays, maps are arrays of [key, value] entries already in protobuf-go's
 *   sorted key order.
 *
 * Layout, as protobuf-go writes it (which Aeraki and go-control-plane use, also with
 * Deterministic), so our bytes equal theirs for the same message: the fields that are not in a
 * oneof by field number, then the fields of each oneof, oneofs in declaration order (proto3
 * `optional` fields sit in synthetic oneofs and count as plain fields); packed encoding for
 * repeated numeric fields unless `[packed = false]`; map entries with both key and value written.
 */
import protobuf from 'protobufjs';

type WriteScalar = (writer: protobuf.Writer, value: unknown) => void;

type Kind = 'single' | 'message' | 'packed' | 'repeated' | 'repeatedMessage' | 'map';

/** How one field is written; built once per Type. */
interface FieldPlan {
  readonly name: string;
  readonly kind: Kind;
  /** The field's key (number and wire type) as written before each value or packed run. */
  readonly tag: number;
  /** Scalar and enum values: the element writer (a map's value writer). */
  readonly write: WriteScalar | null;
  /** Message values (a map's value type). */
  readonly type: protobuf.Type | null;
  /** Maps: key writer and the entry's key and value tags. */
  readonly writeKey: WriteScalar | null;
  readonly keyTag: number;
  readonly valueTag: number;
}

const LENGTH_DELIMITED = 2;

export class MessageEncoder {
  private readonly plans = new Map<protobuf.Type, readonly FieldPlan[]>();

  /** Encodes `tree`, a converted message of `type`. */
  encode(type: protobuf.Type, tree: Record<string, unknown>): Uint8Array {
    const writer = protobuf.Writer.create();
    this.writeMessage(writer, type, tree);
    return writer.finish();
  }

  private writeMessage(writer: protobuf.Writer, type: protobuf.Type, tree: Record<string, unknown>): void {
    for (const field of this.planOf(type)) {
      const value = tree[field.name];
      if (value === undefined) continue;
      switch (field.kind) {
        case 'single':
          field.write!(writer.uint32(field.tag), value);
          break;
        case 'message':
          this.writeNested(writer.uint32(field.tag), field.type!, value);
          break;
        case 'packed': {
          const values = value as readonly unknown[];
          if (values.length === 0) break;
          writer.uint32(field.tag).fork();
          for (const element of values) field.write!(writer, element);
          writer.ldelim();
          break;
        }
        case 'repeated':
          for (const element of value as readonly unknown[]) field.write!(writer.uint32(field.tag), element);
          break;
        case 'repeatedMessage':
          for (const element of value as readonly unknown[]) this.writeNested(writer.uint32(field.tag), field.type!, element);
          break;
        case 'map':
          for (const [key, element] of value as readonly (readonly [unknown, unknown])[]) {
            writer.uint32(field.tag).fork();
            field.writeKey!(writer.uint32(field.keyTag), key);
            writer.uint32(field.valueTag);
            if (field.type !== null) this.writeNested(writer, field.type, element);
            else field.write!(writer, element);
            writer.ldelim();
          }
          break;
      }
    }
  }

  private writeNested(writer: protobuf.Writer, type: protobuf.Type, tree: unknown): void {
    writer.fork();
    this.writeMessage(writer, type, tree as Record<string, unknown>);
    writer.ldelim();
  }

  private planOf(type: protobuf.Type): readonly FieldPlan[] {
    let plan = this.plans.get(type);
    if (plan === undefined) {
      plan = goFieldOrder(type).map(fieldPlan);
      this.plans.set(type, plan);
    }
    return plan;
  }
}

/** The fields of `type` in protobuf-go's write order (see the module comment). */
export function goFieldOrder(type: protobuf.Type): protobuf.Field[] {
  const isPlain = (field: protobuf.Field): boolean => field.partOf === null || Boolean(field.options?.['proto3_optional']);
  const byNumber = (a: protobuf.Field, b: protobuf.Field): number => a.id - b.id;
  const plain = type.fieldsArray.filter(isPlain).sort(byNumber);
  const inOneofs = type.oneofsArray.flatMap((oneof) => oneof.fieldsArray.filter((field) => !isPlain(field)).sort(byNumber));
  return [...plain, ...inOneofs];
}

function fieldPlan(field: protobuf.Field): FieldPlan {
  // Groups (proto2 / editions DELIMITED) appear in none of the schemas metamesh encodes.
  if (field.delimited) throw new Error(`${field.fullName}: group encoding is not supported`);
  const resolved = field.resolvedType;
  const type = resolved instanceof protobuf.Type ? resolved : null;
  const scalar = resolved instanceof protobuf.Enum ? 'enum' : field.type;
  const write = type === null ? scalarWriter(scalar) : null;
  const valueWireType = type === null ? wireType(scalar) : LENGTH_DELIMITED;
  const plan = { name: field.name, type, write, writeKey: null, keyTag: 0, valueTag: 0 };
  if (field instanceof protobuf.MapField) {
    const writeKey = scalarWriter(field.keyType);
    return { ...plan, kind: 'map', tag: key(field.id, LENGTH_DELIMITED), writeKey, keyTag: key(1, wireType(field.keyType)), valueTag: key(2, valueWireType) };
  }
  if (!field.repeated) return { ...plan, kind: type === null ? 'single' : 'message', tag: key(field.id, valueWireType) };
  if (type !== null) return { ...plan, kind: 'repeatedMessage', tag: key(field.id, LENGTH_DELIMITED) };
  // Only numeric (varint and fixed-width) elements can be packed.
  if (valueWireType !== LENGTH_DELIMITED && field.packed) return { ...plan, kind: 'packed', tag: key(field.id, LENGTH_DELIMITED) };
  return { ...plan, kind: 'repeated', tag: key(field.id, valueWireType) };
}

function key(fieldNumber: number, wire: number): number {
  return ((fieldNumber << 3) | wire) >>> 0;
}

function wireType(scalar: string): number {
  if (scalar === 'enum') return 0;
  const wire = (protobuf.types.basic as Record<string, number | undefined>)[scalar];
  if (wire === undefined) throw new Error(`no wire type for scalar type ${scalar}`);
  return wire;
}

/**
 * protobufjs' Writer takes 64-bit values as Long-shaped {low, high} objects. The bits come from
 * BigInt, so any decimal in the int64/uint64 range is exact (two's complement for negatives).
 */
function long(value: unknown): protobuf.Long {
  const bits = BigInt.asUintN(64, BigInt(value as string | number));
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: false } as protobuf.Long;
}

const SCALAR_WRITERS: Record<string, WriteScalar> = {
  double: (w, v) => void w.double(v as number),
  float: (w, v) => void w.float(v as number),
  int32: (w, v) => void w.int32(v as number),
  enum: (w, v) => void w.int32(v as number),
  uint32: (w, v) => void w.uint32(v as number),
  sint32: (w, v) => void w.sint32(v as number),
  fixed32: (w, v) => void w.fixed32(v as number),
  sfixed32: (w, v) => void w.sfixed32(v as number),
  int64: (w, v) => void w.int64(long(v)),
  uint64: (w, v) => void w.uint64(long(v)),
  sint64: (w, v) => void w.sint64(long(v)),
  fixed64: (w, v) => void w.fixed64(long(v)),
  sfixed64: (w, v) => void w.sfixed64(long(v)),
  bool: (w, v) => void w.bool(v as boolean),
  string: (w, v) => void w.string(v as string),
  bytes: (w, v) => void w.bytes(v as Uint8Array),
};

function scalarWriter(scalar: string): WriteScalar {
  const write = SCALAR_WRITERS[scalar];
  if (write === undefined) throw new Error(`no writer for scalar type ${scalar}`);
  return write;
}
