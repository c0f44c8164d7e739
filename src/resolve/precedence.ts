/**
 * Which of several conflicting resources applies: the oldest (Istio's rule), then the first by
 * `namespace/name`. Resources without a creation timestamp (files) count as oldest.
 */
import { cmp } from '../model/diagnostics.js';

export interface Aged {
  readonly creationTimestamp: string;
  readonly ref: string;
}

export function byPrecedence(a: Aged, b: Aged): number {
  return cmp(a.creationTimestamp, b.creationTimestamp) || cmp(a.ref, b.ref);
}
