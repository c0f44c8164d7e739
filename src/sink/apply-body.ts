/**
 * Server-side apply bodies: exactly the fields metamesh owns of an object, nothing the server
 * populates. An apply body is a declaration, not a diff: every field in it becomes metamesh's
 * (under FIELD_MANAGER), and every field metamesh owned before but leaves out is removed (unless
 * another manager owns it too). So a body must always be complete for what metamesh owns.
 *
 * Kept: apiVersion, kind, metadata.name/namespace/labels/annotations, spec; and, when given,
 * metadata.resourceVersion as a precondition (the write fails with 409 Conflict if the object
 * changed since it was read, and the applier plans again). Never: status, uid, generation,
 * managedFields, creationTimestamp, finalizers, ownerReferences.
 */
import { sortKeys } from '../util/canonical.js';
import { AMENDED_BY_ANNOTATION, INSTANCE_LABEL, MANAGED_BY, MANAGED_BY_LABEL, type DesiredObject, type LiveObject, type SinkIdentity } from './objects.js';

export interface ApplyMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly resourceVersion?: string;
}

export interface ApplyBody {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ApplyMeta;
  readonly spec?: Readonly<Record<string, unknown>>;
}

/**
 * The body to apply for a desired object: for `object` ownership with the ownership labels
 * (managed-by, instance) set; for `fields` with the amended-by annotation. Keys are sorted so the
 * body is byte-identical for equal content.
 */
export function applyBody(d: DesiredObject, identity: SinkIdentity): ApplyBody {
  const o = d.object;
  const labels: Record<string, string> = { ...o.metadata.labels };
  const annotations: Record<string, string> = { ...o.metadata.annotations };
  if (d.ownership === 'object') {
    labels[MANAGED_BY_LABEL] = MANAGED_BY;
    labels[INSTANCE_LABEL] = identity.instance;
  } else {
    annotations[AMENDED_BY_ANNOTATION] = identity.instance;
  }
  return sortKeys({
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: {
      name: o.metadata.name,
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    ...(d.ownership === 'object' || Object.keys(o.spec).length > 0 ? { spec: o.spec } : {}),
  });
}

/**
 * The body that withdraws everything metamesh set on an object it amended: names only, so every
 * field metamesh owned (and no one else does) is removed, the amended-by annotation included.
 */
export function releaseBody(live: LiveObject): ApplyBody {
  return {
    apiVersion: live.apiVersion,
    kind: live.kind,
    metadata: { name: live.metadata.name, ...(live.metadata.namespace ? { namespace: live.metadata.namespace } : {}) },
  };
}

/** The body with the optimistic-lock precondition of the object it replaces. */
export function withResourceVersion(body: ApplyBody, resourceVersion: string | undefined): ApplyBody {
  if (resourceVersion === undefined) return body;
  return { ...body, metadata: { ...body.metadata, resourceVersion } };
}
