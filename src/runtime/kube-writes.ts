/**
 * Everything `serve` writes to the Kubernetes API, wired: the apply sink (apply-sink.ts), the
 * status writer (status-writer.ts) and, with leader election, the elector (elector.ts) that
 * decides whether this replica writes at all. Every replica serves xDS; only the leader writes.
 * Effects: the sink's watches, timers, requests, logging.
 *
 * Passes run one at a time (never two concurrently), debounced: after every pipeline update, every
 * change the sink's watches see, on becoming leader, after a conflict (with backoff) and at a
 * periodic resync (so a write refused once is retried and drift made by hand is undone).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Diagnostic } from '../model/diagnostics.js';
import type { DesiredObject } from '../sink/objects.js';
import type { InputHealth } from '../sink/inputs.js';
import type { PlanOptions } from '../sink/plan-types.js';
import type { StatusTarget } from '../status/model.js';
import { DEFAULT_LEASE_TIMING, type LeaseTiming } from '../leader/lease.js';
import type { LeaseRef } from '../leader/lease-object.js';
import { checkTiming } from '../leader/timing.js';
import { backoffDelay, DEFAULT_BACKOFF, type Backoff } from '../store/kubernetes/backoff.js';
import type { KubeClient, KubeWriter } from '../store/kubernetes/client.js';
import type { Timers } from '../store/store.js';
import { ApplySink, type SinkObserver } from './apply-sink.js';
import { ALWAYS_LEADING, Elector, type WriteGate } from './elector.js';
import { SinkLive } from './sink-live.js';
import { StatusWriter } from './status-writer.js';

export interface KubeWritesOptions {
  /** Write the generated objects (the apply sink). */
  readonly apply: boolean;
  /** Write the status of MetaRouters and ApplicationProtocols. */
  readonly status: boolean;
  /** Instance name: the value of metamesh.io/instance on the objects this installation owns. */
  readonly instance: string;
  readonly fieldManager: string;
  /** Leader election on this Lease; without it this replica always writes. */
  readonly leaderElection?: { readonly lease: LeaseRef; readonly identity?: string | undefined; readonly timing?: LeaseTiming | undefined } | undefined;
  readonly planOptions?: Partial<PlanOptions> | undefined;
  /** Told of the apply sink's writes and failed writes (the metrics). */
  readonly sinkObserver?: SinkObserver | undefined;
  /** Delay between a trigger and its pass (default 100 ms). */
  readonly debounceMs?: number | undefined;
  /** Period of the full pass that runs whatever happened (default 60 s). */
  readonly resyncMs?: number | undefined;
  readonly backoff?: Backoff | undefined;
}

/** What a pass reads of the running pipeline. */
export interface WritesView {
  desired(): DesiredObject[];
  inputs(): InputHealth[];
  statusTargets(): readonly StatusTarget[];
  diagnostics(): readonly Diagnostic[];
}

/** A unique identity for this process in the Lease: the pod name (or host name) and a random suffix. */
export function electorIdentity(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return `${env.POD_NAME || hostname()}_${randomBytes(4).toString('hex')}`;
}

export class KubeWrites {
  readonly live: SinkLive | undefined;
  readonly sink: ApplySink | undefined;
  readonly status: StatusWriter | undefined;
  readonly elector: Elector | undefined;
  private readonly gate: WriteGate;
  private view: WritesView | undefined;
  private timer: unknown;
  private retryTimer: unknown;
  private resync: unknown;
  private readonly liveWaiters = new Set<() => void>();
  private running: Promise<void> | undefined;
  private again = false;
  private retries = 0;
  private closed = false;
  /** Passes that ran while this replica did not lead, and so wrote nothing. */
  followerPasses = 0;

  constructor(
    private readonly opts: KubeWritesOptions,
    client: KubeClient & KubeWriter,
    private readonly logger: Logger,
    private readonly timers: Timers,
  ) {
    const le = opts.leaderElection;
    const unsafe = le ? checkTiming(le.timing ?? DEFAULT_LEASE_TIMING) : [];
    if (unsafe.length > 0) throw new Error(`unsafe leader-election timing: ${unsafe.join(' ')}`);
    this.elector = le
      ? new Elector({
          writer: client,
          lease: le.lease,
          config: { ...(le.timing ?? DEFAULT_LEASE_TIMING), identity: le.identity ?? electorIdentity() },
          logger,
          timers,
          onChange: (leading) => {
            if (leading) {
              this.status?.reset();
              this.trigger();
            }
          },
        })
      : undefined;
    this.gate = this.elector ?? ALWAYS_LEADING;
    const onLive = () => {
      for (const w of [...this.liveWaiters]) w();
      this.trigger();
    };
    this.live = opts.apply ? new SinkLive({ client, logger, timers, onChange: onLive, backoff: opts.backoff }) : undefined;
    this.sink = this.live ? new ApplySink({ observer: opts.sinkObserver, writer: client, live: this.live, gate: this.gate, logger, planOptions: { ...opts.planOptions, identity: { instance: opts.instance }, fieldManager: opts.fieldManager } }) : undefined;
    this.status = opts.status ? new StatusWriter({ writer: client, gate: this.gate, logger, fieldManager: opts.fieldManager }) : undefined;
  }

  /** Starts the sink's watches (before the first pass: serve waits for them with the sources). */
  startWatching(): void {
    this.live?.start();
  }

  /** Resolves true once the sink's watches have listed, or false after `timeoutMs`. */
  whenWatching(timeoutMs: number): Promise<boolean> {
    const live = this.live;
    if (!live || live.synced()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.liveWaiters.delete(check);
        this.timers.clearTimeout(t);
        resolve(ok);
      };
      const check = () => {
        if (live.synced()) done(true);
      };
      const t = this.timers.setTimeout(() => done(false), timeoutMs);
      this.liveWaiters.add(check);
    });
  }

  /** Starts electing and passing, reading the pipeline through `view`. */
  start(view: WritesView): void {
    this.view = view;
    this.elector?.start();
    this.resync = this.timers.setInterval(() => this.trigger(), this.opts.resyncMs ?? 60_000);
    this.trigger();
  }

  isLeading(): boolean {
    return this.gate.isLeading();
  }

  /** Asks for a pass soon (debounced; one at a time). */
  trigger(delayMs = this.opts.debounceMs ?? 100): void {
    if (this.closed || !this.view) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.running = this.pass().finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.trigger();
        }
      });
    }, delayMs);
  }

  /** Stops passing, lets a pass in progress finish, then gives the Lease up. */
  async close(): Promise<void> {
    this.closed = true;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timers.clearTimeout(this.retryTimer);
    this.timers.clearInterval(this.resync);
    for (const w of [...this.liveWaiters]) w();
    await this.running;
    this.live?.stop();
    await this.elector?.stop();
  }

  /** What /debug/sink shows. */
  debug(): Record<string, unknown> {
    const last = this.sink?.lastPass();
    return {
      leading: this.gate.isLeading(),
      followerPasses: this.followerPasses,
      ...(this.elector ? { identity: this.elector.identity, holder: this.elector.holder() ?? null } : {}),
      sink: this.sink
        ? { counters: this.sink.counters, lastPass: last?.plan ? { creates: last.plan.creates.length, updates: last.plan.updates.length, deletes: last.plan.deletes.length, held: last.plan.held.length, heldBecause: last.plan.heldBecause ?? null, waiting: last.plan.waiting.length, unchanged: last.plan.unchanged, written: last.written } : null, diagnostics: last?.diagnostics ?? [] }
        : null,
      status: this.status ? { writes: this.status.writes, diagnostics: this.status.currentDiagnostics() } : null,
    };
  }

  private async pass(): Promise<void> {
    const view = this.view!;
    if (!this.gate.isLeading()) {
      this.followerPasses++;
      return;
    }
    let retry = false;
    try {
      if (this.sink) retry = (await this.sink.pass({ desired: view.desired(), inputs: view.inputs() })).retry;
      if (this.status) retry = (await this.status.pass(view.statusTargets(), view.diagnostics())) || retry;
    } catch (e) {
      retry = true;
      this.logger.error({ event: 'sink-pass-failed', err: (e as Error).message }, 'a pass of the apply sink or the status writer failed; it is tried again');
    }
    if (!retry) {
      this.retries = 0;
      return;
    }
    const delay = backoffDelay(this.retries++, this.opts.backoff ?? DEFAULT_BACKOFF, Math.random());
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = this.timers.setTimeout(() => this.trigger(0), delay);
  }
}
