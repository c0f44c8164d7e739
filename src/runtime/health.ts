/**
 * The health side of `metamesh serve`: `/healthz` (alive: the process answers), `/readyz` (ready:
 * readiness.ts decides, from what serve has read) and the ready timeout.
 *
 * The ready timeout (`--ready-timeout`, 5 minutes by default, 0 for none): if serve is still not
 * ready that long after it started listening, it logs one warning (`ready-timeout`) naming every
 * registry and Kubernetes kind it waits for and reports an MM_SERVE_NOT_READY diagnostic for each
 * (in /debug/config, `explain` and the metamesh_diagnostics metric). Nothing stops and nothing is
 * withdrawn: what was read is served, /readyz keeps answering 503 with the same names, and once
 * everything is read it answers 200, the diagnostics go and an info line (`ready`) says so.
 * Effects: one timer and log lines.
 */
import type { Logger } from 'pino';
import type { Diagnostic } from '../model/diagnostics.js';
import type { Timers } from '../store/store.js';
import type { Endpoint } from './http.js';
import { formatDuration, notReadyDiagnostics, readiness, type Readiness, type ReadinessInput } from './readiness.js';

export const DEFAULT_READY_TIMEOUT_MS = 300_000;

export interface HealthOptions {
  readonly logger: Logger;
  readonly timers: Timers;
  /** 0: never time out. */
  readonly readyTimeoutMs: number;
  readonly input: () => ReadinessInput;
  /** What /readyz shows besides the verdict (the sources' and registries' health). */
  readonly details: () => Record<string, unknown>;
  /** The MM_SERVE_NOT_READY diagnostics now in force (none once ready). */
  readonly onDiagnostics: (diagnostics: readonly Diagnostic[]) => void;
  /** Milliseconds, for the log lines (default Date.now). */
  readonly now?: () => number;
}

export class Health {
  private timer: unknown;
  private startedMs: number | undefined;
  private timedOut = false;
  private reportedReady = false;
  private closed = false;

  constructor(private readonly opts: HealthOptions) {}

  /** Readiness now (and, the first time it is ready, the `ready` log line). */
  state(): Readiness {
    const r = readiness(this.opts.input());
    if (r.ready) this.becameReady();
    return r;
  }

  /** Serving has begun: arm the ready timeout. */
  start(): void {
    this.startedMs = (this.opts.now ?? Date.now)();
    if (this.state().ready || this.opts.readyTimeoutMs <= 0) return;
    this.timer = this.opts.timers.setTimeout(() => this.deadline(), this.opts.readyTimeoutMs);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.opts.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  endpoints(): Record<'/healthz' | '/readyz', Endpoint> {
    return {
      '/healthz': { debug: false, summary: 'Alive: ok while the process runs', handle: () => ({ status: 200, text: 'ok' }) },
      '/readyz': {
        debug: false,
        summary: 'Ready (200) once serving with every registry read and applied and every Kubernetes kind listed; 503 before',
        handle: () => {
          const r = this.state();
          return {
            status: r.ready ? 200 : 503,
            json: { status: r.ready ? 'ready' : 'not ready', waitingFor: r.waitingFor.map((w) => w.reason), readyTimeoutPassed: this.timedOut && !r.ready, ...this.opts.details() },
          };
        },
      },
    };
  }

  private deadline(): void {
    this.timer = undefined;
    if (this.closed) return;
    const r = readiness(this.opts.input());
    if (r.ready) return this.becameReady();
    this.timedOut = true;
    const after = formatDuration(this.opts.readyTimeoutMs);
    this.opts.logger.warn(
      { event: 'ready-timeout', after, waitingFor: r.waitingFor.map((w) => ({ what: w.what, name: w.name, reason: w.reason })) },
      `not ready ${after} after the start: ${r.waitingFor.map((w) => w.reason).join('; ')}; /readyz answers 503 until then, and what was read is served meanwhile`,
    );
    this.opts.onDiagnostics(notReadyDiagnostics(r, this.opts.readyTimeoutMs));
  }

  private becameReady(): void {
    if (this.reportedReady || this.startedMs === undefined || this.closed) return;
    this.reportedReady = true;
    if (this.timer !== undefined) this.opts.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const afterMs = (this.opts.now ?? Date.now)() - this.startedMs;
    if (this.timedOut) this.opts.onDiagnostics([]);
    this.opts.logger.info({ event: 'ready', afterMs, afterTimeout: this.timedOut }, 'ready: every registry and Kubernetes kind was read and applied once');
  }
}
