/**
 * The exit rule of `validate` and `generate`, and the one-line form of diagnostics. Pure.
 *
 * Exit 1 when any diagnostic is an error, or a warning whose code the catalogue marks
 * `notInEffect` (something written does not take effect as written); with `strict`, on any
 * warning. Notes (info) never fail.
 */
import { isNotInEffect } from '../model/codes.js';
import type { Diagnostic } from '../model/diagnostics.js';

export interface Verdict {
  readonly errors: number;
  readonly warnings: number;
  readonly notes: number;
  /** Errors plus warnings marked notInEffect. */
  readonly notInEffect: number;
  readonly exitCode: 0 | 1;
}

export function verdict(list: readonly Diagnostic[], strict = false): Verdict {
  let errors = 0;
  let warnings = 0;
  let notes = 0;
  let marked = 0;
  for (const d of list) {
    if (d.severity === 'error') errors++;
    else if (d.severity === 'warning') warnings++;
    else notes++;
    if (d.severity === 'warning' && isNotInEffect(d.code)) marked++;
  }
  const notInEffect = errors + marked;
  const exitCode = notInEffect > 0 || (strict && warnings > 0) ? 1 : 0;
  return { errors, warnings, notes, notInEffect, exitCode };
}

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
