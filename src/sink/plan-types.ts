/** The plan's options and result (plan.ts), plain data for the applier that executes it. */
import type { Diagnostic } from '../model/diagnostics.js';
import type { ApplyBody } from './apply-body.js';
import { DEFAULT_INSTANCE, type SinkIdentity } from './objects.js';

export interface PlanOptions {
  readonly identity: SinkIdentity;
  /** Withdrawing more than this share (0..1) of metamesh's live objects at once is refused. */
  readonly maxDeletionFraction: number;
  /** Up to this many withdrawals at once are never refused (deleting a small mesh's last rule). */
  readonly massDeletionFloor: number;
  /** Lets a refused mass deletion through (an operator who means it). */
  readonly allowMassDeletion: boolean;
  /** The server-side apply field manager of every write (FIELD_MANAGER when absent). */
  readonly fieldManager?: string;
}

export const DEFAULT_PLAN_OPTIONS: PlanOptions = Object.freeze({
  identity: { instance: DEFAULT_INSTANCE },
  maxDeletionFraction: 0.5,
  massDeletionFloor: 10,
  allowMassDeletion: false,
});

/** One server-side apply (PATCH, content type application/apply-patch+yaml). */
export interface PlannedApply {
  readonly key: string;
  /** `Kind namespace/name`. */
  readonly object: string;
  /**
   * create: a new object. update: metamesh's object differs. adopt: an unclaimed object labelled
   * managed-by metamesh becomes this instance's. amend: metamesh's fields of another's object
   * differ. release: metamesh's fields are withdrawn from another's object.
   */
  readonly action: 'create' | 'update' | 'adopt' | 'amend' | 'release';
  readonly body: ApplyBody;
  readonly fieldManager: string;
  /** Take fields over from other managers: only on objects metamesh owns outright. */
  readonly force: boolean;
  /** What differs (drift paths); empty for creates and releases. */
  readonly changes: readonly string[];
}

export interface PlannedDelete {
  readonly key: string;
  readonly object: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** DeleteOptions.preconditions: never delete an object re-created since it was read. */
  readonly preconditions: { readonly uid?: string; readonly resourceVersion?: string };
}

export interface HeldWithdrawal {
  readonly key: string;
  readonly object: string;
  readonly action: 'delete' | 'release';
}

export interface SinkPlan {
  readonly creates: PlannedApply[];
  readonly updates: PlannedApply[];
  readonly deletes: PlannedDelete[];
  /** Withdrawals not made now, and why. */
  readonly held: HeldWithdrawal[];
  readonly heldBecause: 'not-ready' | 'inputs-not-synced' | 'mass-deletion' | undefined;
  /** Desired objects that wait for their live object to finish deleting, or to appear (amendments). */
  readonly waiting: string[];
  /** Desired objects that are up to date. */
  readonly unchanged: number;
  readonly diagnostics: Diagnostic[];
}
