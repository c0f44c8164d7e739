/**
 * The order in which the apply sink may write a plan's steps, as waves: runs of consecutive steps of
 * the same phase (create, update, delete) and kind. Steps of one wave do not depend on each other
 * and may be written concurrently; a wave starts once the one before it has ended, so the plan's
 * order between kinds holds (ServiceEntries created before, and deleted after, the EnvoyFilters
 * that patch their listeners; creates before updates before deletes). Pure.
 */
import type { PlannedApply, PlannedDelete } from './plan-types.js';

export type Step = PlannedApply | PlannedDelete;

const phaseOf = (s: Step): string => ('body' in s ? (s.action === 'create' ? 'create' : 'update') : 'delete');
const kindOf = (s: Step): string => ('body' in s ? s.body.kind : s.kind);

export function waves(steps: readonly Step[]): Step[][] {
  const out: Step[][] = [];
  let key = '';
  for (const s of steps) {
    const k = `${phaseOf(s)} ${kindOf(s)}`;
    if (out.length === 0 || k !== key) out.push([]);
    key = k;
    out.at(-1)!.push(s);
  }
  return out;
}
