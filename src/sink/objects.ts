/**
 * The plain-data model of the Kubernetes apply sink: the objects metamesh wants (desired), the
 * objects the cluster holds (live, as a list or watch returns them), and how metamesh marks what it
 * owns. The sink's pure parts (plan.ts, apply-body.ts, drift.ts, desired.ts) work only on these; the
 * effectful applier lists, watches and writes them.
 *
 * Ownership, two kinds:
 * - **object**: metamesh generated the whole object (EnvoyFilters, VirtualServices, ServiceEntries
 *   from registries). It carries `app.kubernetes.io/managed-by: metamesh` and
 *   `metamesh.io/instance: <instance>`; metamesh creates, updates and deletes it.
 * - **fields**: metamesh adds fields to an object someone else owns (a user's ServiceEntry given a
 *   virtual IP: `spec.addresses` and an annotation). It carries the annotation
 *   `metamesh.io/amended-by: <instance>`; metamesh never creates or deletes it, and withdraws only
 *   its own fields (a server-side apply of an empty body under its field manager).
 * The instance names one installation, so two metamesh installations in one cluster never delete or
 * overwrite each other's objects.
 */
import { MANAGED_BY, MANAGED_BY_LABEL, type OutputObject } from '../model/output.js';

export { MANAGED_BY, MANAGED_BY_LABEL };

/** Server-side apply field manager of every write metamesh makes (objects and status). */
export const FIELD_MANAGER = 'metamesh';
/** Which metamesh installation generated an object (value: the instance name). */
export const INSTANCE_LABEL = 'metamesh.io/instance';
/** On an object metamesh amended but does not own (value: the instance name). */
export const AMENDED_BY_ANNOTATION = 'metamesh.io/amended-by';
export const DEFAULT_INSTANCE = 'metamesh';

export interface SinkIdentity {
  /** A label value (at most 63 of letters, digits, `-`, `_`, `.`); the Helm release name, say. */
  readonly instance: string;
}

export type Ownership = 'object' | 'fields';

/** One object metamesh wants in the cluster, with what of it metamesh owns. */
export interface DesiredObject {
  readonly ownership: Ownership;
  /** For `fields`: only the fields metamesh sets (metadata.name/namespace identify the target). */
  readonly object: OutputObject;
}

/** One entry of `metadata.managedFields`. */
export interface ManagedFieldsEntry {
  readonly manager?: string;
  readonly operation?: string;
  readonly apiVersion?: string;
  readonly subresource?: string;
  readonly fieldsType?: string;
  readonly fieldsV1?: Readonly<Record<string, unknown>>;
  readonly time?: string;
}

export interface LiveMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly creationTimestamp?: string;
  /** Set while the object is being deleted (finalizers pending). */
  readonly deletionTimestamp?: string;
  /** Optional: an informer may strip them to save memory; the plan then skips what needs them. */
  readonly managedFields?: readonly ManagedFieldsEntry[];
  readonly [other: string]: unknown;
}

/** An object as the API server returns it. */
export interface LiveObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: LiveMeta;
  readonly spec?: unknown;
  readonly status?: unknown;
  readonly [other: string]: unknown;
}

/** The API group of an apiVersion (`networking.istio.io/v1` → `networking.istio.io`, `v1` → ``). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * The identity of an object across API versions: group, kind, namespace and name
 * (`networking.istio.io/EnvoyFilter istio-system/x`). A ServiceEntry read as v1beta1 and written
 * as v1 is one object.
 */
export function objectKey(o: { readonly apiVersion: string; readonly kind: string; readonly metadata: { readonly name: string; readonly namespace?: string | undefined } }): string {
  const ns = o.metadata.namespace ? `${o.metadata.namespace}/` : '';
  return `${groupOf(o.apiVersion)}/${o.kind} ${ns}${o.metadata.name}`;
}

/** `Kind namespace/name`, the object of a diagnostic. */
export function objectRef(o: { readonly kind: string; readonly metadata: { readonly name: string; readonly namespace?: string | undefined } }): string {
  return o.metadata.namespace ? `${o.kind} ${o.metadata.namespace}/${o.metadata.name}` : `${o.kind} ${o.metadata.name}`;
}

export type Owner =
  | { readonly kind: 'ours' }
  /** Labelled managed-by metamesh without an instance: applied by hand from `metamesh generate`. */
  | { readonly kind: 'unclaimed' }
  | { readonly kind: 'other-instance'; readonly instance: string }
  | { readonly kind: 'amended'; readonly instance: string }
  | { readonly kind: 'foreign' };

/** Who owns a live object, as its labels and annotations say. */
export function ownerOf(o: LiveObject, identity: SinkIdentity): Owner {
  const labels = o.metadata.labels ?? {};
  if (labels[MANAGED_BY_LABEL] === MANAGED_BY) {
    const instance = labels[INSTANCE_LABEL];
    if (instance === undefined) return { kind: 'unclaimed' };
    return instance === identity.instance ? { kind: 'ours' } : { kind: 'other-instance', instance };
  }
  const amendedBy = o.metadata.annotations?.[AMENDED_BY_ANNOTATION];
  if (amendedBy !== undefined) return { kind: 'amended', instance: amendedBy };
  return { kind: 'foreign' };
}

/**
 * Whether an object the Kubernetes source reads is metamesh's own output (owned by this instance),
 * to be left out of the pipeline's input: a ServiceEntry metamesh generated from a registry comes
 * back through the informer, but its source of truth is the registry.
 */
export function isOwnOutput(o: LiveObject, identity: SinkIdentity): boolean {
  return ownerOf(o, identity).kind === 'ours';
}
