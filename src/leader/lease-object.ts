/**
 * The Lease object as the API sees it: reading a GET's answer into a LeaseObservation, and the
 * body of a create (POST) or update (PUT, with the resourceVersion read as the compare-and-swap
 * precondition). Leases are written whole, not server-side applied: the update must fail if anyone
 * wrote since the read.
 */
import type { Decision, LeaseObservation, LeaseSpec } from './lease.js';

export interface LeaseRef {
  readonly namespace: string;
  readonly name: string;
}

export interface LeaseBody {
  readonly apiVersion: 'coordination.k8s.io/v1';
  readonly kind: 'Lease';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion?: string };
  readonly spec: LeaseSpec;
}

function isMap(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** A Lease object read from the API (undefined: 404). Malformed spec fields are left out. */
export function readLease(raw: unknown): LeaseObservation {
  if (!isMap(raw)) return { exists: false };
  const meta = isMap(raw.metadata) ? raw.metadata : {};
  const s = isMap(raw.spec) ? raw.spec : {};
  const spec: Record<string, string | number> = {};
  for (const k of ['holderIdentity', 'acquireTime', 'renewTime'] as const) if (typeof s[k] === 'string') spec[k] = s[k];
  for (const k of ['leaseDurationSeconds', 'leaseTransitions'] as const) if (typeof s[k] === 'number' && Number.isFinite(s[k])) spec[k] = s[k];
  return { exists: true, spec: spec as LeaseSpec, resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '' };
}

/** The body to send for a create or update decision (undefined for wait). */
export function leaseBody(ref: LeaseRef, decision: Decision): LeaseBody | undefined {
  if (decision.kind === 'wait') return undefined;
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: ref.name, namespace: ref.namespace, ...(decision.kind === 'update' ? { resourceVersion: decision.resourceVersion } : {}) },
    spec: decision.spec,
  };
}
