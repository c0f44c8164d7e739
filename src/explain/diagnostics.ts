/** The diagnostics an explanation shows: those about the objects involved, each with its doc link. Pure. */
import type { Diagnostic } from '../model/diagnostics.js';
import { verdict } from '../model/verdict.js';
import type { ExplainedDiagnostic } from '../model/explanation.js';

/** Where docs/errors.md explains a code (its `### MM_…` heading). */
export function docOf(code: string): string {
  return `docs/errors.md#${code.toLowerCase()}`;
}

/** The diagnostics whose object is one of `objects`, in the pipeline's order. */
export function diagnosticsAbout(all: readonly Diagnostic[], objects: ReadonlySet<string>): ExplainedDiagnostic[] {
  return all.filter((d) => objects.has(d.object)).map(explained);
}

export function explained(d: Diagnostic): ExplainedDiagnostic {
  return {
    code: d.code,
    severity: d.severity,
    object: d.object,
    message: d.message,
    notInEffect: verdict([d]).notInEffect > 0,
    doc: docOf(d.code),
  };
}
