/**
 * plan(desired, live, inputs): what the Kubernetes apply sink must write to make the cluster hold
 * what metamesh generates, and nothing it must not. Pure and deterministic: the same sets, in any
 * order, give the same plan, so two replicas (or a new leader) plan alike.
 *
 * Rules:
 * - Create what is desired and absent; update what is desired, present, metamesh's, and differs in
 *   the content metamesh owns (drift.ts); leave the rest unchanged.
 * - Delete only live objects that carry metamesh's ownership labels for this instance and are not
 *   desired; withdraw metamesh's fields only from objects it amended (`release`). An object without
 *   those labels is never written or deleted, even when a desired object has its name: that is a
 *   conflict (MM_SINK_CONFLICT), and the desired object is not written. An object labelled
 *   managed-by metamesh without an instance (applied by hand from `metamesh generate`) is adopted
 *   when desired (MM_SINK_ADOPTED) and otherwise left alone.
 * - An input never read (src/sink/inputs.ts): nothing is written at all (MM_SINK_NOT_READY). An
 *   input not current: creates and updates go ahead, every withdrawal is held
 *   (MM_SINK_DELETIONS_HELD).
 * - Mass-deletion guard: more withdrawals than `maxDeletionFraction` of metamesh's live objects
 *   (and more than `massDeletionFloor`) are all held (MM_SINK_MASS_DELETION) unless
 *   `allowMassDeletion`. Such a drop is more often a broken input than a decision.
 * - Objects being deleted (deletionTimestamp) are neither updated nor deleted again; a desired one
 *   is created once it is gone (`waiting`).
 * Every write is a server-side apply under FIELD_MANAGER; updates carry the resourceVersion read
 * (409 Conflict if the object changed since: plan again), deletes carry uid and resourceVersion
 * preconditions. Order: creates, then updates, then deletes; ServiceEntries are created before and
 * deleted after the EnvoyFilters that patch their listeners.
 */
import { canonicalJson } from '../util/canonical.js';
import { cmp, diag, normalizeDiagnostics, type Diagnostic } from '../model/diagnostics.js';
import { applyBody, releaseBody, withResourceVersion, type ApplyBody } from './apply-body.js';
import { drift } from './drift.js';
import { describeInputs, type InputHealth } from './inputs.js';
import { FIELD_MANAGER, INSTANCE_LABEL, objectKey, objectRef, ownerOf, type DesiredObject, type LiveObject } from './objects.js';
import { conflictMessage, guardMessage, heldMessage, notReadyMessage } from './plan-messages.js';
import { DEFAULT_PLAN_OPTIONS, type HeldWithdrawal, type PlanOptions, type PlannedApply, type PlannedDelete, type SinkPlan } from './plan-types.js';

export * from './plan-types.js';


const KIND_ORDER = ['ServiceEntry', 'DestinationRule', 'VirtualService', 'EnvoyFilter'];

function rank(key: string): number {
  const kind = key.slice(key.indexOf('/') + 1, key.indexOf(' '));
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}

function byKindThenKey(a: { key: string }, b: { key: string }): number {
  return rank(a.key) - rank(b.key) || cmp(a.key, b.key);
}

/** One object per key, deterministically: `object` ownership first, then the smaller content. */
function byKey<T extends { key: string; tie: string }>(items: T[]): { kept: Map<string, T>; dropped: T[] } {
  items.sort((a, b) => cmp(a.key, b.key) || cmp(a.tie, b.tie));
  const kept = new Map<string, T>();
  const dropped: T[] = [];
  for (const i of items) {
    if (kept.has(i.key)) dropped.push(i);
    else kept.set(i.key, i);
  }
  return { kept, dropped };
}

export function plan(desired: readonly DesiredObject[], live: readonly LiveObject[], inputs: readonly InputHealth[], options: PlanOptions = DEFAULT_PLAN_OPTIONS): SinkPlan {
  const { identity } = options;
  const fieldManager = options.fieldManager ?? FIELD_MANAGER;
  const diagnostics: Diagnostic[] = [];
  const sink = `Sink ${identity.instance}`;
  const want = byKey(desired.map((d) => ({ key: objectKey(d.object), tie: `${d.ownership === 'object' ? 0 : 1}${canonicalJson(d.object)}`, d })));
  for (const x of want.dropped) diagnostics.push(diag('MM_SINK_CONFLICT', objectRef(x.d.object), 'metamesh generated this object twice with different content; only the first (by content) was applied. This is a bug: please report it with both sources.'));
  const have = byKey(live.map((o) => ({ key: objectKey(o), tie: canonicalJson(o), o }))).kept;

  const creates: PlannedApply[] = [];
  const updates: PlannedApply[] = [];
  const waiting: string[] = [];
  let unchanged = 0;
  const apply = (key: string, object: string, action: PlannedApply['action'], body: ApplyBody, force: boolean, changes: string[]) =>
    (action === 'create' ? creates : updates).push({ key, object, action, body, fieldManager, force, changes });

  for (const [key, { d }] of want.kept) {
    const ref = objectRef(d.object);
    const body = applyBody(d, identity);
    const l = have.get(key)?.o;
    if (l?.metadata.deletionTimestamp !== undefined || (!l && d.ownership === 'fields')) {
      waiting.push(key);
      continue;
    }
    if (!l) {
      apply(key, ref, 'create', body, false, []);
      continue;
    }
    const owner = ownerOf(l, identity);
    const allowed = d.ownership === 'object' ? owner.kind === 'ours' || owner.kind === 'unclaimed' : owner.kind === 'foreign' || (owner.kind === 'amended' && owner.instance === identity.instance);
    if (!allowed) {
      diagnostics.push(diag('MM_SINK_CONFLICT', ref, conflictMessage(l, owner, d.ownership)));
      continue;
    }
    const changes = drift(body, l, fieldManager);
    if (changes.length === 0) {
      unchanged++;
      continue;
    }
    const action = d.ownership === 'fields' ? 'amend' : owner.kind === 'unclaimed' ? 'adopt' : 'update';
    if (action === 'adopt') diagnostics.push(diag('MM_SINK_ADOPTED', ref, `carries app.kubernetes.io/managed-by: metamesh but no ${INSTANCE_LABEL} label (applied by hand from metamesh generate?); metamesh instance ${identity.instance} takes it over and will update and delete it from now on.`));
    apply(key, ref, action, withResourceVersion(body, l.metadata.resourceVersion), d.ownership === 'object', changes);
  }

  // Withdrawals: metamesh's own objects no longer desired, and its fields on objects it amended.
  const deletes: PlannedDelete[] = [];
  const releases: PlannedApply[] = [];
  let ours = 0;
  for (const [key, { o }] of have) {
    const owner = ownerOf(o, identity);
    const mine = owner.kind === 'ours' || (owner.kind === 'amended' && owner.instance === identity.instance);
    if (!mine || o.metadata.deletionTimestamp !== undefined) continue;
    ours++;
    if (want.kept.has(key)) continue;
    const object = objectRef(o);
    if (owner.kind === 'ours') {
      const { uid, resourceVersion } = o.metadata;
      deletes.push({
        key, object, apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name,
        ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
        preconditions: { ...(uid !== undefined ? { uid } : {}), ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
      });
    } else {
      releases.push({ key, object, action: 'release', body: withResourceVersion(releaseBody(o), o.metadata.resourceVersion), fieldManager, force: false, changes: [] });
    }
  }
  const withdrawals: HeldWithdrawal[] = [
    ...deletes.map((x) => ({ key: x.key, object: x.object, action: 'delete' as const })),
    ...releases.map((x) => ({ key: x.key, object: x.object, action: 'release' as const })),
  ].sort(byKindThenKey);

  const finish = (heldBecause: SinkPlan['heldBecause'], withdraw: boolean, write = true): SinkPlan => ({
    creates: write ? creates.sort(byKindThenKey) : [],
    updates: write ? [...updates, ...(withdraw ? releases : [])].sort(byKindThenKey) : [],
    deletes: write && withdraw ? deletes.sort((a, b) => rank(b.key) - rank(a.key) || cmp(a.key, b.key)) : [],
    held: withdraw ? [] : withdrawals,
    heldBecause,
    waiting: waiting.sort(),
    unchanged,
    diagnostics: normalizeDiagnostics(diagnostics),
  });

  const unsynced = describeInputs(inputs, 'unsynced');
  if (unsynced.length > 0) {
    diagnostics.push(diag('MM_SINK_NOT_READY', sink, notReadyMessage(unsynced, creates.length, updates.length, withdrawals.length)));
    return finish('not-ready', false, false);
  }
  if (withdrawals.length === 0) return finish(undefined, true);
  const stale = describeInputs(inputs, 'stale');
  if (stale.length > 0) {
    diagnostics.push(diag('MM_SINK_DELETIONS_HELD', sink, heldMessage(stale, withdrawals)));
    return finish('inputs-not-synced', false);
  }
  const guarded = withdrawals.length > options.massDeletionFloor && withdrawals.length > options.maxDeletionFraction * ours;
  if (guarded && !options.allowMassDeletion) {
    diagnostics.push(diag('MM_SINK_MASS_DELETION', sink, guardMessage(withdrawals, ours, options)));
    return finish('mass-deletion', false);
  }
  return finish(undefined, true);
}
