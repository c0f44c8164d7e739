/**
 * The exit rule of `validate` and `generate` (src/model/verdict.ts, which `explain` shares), and
 * the one-line form of diagnostics. Pure.
 */
import type { Diagnostic } from '../model/diagnostics.js';
import { verdict } from '../model/verdict.js';

export { verdict, type Verdict } from '../model/verdict.js';

function diagnosticLine(d: Diagnostic): string {
  return `${d.severity.padEnd(7)} ${d.code}  ${d.object}: ${d.message}`;
}

/** One line per diagnostic, then the summary, which says whether the rules take effect. */
export function formatDiagnostics(list: readonly Diagnostic[], files: number, strict = false): string {
  const v = verdict(list, strict);
  const counts = `${files} file(s) checked: ${v.errors} error(s), ${v.warnings} warning(s), ${v.notes} note(s)`;
  let outcome: string;
  if (v.notInEffect > 0) outcome = `${v.notInEffect} of them mean something you wrote does not take effect as written.`;
  else if (v.exitCode === 1) outcome = 'the rules take effect as written, but --strict fails on warnings.';
  else outcome = 'the rules take effect as written.';
  return `${[...list.map(diagnosticLine), `${counts}; ${outcome}`].join('\n')}\n`;
}
