/**
 * The Kubernetes apply sink, executing: each pass plans (src/sink/plan.ts, pure) what the cluster
 * must hold against what it holds (sink-live.ts) and writes exactly that. Effects: requests to the
 * API server, logging.
 *
 * - Creates and updates are server-side applies (PATCH, application/apply-patch+yaml) under the
 *   field manager, with force only where the plan says; updates carry the resourceVersion read,
 *   deletes the uid and resourceVersion (preconditions), so nothing changed since the read is
 *   overwritten or deleted.
 * - A create of a kind watched by label is confirmed absent with a GET first: an object of that
 *   name without metamesh's label joins the plan, which then reports MM_SINK_CONFLICT.
 * - Only while leading (the WriteGate): checked before every request, and each request's timeout
 *   is bounded by the time leadership has left.
 * - Up to `concurrency` requests in flight: the confirming GETs all at once, then the plan's steps
 *   wave by wave (src/sink/waves.ts: one phase and kind each, in the plan's order), so the order
 *   between kinds and phases holds and only independent writes overlap.
 * - 409 Conflict (someone wrote since the read): the pass ends and another follows after a backoff,
 *   planned against fresher objects; after MAX_CONFLICTS passes in a row the object is reported
 *   (MM_SINK_WRITE_FAILED) and retried at the resync period. Any other refusal is reported the same
 *   way, with the API server's message; the rest of the plan goes ahead.
 */
import type { Logger } from 'pino';
import { diag, normalizeDiagnostics, type Diagnostic } from '../model/diagnostics.js';
import type { ApplyBody } from '../sink/apply-body.js';
import type { DesiredObject, LiveObject } from '../sink/objects.js';
import { objectKey } from '../sink/objects.js';
import type { InputHealth } from '../sink/inputs.js';
import { plan, DEFAULT_PLAN_OPTIONS, type PlanOptions, type PlannedApply, type PlannedDelete, type SinkPlan } from '../sink/plan.js';
import { APPLY_PATCH, objectPathOf } from '../sink/paths.js';
import { waves } from '../sink/waves.js';
import { forEachLimited } from '../util/limited.js';
import { KubeApiError, statusOf, type KubeWriter } from '../store/kubernetes/client.js';
import type { WriteGate } from './elector.js';
import { asLive, watchedByLabel, type SinkLive } from './sink-live.js';

/** Passes in a row that may end in a conflict on one object before it is reported. */
export const MAX_CONFLICTS = 5;
/** The longest a request may take, whatever leadership has left. */
const MAX_REQUEST_MS = 10_000;
/**
 * Requests in flight at once by default. One at a time, a pass of 30,000 objects took five minutes
 * on two busy cores with metamesh idle two thirds of the time, waiting for each answer (bench/README.md).
 */
export const DEFAULT_WRITE_CONCURRENCY = 4;

export interface PassInput {
  readonly desired: readonly DesiredObject[];
  /** Every input the desired objects come from (the sink's own watches are added). */
  readonly inputs: readonly InputHealth[];
}

export interface PassResult {
  readonly plan: SinkPlan | undefined;
  /** Writes made (applies and deletes that succeeded). */
  readonly written: number;
  /** Whether a conflict asks for another pass soon. */
  readonly retry: boolean;
  readonly diagnostics: readonly Diagnostic[];
}

/** Told of every write the sink made and every write it gave up on (serve feeds /metrics with it). */
export interface SinkObserver {
  written(kind: string, action: PlannedApply['action'] | 'delete'): void;
  failed(kind: string): void;
}

export interface ApplySinkOptions {
  readonly observer?: SinkObserver | undefined;
  readonly writer: KubeWriter;
  readonly live: SinkLive;
  readonly gate: WriteGate;
  readonly logger: Logger;
  readonly planOptions?: Partial<PlanOptions> | undefined;
  /** Requests in flight at once (default DEFAULT_WRITE_CONCURRENCY): the GETs confirming creates, and the writes of one wave. */
  readonly concurrency?: number | undefined;
}

/** What the sink has done so far (for /debug and tests). */
export interface SinkCounters {
  passes: number;
  applies: number;
  deletes: number;
  conflicts: number;
  failures: number;
}

export class ApplySink {
  readonly counters: SinkCounters = { passes: 0, applies: 0, deletes: 0, conflicts: 0, failures: 0 };
  private readonly options: PlanOptions;
  /** Conflicts in a row, by object key. */
  private readonly conflictStreak = new Map<string, number>();
  private last: PassResult | undefined;

  private readonly concurrency: number;

  constructor(private readonly opts: ApplySinkOptions) {
    this.options = { ...DEFAULT_PLAN_OPTIONS, ...opts.planOptions };
    this.concurrency = opts.concurrency ?? DEFAULT_WRITE_CONCURRENCY;
  }

  lastPass(): PassResult | undefined {
    return this.last;
  }

  /** One pass: plan, confirm creates, write. Never throws. */
  async pass(input: PassInput): Promise<PassResult> {
    if (!this.opts.gate.isLeading()) return { plan: undefined, written: 0, retry: false, diagnostics: [] };
    this.counters.passes++;
    const inputs = [...input.inputs, ...this.opts.live.inputs()];
    let live = this.opts.live.objects();
    let p = plan(input.desired, live, inputs, this.options);
    const { found, unknown } = await this.confirmAbsent(p.creates);
    if (found.length > 0) {
      live = [...live, ...found];
      p = plan(input.desired, live, inputs, this.options);
    }
    const byKey = new Map(live.map((o) => [objectKey(o), o]));
    const diagnostics: Diagnostic[] = [...p.diagnostics];
    for (const [key, e] of unknown) {
      const c = p.creates.find((x) => x.key === key)!;
      this.opts.observer?.failed(c.body.kind);
      diagnostics.push(diag('MM_SINK_WRITE_FAILED', c.object, `was not created: whether an object of this name exists could not be read (${e.message}), and metamesh never creates over an object it cannot see. It tries again at its next pass. Check that metamesh may get ${c.body.kind} objects.`));
    }
    let written = 0;
    // A create whose absence could not be confirmed waits for the next pass.
    let retry = unknown.size > 0;
    const steps: (PlannedApply | PlannedDelete)[] = [...p.creates.filter((c) => !unknown.has(c.key)), ...p.updates, ...p.deletes];
    let stopped = false;
    const stop = () => {
      const remaining = this.opts.gate.remainingMs();
      stopped ||= !this.opts.gate.isLeading() || remaining === undefined || remaining <= 0;
      return stopped;
    };
    const write = async (step: PlannedApply | PlannedDelete): Promise<void> => {
      const timeoutMs = Math.min(MAX_REQUEST_MS, this.opts.gate.remainingMs() ?? 0);
      const outcome = 'body' in step ? await this.apply(step, byKey.get(step.key), timeoutMs) : await this.remove(step, byKey.get(step.key), timeoutMs);
      const kind = 'body' in step ? step.body.kind : step.kind;
      if (outcome === 'ok') {
        written++;
        this.opts.observer?.written(kind, 'body' in step ? step.action : 'delete');
        this.conflictStreak.delete(step.key);
        return;
      }
      if (outcome instanceof KubeApiError && outcome.status === 409) {
        this.counters.conflicts++;
        const streak = (this.conflictStreak.get(step.key) ?? 0) + 1;
        this.conflictStreak.set(step.key, streak);
        if (streak < MAX_CONFLICTS) retry = true;
        else {
          this.opts.observer?.failed(kind);
          diagnostics.push(diag('MM_SINK_WRITE_FAILED', step.object, `changed on the API server during each of the last ${streak} writes (409 Conflict: ${outcome.message}); metamesh tries again at its next resync. Check which other controller writes this object.`));
        }
        return;
      }
      this.counters.failures++;
      this.opts.observer?.failed(kind);
      diagnostics.push(diag('MM_SINK_WRITE_FAILED', step.object, `${'body' in step ? 'the server-side apply' : 'the deletion'} was refused: ${(outcome as Error).message}. metamesh tries again at its next pass; the rest of the plan went ahead. Check metamesh's RBAC (docs/operations.md) and the API server's message.`));
    };
    // Wave by wave (src/sink/waves.ts), up to `concurrency` requests of a wave in flight.
    for (const wave of waves(steps)) {
      if (stop()) break;
      await forEachLimited(wave, this.concurrency, write, stop);
    }
    const result: PassResult = { plan: p, written, retry, diagnostics: normalizeDiagnostics(diagnostics) };
    this.report(result);
    this.last = result;
    return result;
  }

  /**
   * Objects that exist under the names of planned creates of kinds watched only by label, and the
   * creates whose GET failed otherwise than with 404 (not known to be absent).
   */
  private async confirmAbsent(creates: readonly PlannedApply[]): Promise<{ found: LiveObject[]; unknown: Map<string, Error> }> {
    const found: LiveObject[] = [];
    const unknown = new Map<string, Error>();
    await forEachLimited(creates, this.concurrency, async (c) => {
      if (!watchedByLabel(c.body.kind)) return;
      const path = pathOf(c.body);
      if (!path) return;
      try {
        const got = asLive(await this.opts.writer.request({ method: 'GET', path, timeoutMs: MAX_REQUEST_MS }), c.body.apiVersion, c.body.kind);
        if (got) found.push(got);
      } catch (e) {
        if (statusOf(e) !== 404) unknown.set(c.key, e as Error);
      }
    });
    return { found, unknown };
  }

  private async apply(step: PlannedApply, replaced: LiveObject | undefined, timeoutMs: number): Promise<'ok' | Error> {
    const path = pathOf(step.body);
    if (!path) return new Error(`metamesh does not write ${step.body.kind} objects`);
    try {
      const answer = await this.opts.writer.request({
        method: 'PATCH',
        path,
        query: { fieldManager: step.fieldManager, ...(step.force ? { force: 'true' } : {}) },
        body: step.body,
        contentType: APPLY_PATCH,
        timeoutMs,
      });
      this.counters.applies++;
      this.opts.live.wrote(step.key, replaced, answer);
      this.opts.logger.info({ event: 'sink-apply', action: step.action, object: step.object, changes: step.changes.slice(0, 20) }, `${step.action} ${step.object}`);
      return 'ok';
    } catch (e) {
      return e as Error;
    }
  }

  private async remove(step: PlannedDelete, replaced: LiveObject | undefined, timeoutMs: number): Promise<'ok' | Error> {
    const path = objectPathOf({ apiVersion: step.apiVersion, kind: step.kind, namespace: step.namespace, name: step.name });
    if (!path) return new Error(`metamesh does not write ${step.kind} objects`);
    try {
      await this.opts.writer.request({
        method: 'DELETE',
        path,
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: step.preconditions, propagationPolicy: 'Background' },
        timeoutMs,
      });
    } catch (e) {
      if (statusOf(e) !== 404) return e as Error; // 404: already gone, which is what was wanted
    }
    this.counters.deletes++;
    this.opts.live.wrote(step.key, replaced, undefined);
    this.opts.logger.info({ event: 'sink-delete', object: step.object }, `delete ${step.object}`);
    return 'ok';
  }

  /** Logs the diagnostics that are new since the last pass. */
  private report(result: PassResult): void {
    const before = new Set((this.last?.diagnostics ?? []).map(keyOf));
    for (const d of result.diagnostics) {
      if (before.has(keyOf(d))) continue;
      const level = d.severity === 'info' ? 'info' : 'warn';
      this.opts.logger[level]({ event: 'diagnostic', code: d.code, object: d.object }, d.message);
    }
  }
}

function pathOf(body: ApplyBody): string | undefined {
  return objectPathOf({ apiVersion: body.apiVersion, kind: body.kind, namespace: body.metadata.namespace, name: body.metadata.name });
}

const keyOf = (d: Diagnostic): string => `${d.code}\u0000${d.object}\u0000${d.message}`;
