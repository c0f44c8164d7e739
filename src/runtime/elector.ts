/**
 * The leader elector of `serve --leader-elect`: the pure Lease state machine of src/leader/lease.ts
 * driven against the API server. Effects: one GET of the Lease per round, a POST or PUT when the
 * machine decides to write, timers, logging.
 *
 * Each round: read the Lease (404: none), `observe` it, `decide`, write what was decided (create, or
 * update with the resourceVersion read: the API server's compare-and-swap), `afterWrite`, and sleep
 * until the decision's wake time. Besides, a timer fires at the moment leadership would run out
 * (`leadingUntil`), so a leader that cannot renew stops writing at its renew deadline even while its
 * requests hang. Writers ask `isLeading()` before every request and bound each one by
 * `remainingMs()`; `onChange` tells them at once when leadership starts or ends.
 *
 * Time: `now` is this process's monotonic clock (performance.now), as lease.ts requires; the wall
 * clock only fills the Lease's human-readable times.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { afterWrite, decide, INITIAL_ELECTOR_STATE, isLeading, leadingUntil, observe, release, type Decision, type ElectorState, type LeaseConfig, type LeaseObservation, type WriteResult } from '../leader/lease.js';
import { leaseBody, readLease, type LeaseRef } from '../leader/lease-object.js';
import { DEFAULT_CLOCK_ASSUMPTIONS } from '../leader/timing.js';
import { realTimers, type Timers } from '../store/store.js';
import { statusOf, type KubeWriter } from '../store/kubernetes/client.js';
import { collectionPathOf, objectPathOf } from '../sink/paths.js';

export interface ElectorOptions {
  readonly writer: KubeWriter;
  readonly lease: LeaseRef;
  readonly config: LeaseConfig;
  readonly logger: Logger;
  /** Called when this replica starts (true) or stops (false) leading. */
  readonly onChange?: (leading: boolean) => void;
  readonly timers?: Timers;
  /** Monotonic milliseconds (performance.now by default). */
  readonly now?: () => number;
  /** Wall-clock milliseconds, for the Lease's times only. */
  readonly wallNow?: () => number;
}

/** Whether writes may be made now, and for how long: what the apply sink and the status writer ask. */
export interface WriteGate {
  isLeading(): boolean;
  /** Milliseconds left to write before leadership may run out (undefined: not leading). */
  remainingMs(): number | undefined;
}

/** The gate of a replica that writes without leader election (one replica, or a test). */
export const ALWAYS_LEADING: WriteGate = { isLeading: () => true, remainingMs: () => 60_000 };

const LEASE_API = 'coordination.k8s.io/v1';

export class Elector implements WriteGate {
  private state: ElectorState = INITIAL_ELECTOR_STATE;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly wallNow: () => number;
  private roundTimer: unknown;
  private stepDownTimer: unknown;
  private leading = false;
  private stopped = false;
  private round: Promise<void> | undefined;

  constructor(private readonly opts: ElectorOptions) {
    this.timers = opts.timers ?? realTimers;
    this.now = opts.now ?? (() => performance.now());
    this.wallNow = opts.wallNow ?? Date.now;
  }

  get identity(): string {
    return this.opts.config.identity;
  }

  start(): void {
    this.schedule(0);
  }

  isLeading(): boolean {
    return !this.stopped && isLeading(this.state, this.opts.config, this.now());
  }

  remainingMs(): number | undefined {
    if (this.stopped) return undefined;
    const until = leadingUntil(this.state, this.opts.config, this.now());
    return until === undefined ? undefined : until - this.now();
  }

  /** The holder last seen (for /debug and logs). */
  holder(): string | undefined {
    const lease = this.state.observed?.lease;
    return lease?.exists ? lease.spec.holderIdentity : undefined;
  }

  /**
   * Stops electing. A leader gives the Lease up (holder emptied) so that another replica takes over
   * within its retry period instead of waiting for the Lease to expire. The caller stops its writers
   * first.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.timers.clearTimeout(this.roundTimer);
    this.timers.clearTimeout(this.stepDownTimer);
    await this.round;
    const { state, decision } = release(this.state, this.opts.config, this.wallNow());
    this.state = state;
    this.notify();
    if (decision) {
      const result = await this.write(decision);
      this.opts.logger.info({ event: 'leader-released', lease: this.leaseName(), ok: result.ok }, result.ok ? 'gave up the leader Lease' : 'could not give up the leader Lease; another replica takes over once it expires');
    }
  }

  private leaseName(): string {
    return `${this.opts.lease.namespace}/${this.opts.lease.name}`;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timers.clearTimeout(this.roundTimer);
    this.roundTimer = this.timers.setTimeout(() => {
      this.round = this.runRound().catch((e: unknown) => {
        this.opts.logger.error({ event: 'leader-round-failed', err: (e as Error).message }, 'a leader-election round failed; retrying');
        this.schedule(this.opts.config.retryPeriodMs);
      });
    }, Math.max(0, delayMs));
  }

  private async runRound(): Promise<void> {
    const lease = await this.read();
    if (this.stopped) return;
    if (lease === undefined) {
      // No answer: a leader keeps leading until its deadline (the step-down timer ends it).
      this.notify();
      this.schedule(this.opts.config.retryPeriodMs);
      return;
    }
    this.state = observe(this.state, lease, this.opts.config, this.now());
    const decision = decide(this.state, this.opts.config, this.now(), this.wallNow());
    if (decision.kind !== 'wait') {
      const sent = this.now();
      const result = await this.write(decision);
      if (this.stopped) return;
      this.state = afterWrite(this.state, decision, result, sent);
    }
    this.notify();
    this.schedule(decision.wakeAtMs - this.now());
  }

  /** The Lease, or undefined when the API server did not answer. */
  private async read(): Promise<LeaseObservation | undefined> {
    const path = objectPathOf({ apiVersion: LEASE_API, kind: 'Lease', namespace: this.opts.lease.namespace, name: this.opts.lease.name })!;
    try {
      return readLease(await this.opts.writer.request({ method: 'GET', path, timeoutMs: this.opts.config.retryPeriodMs }));
    } catch (e) {
      if (statusOf(e) === 404) return { exists: false };
      this.opts.logger.warn({ event: 'leader-read-failed', lease: this.leaseName(), err: (e as Error).message }, 'the leader Lease cannot be read');
      return undefined;
    }
  }

  private async write(decision: Decision): Promise<WriteResult> {
    const body = leaseBody(this.opts.lease, decision);
    if (!body) return { ok: false, conflict: false };
    const coords = { apiVersion: LEASE_API, kind: 'Lease', namespace: this.opts.lease.namespace, name: this.opts.lease.name };
    const create = decision.kind === 'create';
    try {
      const answer = await this.opts.writer.request({
        method: create ? 'POST' : 'PUT',
        path: create ? collectionPathOf(coords)! : objectPathOf(coords)!,
        body,
        // The safety argument (src/leader/timing.ts) assumes a write lands within this bound.
        timeoutMs: DEFAULT_CLOCK_ASSUMPTIONS.maxWriteLatencyMs,
      });
      const written = readLease(answer);
      return { ok: true, resourceVersion: written.exists ? written.resourceVersion : '' };
    } catch (e) {
      const status = statusOf(e);
      if (status !== 409) this.opts.logger.warn({ event: 'leader-write-failed', lease: this.leaseName(), status, err: (e as Error).message }, 'the leader Lease cannot be written');
      return { ok: false, conflict: status === 409 };
    }
  }

  /** Tells onChange about a start or end of leadership, and arms the step-down timer. */
  private notify(): void {
    const now = this.isLeading();
    this.timers.clearTimeout(this.stepDownTimer);
    const left = this.remainingMs();
    if (now && left !== undefined) this.stepDownTimer = this.timers.setTimeout(() => this.notify(), left + 1);
    if (now === this.leading) return;
    this.leading = now;
    this.opts.logger.info({ event: now ? 'leader-started' : 'leader-stopped', lease: this.leaseName(), identity: this.identity, holder: this.holder() }, now ? 'leading: this replica writes (apply sink, status)' : 'not leading: this replica stops writing and keeps serving xDS');
    this.opts.onChange?.(now);
  }
}
