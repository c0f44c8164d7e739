/** Instance fields from Dubbo parameters (provider URL parameters, or a ServiceInfo's params). */
import { diag, type Diagnostic } from '../../model/diagnostics.js';

/** Dubbo's default weight when a provider sets none. */
export const DEFAULT_WEIGHT = 100;

/** version, group, application, and every `aeraki_meta_*` parameter, when present and non-empty. */
export function dubboLabels(params: Readonly<Record<string, string>>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const k of Object.keys(params).sort()) {
    const v = params[k]!;
    if (v === '') continue;
    if (k === 'version' || k === 'group' || k === 'application' || k.startsWith('aeraki_meta_')) labels[k] = v;
  }
  return labels;
}

/** The `weight` parameter, DEFAULT_WEIGHT when absent; a bad value is reported and the default used. */
export function dubboWeight(params: Readonly<Record<string, string>>, object: string | (() => string), diagnostics: Diagnostic[]): number {
  const w = params.weight;
  if (w === undefined || w === '') return DEFAULT_WEIGHT;
  if (/^\d{1,9}$/.test(w)) return Number(w);
  diagnostics.push(diag('MM_REGISTRY_BAD_RECORD', typeof object === 'string' ? object : object(), `weight "${w.slice(0, 40)}" is not a whole number of at least 0; the default ${DEFAULT_WEIGHT} was used.`));
  return DEFAULT_WEIGHT;
}

/** Enabled unless `disabled=true` (an override's way); else unless `enabled=false`, as Dubbo's consumers read it. */
export function dubboEnabled(params: Readonly<Record<string, string>>): boolean {
  if (params.disabled !== undefined) return params.disabled !== 'true';
  return params.enabled !== 'false';
}

/** `s`, or undefined when it is absent or empty (Dubbo treats an empty group or version as none). */
export function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}
