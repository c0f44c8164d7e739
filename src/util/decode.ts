/**
 * A small typed decoder for untrusted YAML/JSON values. A decoder checks the type of a value and
 * returns it typed, or returns `undefined` after recording a diagnostic: bad input never throws.
 * Decoders check types only; what a valid resource must contain is src/validate's business.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';

export interface DecodeContext {
  /** The resource being decoded, as `Kind namespace/name`. */
  readonly object: string;
  readonly diagnostics: Diagnostic[];
}

export type Decoder<T> = (value: unknown, path: string, ctx: DecodeContext) => T | undefined;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function wrongType(ctx: DecodeContext, path: string, want: string, got: unknown): undefined {
  ctx.diagnostics.push(
    diag('MM_INPUT_FIELD_TYPE', ctx.object, `${path} must be ${want}, not ${typeName(got)}; it was ignored.`),
  );
  return undefined;
}

export const str: Decoder<string> = (v, path, ctx) =>
  typeof v === 'string' ? v : wrongType(ctx, path, 'a string', v);

export const bool: Decoder<boolean> = (v, path, ctx) =>
  typeof v === 'boolean' ? v : wrongType(ctx, path, 'true or false', v);

/** A whole number in [min, max]. */
export function int(min = 0, max = Number.MAX_SAFE_INTEGER): Decoder<number> {
  return (v, path, ctx) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? v
      : wrongType(ctx, path, `a whole number from ${min} to ${max}`, v);
}

export const num: Decoder<number> = (v, path, ctx) =>
  typeof v === 'number' && Number.isFinite(v) ? v : wrongType(ctx, path, 'a number', v);

/** A list; invalid items are dropped one by one. */
export function list<T>(item: Decoder<T>): Decoder<T[]> {
  return (v, path, ctx) => {
    if (!Array.isArray(v)) return wrongType(ctx, path, 'a list', v);
    const out: T[] = [];
    v.forEach((x, i) => {
      const d = item(x, `${path}[${i}]`, ctx);
      if (d !== undefined) out.push(d);
    });
    return out;
  };
}

/** A mapping from string keys to values of one type; invalid entries are dropped. */
export function map<T>(item: Decoder<T>): Decoder<Record<string, T>> {
  return (v, path, ctx) => {
    if (!isPlainObject(v)) return wrongType(ctx, path, 'a mapping', v);
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) {
      const d = item(x, `${path}.${k}`, ctx);
      if (d !== undefined) out[k] = d;
    }
    return out;
  };
}

/** `null` is kept as `null` (meaningful in some Aeraki fields, e.g. a null StringMatch). */
export function nullable<T>(d: Decoder<T>): Decoder<T | null> {
  return (v, path, ctx) => (v === null ? null : d(v, path, ctx));
}

export function oneOf<T extends string>(...values: T[]): Decoder<T> {
  return (v, path, ctx) =>
    typeof v === 'string' && (values as string[]).includes(v)
      ? (v as T)
      : wrongType(ctx, path, `one of ${values.join(', ')}`, v);
}

/** A string or a whole number (Kubernetes IntOrString). */
export const intOrString: Decoder<number | string> = (v, path, ctx) =>
  typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))
    ? v
    : wrongType(ctx, path, 'a whole number or a string', v);

type Fields<T> = { [K in keyof T]-?: Decoder<NonNullable<T[K]> | Extract<T[K], null>> };

/**
 * A mapping with known fields. `open` objects keep unknown fields untouched (for Istio specs whose
 * other fields metamesh passes through); closed ones drop them with a warning.
 */
export function object<T extends object>(fields: Fields<T>, open = false, required: readonly (keyof T & string)[] = []): Decoder<T> {
  return (v, path, ctx) => {
    if (!isPlainObject(v)) return wrongType(ctx, path, 'a mapping', v);
    const decoded = decodeFields(fields, open, v, path, ctx);
    const missing = required.filter((k) => decoded[k] === undefined);
    if (missing.length > 0) {
      ctx.diagnostics.push(
        diag('MM_INPUT_FIELD_TYPE', ctx.object, `${path} has no valid ${missing.join(', ')}; the whole entry was ignored.`),
      );
      return undefined;
    }
    return decoded as T;
  };
}

function decodeFields(fields: object, open: boolean, v: Record<string, unknown>, path: string, ctx: DecodeContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const field = (fields as Record<string, Decoder<unknown> | undefined>)[k];
    if (field) {
      if (x === undefined) continue;
      const d = field(x, path ? `${path}.${k}` : k, ctx);
      if (d !== undefined) out[k] = d;
    } else if (open) {
      out[k] = x;
    } else {
      ctx.diagnostics.push(
        diag('MM_INPUT_UNKNOWN_FIELD', ctx.object, `${path ? `${path}.` : ''}${k} is not a known field; it was ignored.`),
      );
    }
  }
  return out;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
