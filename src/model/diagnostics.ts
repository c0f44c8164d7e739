/**
 * Diagnostics: the one way every stage reports a problem with its input.
 *
 * Contract: stages never throw for bad input. They drop or repair the offending object and return a
 * Diagnostic whose `code` is listed in {@link CODES} (and documented in docs/errors.md; a test keeps
 * the two in sync). Throwing is reserved for bugs.
 */
import { CODES, type Code, type Severity } from './codes.js';

export type { Severity };

export interface Diagnostic {
  readonly code: Code;
  readonly severity: Severity;
  /** The object the diagnostic is about, `Kind namespace/name` (or `Kind name` if cluster-scoped). */
  readonly object: string;
  readonly message: string;
}

export interface ObjectRef {
  readonly kind: string;
  readonly namespace?: string | undefined;
  readonly name: string;
}

export function refString(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

/** Builds a diagnostic with the catalogue's severity for `code`. */
export function diag(code: Code, object: ObjectRef | string, message: string): Diagnostic {
  return {
    code,
    severity: CODES[code].severity,
    object: typeof object === 'string' ? object : refString(object),
    message,
  };
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Total order used for output: by object, then severity, code and message. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    cmp(a.object, b.object) ||
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    cmp(a.code, b.code) ||
    cmp(a.message, b.message)
  );
}

/** Sorts and removes exact duplicates (the same finding reached twice through different paths). */
export function normalizeDiagnostics(list: Iterable<Diagnostic>): Diagnostic[] {
  const sorted = [...list].sort(compareDiagnostics);
  return sorted.filter((d, i) => i === 0 || compareDiagnostics(d, sorted[i - 1]!) !== 0);
}

export function hasErrors(list: Iterable<Diagnostic>): boolean {
  for (const d of list) if (d.severity === 'error') return true;
  return false;
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
