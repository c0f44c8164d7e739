/**
 * Status of the rules users write (MetaRouter, ApplicationProtocol), as the CRDs declare it
 * (crds/*.yaml: `status.observedGeneration`, `status.conditions` a list map keyed by `type`, each a
 * metav1.Condition). Plain data; `readStatus` reads a live object's status leniently (it is
 * written by metamesh, but anything could be there).
 */

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  readonly type: string;
  readonly status: ConditionStatus;
  /** CamelCase, `^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`. */
  readonly reason: string;
  /** At most 32768 characters. */
  readonly message: string;
  /** RFC 3339; changes only when `status` changes. */
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

export interface RuleStatus {
  readonly observedGeneration?: number;
  readonly conditions: readonly Condition[];
}

/** The object a status is for. */
export interface StatusTarget {
  readonly apiVersion: string;
  readonly kind: 'MetaRouter' | 'ApplicationProtocol';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly generation?: number };
  /** The live object's status, as read (undefined when it has none). */
  readonly status?: unknown;
}

/** The condition types metamesh writes (others' conditions on the same object are left alone). */
export const ACCEPTED = 'Accepted';
export const PROGRAMMED = 'Programmed';
export const CONDITION_TYPES = [ACCEPTED, PROGRAMMED] as const;

const STATUSES = new Set(['True', 'False', 'Unknown']);

function isMap(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** A live status as a RuleStatus; malformed conditions and fields are left out. */
export function readStatus(raw: unknown): RuleStatus {
  if (!isMap(raw)) return { conditions: [] };
  const conditions: Condition[] = [];
  for (const c of Array.isArray(raw.conditions) ? raw.conditions : []) {
    if (!isMap(c) || typeof c.type !== 'string' || typeof c.status !== 'string' || !STATUSES.has(c.status)) continue;
    conditions.push({
      type: c.type,
      status: c.status as ConditionStatus,
      reason: typeof c.reason === 'string' ? c.reason : '',
      message: typeof c.message === 'string' ? c.message : '',
      lastTransitionTime: typeof c.lastTransitionTime === 'string' ? c.lastTransitionTime : '',
      ...(typeof c.observedGeneration === 'number' ? { observedGeneration: c.observedGeneration } : {}),
    });
  }
  return { ...(typeof raw.observedGeneration === 'number' ? { observedGeneration: raw.observedGeneration } : {}), conditions };
}
