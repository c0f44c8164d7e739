/**
 * The pipeline's diagnostics about a MetaRouter or ApplicationProtocol → its `status.conditions`.
 * Pure: the previous status and the clock are inputs.
 *
 * - **Accepted**: False when any error is reported on the object (reason `Invalid`, or
 *   `Conflicted` for a protocol another ApplicationProtocol defines first); True otherwise.
 * - **Programmed**: whether what it says is in effect (served to sidecars, in the protocol table):
 *   False with `NoService` (a MetaRouter whose host is no MetaProtocol service), `Conflicted` (an
 *   older MetaRouter for the host applies), or `Invalid` (not accepted); True with
 *   `LastValidGeneration` when this generation is invalid and the last valid one stays in effect;
 *   True with `PartiallyProgrammed` when warnings say part of it does not take effect; else True,
 *   `Programmed`.
 * Messages are the diagnostics (`CODE: message`), in the pipeline's order, cut to the API's limit.
 * `lastTransitionTime` is kept while a condition's status stays the same; both conditions and the
 * status carry the object's generation as observedGeneration.
 */
import { CODES, isNotInEffect, type Code } from '../model/codes.js';
import { normalizeDiagnostics, refString, type Diagnostic } from '../model/diagnostics.js';
import { clip } from '../util/clip.js';
import { ACCEPTED, CONDITION_TYPES, PROGRAMMED, readStatus, type Condition, type ConditionStatus, type RuleStatus, type StatusTarget } from './model.js';

/** metav1.Condition's limit on a message. */
const MAX_MESSAGE = 32768;

/** Codes that decide a condition's reason (others: `Invalid` for errors, by severity for the rest). */
const SPECIAL: Partial<Record<Code, { condition: typeof ACCEPTED | typeof PROGRAMMED; reason: string }>> = {
  MM_PROTOCOL_CONFLICT: { condition: ACCEPTED, reason: 'Conflicted' },
  MM_ROUTER_CONFLICT: { condition: PROGRAMMED, reason: 'Conflicted' },
  MM_ROUTER_NO_SERVICE: { condition: PROGRAMMED, reason: 'NoService' },
};

function describe(list: readonly Diagnostic[]): string {
  return clip(list.map((d) => `${d.code}: ${d.message}`).join(' '), MAX_MESSAGE - 64);
}

interface Verdict {
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

function accepted(kind: string, mine: readonly Diagnostic[]): Verdict {
  const errors = mine.filter((d) => CODES[d.code].severity === 'error');
  if (errors.length === 0) return { status: 'True', reason: 'Accepted', message: `The ${kind} is valid.` };
  const special = errors.map((d) => SPECIAL[d.code]).find((s) => s?.condition === ACCEPTED);
  return { status: 'False', reason: special?.reason ?? 'Invalid', message: describe(errors) };
}

function programmed(kind: string, mine: readonly Diagnostic[], acceptance: Verdict): Verdict {
  const what = kind === 'MetaRouter' ? 'Its routes are served to the sidecars' : 'Its protocol is in the protocol table';
  if (acceptance.status === 'False') {
    const lastGood = mine.filter((d) => d.code === 'MM_RESOURCE_LAST_GOOD');
    if (lastGood.length > 0) return { status: 'True', reason: 'LastValidGeneration', message: `This generation is not applied; the last valid one stays in effect. ${describe(lastGood)}` };
    return { status: 'False', reason: acceptance.reason === 'Conflicted' ? 'Conflicted' : 'Invalid', message: 'Not applied, because it is not accepted (see the Accepted condition).' };
  }
  const blocking = mine.filter((d) => SPECIAL[d.code]?.condition === PROGRAMMED);
  if (blocking.length > 0) return { status: 'False', reason: SPECIAL[blocking[0]!.code]!.reason, message: describe(blocking) };
  const partial = mine.filter((d) => isNotInEffect(d.code));
  const notes = mine.filter((d) => !isNotInEffect(d.code));
  const noted = notes.length > 0 ? ` ${describe(notes)}` : '';
  if (partial.length > 0) return { status: 'True', reason: 'PartiallyProgrammed', message: `${what}, but part of it does not take effect: ${describe(partial)}${noted}` };
  return { status: 'True', reason: 'Programmed', message: `${what}.${noted}` };
}

/** The status for `target` from every diagnostic of a pipeline run, at time `now` (RFC 3339). */
export function computeStatus(target: StatusTarget, diagnostics: readonly Diagnostic[], now: string): RuleStatus {
  const ref = refString({ kind: target.kind, namespace: target.metadata.namespace, name: target.metadata.name });
  const mine = normalizeDiagnostics(diagnostics.filter((d) => d.object === ref));
  const a = accepted(target.kind, mine);
  const verdicts: Record<string, Verdict> = { [ACCEPTED]: a, [PROGRAMMED]: programmed(target.kind, mine, a) };
  const previous = readStatus(target.status);
  const generation = target.metadata.generation;
  const conditions: Condition[] = CONDITION_TYPES.map((type) => {
    const v = verdicts[type]!;
    const before = previous.conditions.find((c) => c.type === type);
    return {
      type,
      status: v.status,
      reason: v.reason,
      message: v.message,
      lastTransitionTime: before && before.status === v.status && before.lastTransitionTime !== '' ? before.lastTransitionTime : now,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  });
  return { ...(generation !== undefined ? { observedGeneration: generation } : {}), conditions };
}

/**
 * Whether `next` differs from the live status in what metamesh writes (its conditions and
 * observedGeneration; other writers' conditions are not compared). Equal → no write.
 */
export function statusNeedsWrite(live: unknown, next: RuleStatus): boolean {
  const prev = readStatus(live);
  if (prev.observedGeneration !== next.observedGeneration) return true;
  return next.conditions.some((c) => {
    const p = prev.conditions.find((x) => x.type === c.type);
    return !p || p.status !== c.status || p.reason !== c.reason || p.message !== c.message || p.lastTransitionTime !== c.lastTransitionTime || p.observedGeneration !== c.observedGeneration;
  });
}
