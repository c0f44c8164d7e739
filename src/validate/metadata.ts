/**
 * Object names as the Kubernetes API server checks them for Istio's custom resources: the name a
 * DNS-1123 subdomain, the namespace a DNS-1123 label (both lowercase).
 */
import type { ObjectMeta } from '../model/resources.js';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function isSubdomain(s: string): boolean {
  return s.length <= 253 && s.split('.').every((l) => l.length <= 63 && LABEL.test(l));
}

export interface FieldProblem {
  readonly field: string;
  readonly text: string;
}

/** What the API server would refuse in the object's name and namespace. */
export function metadataProblems(meta: ObjectMeta): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (!isSubdomain(meta.name)) {
    out.push({ field: 'metadata.name', text: `${JSON.stringify(meta.name)} is not a DNS subdomain (lowercase letters, digits, "-" and ".", at most 253 characters); rename the object` });
  }
  if (meta.namespace.length > 63 || !LABEL.test(meta.namespace)) {
    out.push({ field: 'metadata.namespace', text: `${JSON.stringify(meta.namespace)} is not a namespace name (a lowercase DNS label of at most 63 characters); fix it` });
  }
  return out;
}
