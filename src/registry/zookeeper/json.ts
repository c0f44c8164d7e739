/** JSON from node data, parsed only after the size check; bad JSON is reported, never thrown. */
import { diag } from '../../model/diagnostics.js';
import { zkObject, type ZkIndex } from './tree.js';

export type JsonObject = { readonly [k: string]: unknown };

/** The node's data as a JSON object, or undefined (absent, too long, or not a JSON object: reported). */
export function readJsonObject(zk: ZkIndex, path: string, what: string): JsonObject | undefined {
  const data = zk.data(path);
  if (data === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    value = undefined;
  }
  if (!isObject(value)) {
    zk.diagnostics.push(diag('MM_REGISTRY_BAD_RECORD', zkObject(path), `The node data is not a JSON object (${what} expected); the node was ignored.`));
    return undefined;
  }
  return value;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The string-valued entries of a JSON object (others dropped). */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  for (const k of Object.keys(v).sort()) {
    const x = v[k];
    if (typeof x === 'string') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 65535;
}
