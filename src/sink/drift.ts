/**
 * Whether a live object needs writing: the content metamesh owns compared with what it would apply,
 * the way server-side apply merges (so a write that changes nothing is never planned, and one that
 * would change something always is):
 *
 * - Labels and annotations in the body must be on the live object with the same value; others'
 *   labels and annotations are theirs and are ignored.
 * - spec: maps are compared key by key, only the keys in the body (fields another manager added
 *   are theirs, and an apply would not remove them anyway); lists and scalars are compared whole
 *   (Istio's CRDs declare no list keys, so a list is atomic). A missing map equals an empty one.
 * - Fields metamesh applied before and no longer sets (read from metadata.managedFields, the
 *   entry of FIELD_MANAGER with operation Apply) must be removed, which takes a write. Without
 *   managedFields (an informer that strips them) such a field stays until the next change.
 * Server-populated fields (status, uid, resourceVersion, generation, timestamps, managedFields)
 * are never compared.
 */
import { canonicalJson } from '../util/canonical.js';
import type { ApplyBody } from './apply-body.js';
import { FIELD_MANAGER, type LiveObject } from './objects.js';

/** The fields that differ, as paths (`spec.configPatches`, `metadata.labels["a/b"]`), sorted; empty = up to date. */
export function drift(body: ApplyBody, live: LiveObject, fieldManager: string = FIELD_MANAGER): string[] {
  const out: string[] = [];
  for (const field of ['labels', 'annotations'] as const) {
    const have = live.metadata[field] ?? {};
    for (const [k, v] of Object.entries(body.metadata[field] ?? {})) if (have[k] !== v) out.push(metaPath(field, k));
  }
  if (body.spec !== undefined) compare(body.spec, live.spec, 'spec', out);
  for (const path of ownedLeaves(live, fieldManager)) {
    if (!present(body, path)) out.push(`${format(path)} (no longer set by metamesh)`);
  }
  return [...new Set(out)].sort();
}

function isMap(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function compare(want: unknown, have: unknown, path: string, out: string[]): void {
  if (isMap(want)) {
    const h = isMap(have) ? have : have === undefined ? {} : undefined;
    if (h === undefined) {
      out.push(path);
      return;
    }
    for (const [k, v] of Object.entries(want)) if (v !== undefined) compare(v, h[k], `${path}.${k}`, out);
    return;
  }
  if (canonicalJson(want) !== canonicalJson(have)) out.push(path);
}

/**
 * The leaf field paths metamesh's last apply owns (labels, annotations and spec only), from the
 * FieldsV1 trees of its Apply entries: `{"f:spec": {"f:hosts": {}}}` → ["spec", "hosts"].
 */
export function ownedLeaves(live: LiveObject, fieldManager: string = FIELD_MANAGER): string[][] {
  const leaves: string[][] = [];
  for (const e of live.metadata.managedFields ?? []) {
    if (e.manager !== fieldManager || e.operation !== 'Apply' || (e.subresource ?? '') !== '' || !isMap(e.fieldsV1)) continue;
    walk(e.fieldsV1, [], leaves);
  }
  return leaves.filter((p) => p[0] === 'spec' || (p[0] === 'metadata' && (p[1] === 'labels' || p[1] === 'annotations') && p.length === 3));
}

function walk(node: Record<string, unknown>, path: string[], out: string[][]): void {
  const fields = Object.keys(node).filter((k) => k.startsWith('f:'));
  // A field with no sub-fields is a leaf (a scalar, an atomic list, or a list with keyed items).
  if (fields.length === 0) {
    if (path.length > 0) out.push(path);
    return;
  }
  for (const k of fields) {
    const child = node[k];
    walk(isMap(child) ? child : {}, [...path, k.slice(2)], out);
  }
}

function present(body: ApplyBody, path: readonly string[]): boolean {
  let node: unknown = body;
  for (const p of path) {
    if (!isMap(node) || !Object.hasOwn(node, p)) return false;
    node = node[p];
  }
  return true;
}

function metaPath(field: string, key: string): string {
  return `metadata.${field}[${JSON.stringify(key)}]`;
}

function format(path: readonly string[]): string {
  if (path[0] === 'metadata' && path.length === 3) return metaPath(path[1]!, path[2]!);
  return path.join('.');
}
