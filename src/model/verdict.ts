/**
 * The exit rule of `validate`, `generate` and `explain`, as a function of diagnostics. Pure.
 *
 * Exit 1 when any diagnostic is an error, or a warning whose code the catalogue marks
 * `notInEffect` (something written does not take effect as written); with `strict`, on any
 * warning. Notes (info) never fail.
 */
import { isNotInEffect } from './codes.js';
import type { Diagnostic } from './diagnostics.js';

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

