/**
 * `exportTo` as Istio's validateExportTo checks it, for ServiceEntries and DestinationRules.
 * Returns sentences naming what is wrong (empty when Istio accepts the list).
 */
import { isIstioLabel } from '../util/hosts.js';

/**
 * Entries are `.` (the resource's own namespace), `*` (every namespace) or a namespace name;
 * ServiceEntries may also use `~` (visible to no one but their own workloads), alone.
 */
export function exportToProblems(exportTo: readonly string[], namespace: string, allowNone: boolean): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const e of exportTo) {
    const key = e === '.' ? namespace : e;
    if (seen.has(key)) {
      out.push(key === e ? `lists ${JSON.stringify(e)} twice` : `lists both "." and its own namespace ${JSON.stringify(namespace)}, which are the same`);
      continue;
    }
    if (e === '~' && !allowNone) {
      out.push('has "~" (no one), which only ServiceEntries may use');
    } else if (e !== '.' && e !== '*' && e !== '~' && !isIstioLabel(e)) {
      out.push(`has ${JSON.stringify(e)}, which is neither ".", "*"${allowNone ? ', "~"' : ''} nor a namespace name`);
    }
    seen.add(key);
  }
  if (seen.has('*') && exportTo.length > 1) out.push('has "*" next to other entries; "*" already means every namespace, so it must stand alone');
  if (allowNone && seen.has('~') && exportTo.length > 1) out.push('has "~" (no one) next to other entries; "~" must stand alone');
  return out;
}
