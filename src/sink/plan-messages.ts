/** The sentences of the plan's diagnostics (plan.ts), each naming what to do. */
import type { HeldWithdrawal, PlanOptions } from './plan-types.js';
import { AMENDED_BY_ANNOTATION, INSTANCE_LABEL, type LiveObject, type Owner, type Ownership } from './objects.js';

/** How many names a message lists before "and N more". */
const NAMES = 10;

export function listed(names: readonly string[]): string {
  const shown = names.slice(0, NAMES).join(', ');
  return names.length > NAMES ? `${shown} and ${names.length - NAMES} more` : shown;
}

function withdrawalNames(w: readonly HeldWithdrawal[]): string {
  return listed(w.map((x) => (x.action === 'delete' ? x.object : `${x.object} (metamesh's fields)`)));
}

export function conflictMessage(live: LiveObject, owner: Owner, ownership: Ownership): string {
  const what =
    owner.kind === 'other-instance' ? `belongs to metamesh instance ${JSON.stringify(owner.instance)} (label ${INSTANCE_LABEL})`
    : owner.kind === 'amended' ? `is amended by metamesh instance ${JSON.stringify(owner.instance)} (annotation ${AMENDED_BY_ANNOTATION})`
    : owner.kind === 'ours' ? 'is an object this metamesh instance generated, which it does not amend'
    : 'exists without the label app.kubernetes.io/managed-by: metamesh';
  const uid = live.metadata.uid ? ` (uid ${live.metadata.uid})` : '';
  const then = ownership === 'object' ? 'metamesh left it alone and did not write its own object of that name' : 'metamesh did not add its fields to it';
  return `an object of this name${uid} ${what}; ${then}. Rename or remove the existing object, or give each metamesh installation its own instance name.`;
}

export function notReadyMessage(unsynced: readonly string[], creates: number, updates: number, withdrawals: number): string {
  return `nothing was written (${creates} create(s), ${updates} update(s) and ${withdrawals} withdrawal(s) wait) because these inputs have never been read completely: ${listed(unsynced)}. What metamesh generates from a partial view is incomplete, so it writes only once every input has synced.`;
}

export function heldMessage(stale: readonly string[], held: readonly HeldWithdrawal[]): string {
  return `${held.length} withdrawal(s) held until every input is synced again: ${withdrawalNames(held)}. Not synced now (their last good content is in use): ${listed(stale)}. Creates and updates went ahead.`;
}

export function guardMessage(held: readonly HeldWithdrawal[], ours: number, options: PlanOptions): string {
  const pct = Math.round(options.maxDeletionFraction * 100);
  return `${held.length} of the ${ours} object(s) metamesh owns would be withdrawn at once, over the guard (${pct}%, and more than ${options.massDeletionFloor}); none was: ${withdrawalNames(held)}. Such a drop is more often a broken input than a decision. Check the inputs; if it is intended, allow it once (metamesh serve --allow-mass-deletion).`;
}
