/**
 * Kubernetes API objects → the documents the input stage reads (the same SourceDocument a file
 * gives), under the same input limits. Pure.
 *
 * Only what the stages read is kept: apiVersion, kind, metadata (name, namespace, labels,
 * annotations, generation, creationTimestamp) and spec. Status, managedFields, resourceVersion and
 * the other fields the API server maintains are dropped, so that a status write or a re-apply that
 * changes nothing the pipeline reads is not a change (kubectl's last-applied-configuration
 * annotation, a copy of the object, is dropped for the same reason).
 *
 * Limits: an object is one document. It may not be larger, as JSON, than `maxFileBytes` nor nest
 * deeper than `maxDepth` (JSON has no aliases, so `maxExpandedBytes` is its size too); the number
 * of objects is not limited per kind (a cluster may well hold 10,000 ServiceEntries).
 */
import { diag, type Diagnostic } from '../../model/diagnostics.js';
import type { InputLimits } from '../../input/limits.js';
import type { SourceDocument } from '../../input/read.js';
import { isPlainObject } from '../../util/decode.js';

const KEPT_METADATA = ['name', 'namespace', 'labels', 'annotations', 'generation', 'creationTimestamp'] as const;
const DROPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

/** `namespace/name` of an API object, or undefined when it has no name. */
export function objectName(obj: unknown): string | undefined {
  if (!isPlainObject(obj) || !isPlainObject(obj.metadata)) return undefined;
  const { name, namespace } = obj.metadata;
  if (typeof name !== 'string' || name === '') return undefined;
  return `${typeof namespace === 'string' ? namespace : ''}/${name}`;
}

/** The object's resourceVersion ('' when it has none). */
export function resourceVersionOf(obj: unknown): string {
  if (!isPlainObject(obj) || !isPlainObject(obj.metadata)) return '';
  const rv = obj.metadata.resourceVersion;
  return typeof rv === 'string' ? rv : '';
}

/** Where a document read from the API came from, in messages: `kubernetes ServiceEntry ns/name`. */
export function objectSource(kind: string, name: string): string {
  return `kubernetes ${kind} ${name}`;
}

export type Converted = { readonly document: SourceDocument } | { readonly refused: Diagnostic };

/**
 * The document for `obj`, an object of `kind` read at `apiVersion` (list items of the core group
 * carry no apiVersion and kind of their own), or why it is refused (over a limit). `obj` must have
 * a name (objectName).
 */
export function toDocument(kind: string, apiVersion: string, obj: Record<string, unknown>, limits: Pick<InputLimits, 'maxFileBytes' | 'maxDepth'>): Converted {
  const name = objectName(obj) ?? '?';
  const source = objectSource(kind, name);
  const ref = `${kind} ${name.startsWith('/') ? name.slice(1) : name}`;
  const bytes = Buffer.byteLength(JSON.stringify(obj), 'utf8');
  if (bytes > limits.maxFileBytes) {
    return { refused: diag('MM_INPUT_TOO_LARGE', ref, `${source} is ${bytes} bytes as JSON, more than ${limits.maxFileBytes} bytes (the limit per object, --max-file-bytes); it was not read.`) };
  }
  if (depthOver(obj, limits.maxDepth)) {
    return { refused: diag('MM_INPUT_TOO_DEEP', ref, `${source} nests mappings and sequences more than ${limits.maxDepth} levels deep (the limit, --max-depth); it was not read.`) };
  }
  const meta = obj.metadata as Record<string, unknown>;
  const metadata: Record<string, unknown> = {};
  for (const k of KEPT_METADATA) if (meta[k] !== undefined) metadata[k] = meta[k];
  if (isPlainObject(metadata.annotations)) {
    const kept = Object.entries(metadata.annotations).filter(([k]) => !DROPPED_ANNOTATIONS.has(k));
    if (kept.length === 0) delete metadata.annotations;
    else metadata.annotations = Object.fromEntries(kept);
  }
  const value: Record<string, unknown> = { apiVersion, kind, metadata };
  if (obj.spec !== undefined) value.spec = obj.spec;
  return { document: { source, value } };
}

/** Whether `v` nests mappings and sequences more than `max` levels deep. Iterative: no stack risk. */
export function depthOver(v: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[v, 0]];
  while (stack.length > 0) {
    const [node, level] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (level >= max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, level + 1]);
    }
  }
  return false;
}
