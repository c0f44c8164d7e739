/**
 * The registries of `--registry`, running: one feed per registry (registry-feeds.ts), their latest
 * snapshots and statuses, and the sync into ServiceEntries (src/registry/sync.ts). Effects: the watchers, a debounce, a timer at the next outage-policy deadline and a periodic
 * tick (so removal grace periods and protection holds run out even when no registry event comes),
 * and a log line for each outage-policy decision that starts or ends something.
 */
import type { Logger } from 'pino';
import type { Decision } from '../catalog/model.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { RegistrySnapshot, RegistryStatus } from '../model/registry.js';
import type { RegistryConfig } from '../registry/config.js';
import { EMPTY_SYNC_STATE, syncRegistries, type RegistrySyncOptions, type SyncResult, type SyncState } from '../registry/sync.js';
import type { RegistriesDebugInput } from '../dashboard/registries-debug.js';
import type { RegistryHubObserver } from '../metrics/recorders.js';
import { openRegistry, type FeedOptions, type RegistryFeed } from './registry-feeds.js';

export { openRegistry, type FeedOptions, type RegistryFeed } from './registry-feeds.js';

export interface RegistryHubOptions {
  readonly configs: readonly RegistryConfig[];
  readonly sync: RegistrySyncOptions;
  readonly logger: Logger;
  /**
   * Every sync that changed ServiceEntries or diagnostics (outage-policy ones included). A throw
   * means not applied: the sync is not committed and its changes come again at the next one.
   */
  readonly onSync: (result: SyncResult) => void;
  /**
   * Called after every sync that was applied (or had nothing to apply) and read every registry at
   * least once: what is served then includes every registry.
   */
  readonly onComplete?: () => void;
  /** Delay from a registry's change to the sync (trailing: restarted by every change; default 200 ms). */
  readonly debounceMs?: number;
  /** Options of the watchers themselves (their own debounce). */
  readonly feeds?: FeedOptions;
  /** How often the outage policy is re-evaluated without any registry event. */
  readonly tickMs?: number;
  readonly now?: () => number;
  /** Hears of registry events, applied syncs (with their lag) and failed ones: the metrics. */
  readonly observer?: RegistryHubObserver | undefined;
  /** After every committed sync (the dashboard's history, src/dashboard/history.ts). */
  readonly onStep?: (step: HubStep) => void;
}

/** One committed sync of the hub. */
export interface HubStep {
  readonly nowMs: number;
  readonly statuses: readonly RegistryStatus[];
  /** Per registry with changes since the previous step: how long its first one waited to be applied. */
  readonly lagMs: Readonly<Record<string, number>>;
  /** The ServiceEntry changes applied. */
  readonly changes: SyncResult['changes'];
}

/** Every configured registry, synced into ServiceEntries continuously (for `serve`). */
export class RegistryHub {
  private readonly feeds: RegistryFeed[];
  private state: SyncState = EMPTY_SYNC_STATE;
  private diagnostics: Diagnostic[] = [];
  private diagnosticsKey = '';
  private decisions: readonly Decision[] = [];
  private syncedStatuses: readonly RegistryStatus[] | undefined;
  /** Keys of the ongoing waits (removal pending, registry unavailable) already logged. */
  private logged = new Set<string>();
  private debounce: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private readonly tick: NodeJS.Timeout;
  private closed = false;
  /** Per registry, when its first change not yet taken in by a sync was reported. */
  private readonly pendingSince = new Map<string, number>();
  private complete = false;

  constructor(private readonly opts: RegistryHubOptions) {
    this.feeds = opts.configs.map((c) =>
      openRegistry(
        c,
        (kind) => {
          opts.observer?.event?.(c.name, kind);
          if (!this.pendingSince.has(c.name)) this.pendingSince.set(c.name, (opts.now ?? Date.now)());
          this.schedule();
        },
        opts.now,
        opts.feeds,
      ),
    );
    this.tick = setInterval(() => this.sync(), opts.tickMs ?? 5000);
    this.tick.unref();
    this.schedule();
  }

  statuses(): RegistryStatus[] {
    return this.feeds.map((f) => f.status());
  }

  /** Whether every registry has been read completely at least once. */
  synced(): boolean {
    return this.feeds.every((f) => f.status().lastSyncMs !== undefined);
  }

  /**
   * Whether a sync that had read every registry completely has been applied: from then on what is
   * served includes every registry (readiness, src/runtime/readiness.ts).
   */
  applied(): boolean {
    return this.complete;
  }

  /** Diagnostics of the last sync: registry records, outage-policy decisions, generation. */
  currentDiagnostics(): readonly Diagnostic[] {
    return this.diagnostics;
  }

  /**
   * What /debug/registries shows (src/dashboard/registries-debug.ts): the statuses, catalog state and
   * decisions of the last sync, which belong together (the statuses now may be a debounce ahead).
   */
  debugInput(): RegistriesDebugInput {
    return { statuses: this.syncedStatuses ?? this.statuses(), state: this.state.catalog, decisions: this.decisions, options: this.opts.sync.catalog, nowMs: (this.opts.now ?? Date.now)() };
  }

  close(): void {
    this.closed = true;
    if (this.debounce) clearTimeout(this.debounce);
    if (this.deadline) clearTimeout(this.deadline);
    clearInterval(this.tick);
    for (const f of this.feeds) f.close();
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.sync(), this.opts.debounceMs ?? 200);
  }

  private sync(): void {
    if (this.closed) return;
    const complete = this.synced();
    const snapshots = this.feeds.map((f) => f.snapshot()).filter((s): s is RegistrySnapshot => s !== undefined);
    const nowMs = (this.opts.now ?? Date.now)();
    const statuses = this.statuses();
    const result = syncRegistries(this.state, snapshots, statuses, this.opts.sync, nowMs);
    // A policy wait changes no ServiceEntry, but its diagnostics must still reach /debug/config.
    const key = JSON.stringify(result.diagnostics);
    if (result.changes.length > 0 || key !== this.diagnosticsKey) {
      try {
        this.opts.onSync(result);
      } catch (e) {
        // Not committed: the next sync (the tick, or the next registry event) diffs against what
        // was applied before, so the same changes are offered again rather than lost.
        this.opts.logger.error({ event: 'registry-update-failed', err: (e as Error).message }, 'applying the registry services failed; the previous routes stay served and the sync is retried');
        this.opts.observer?.failed?.();
        return;
      }
    }
    this.state = result.state;
    this.diagnostics = result.diagnostics;
    this.diagnosticsKey = key;
    this.decisions = result.decisions;
    this.syncedStatuses = statuses;
    this.logDecisions(result.decisions, statuses);
    this.armDeadline(result.decisions, nowMs);
    const lag = new Map([...this.pendingSince].map(([registry, since]) => [registry, nowMs - since]));
    this.pendingSince.clear();
    if (lag.size > 0) this.opts.observer?.applied?.(lag);
    this.opts.onStep?.({ nowMs, statuses, lagMs: Object.fromEntries(lag), changes: result.changes });
    if (complete) {
      this.complete = true;
      this.opts.onComplete?.();
    }
  }

  /** Syncs again when the earliest grace or hold of the last step runs out, rather than at the next tick. */
  private armDeadline(decisions: readonly Decision[], nowMs: number): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = undefined;
    let next = Infinity;
    for (const d of decisions) if (d.untilMs !== undefined && d.untilMs < next) next = d.untilMs;
    if (next === Infinity) return;
    this.deadline = setTimeout(() => this.sync(), Math.min(MAX_TIMER_MS, Math.max(0, next - nowMs) + 1));
    this.deadline.unref();
  }

  /** One log line when a wait starts (again, with other items) and for each one-off decision; none while it goes on. */
  private logDecisions(decisions: readonly Decision[], statuses: readonly RegistryStatus[]): void {
    const statusOf = new Map(statuses.map((s) => [s.registry, s]));
    const waits = new Set<string>();
    for (const d of decisions) {
      if (d.kind === 'protection-held') continue;
      const ongoing = d.kind === 'removal-pending' || d.kind === 'registry-unavailable';
      const key = JSON.stringify([d.kind, d.registry, d.service ?? '', d.items ?? []]);
      if (ongoing) {
        waits.add(key);
        if (this.logged.has(key)) continue;
      }
      const items = d.items ?? [];
      const fields = {
        event: 'outage-policy',
        decision: d.kind,
        registry: d.registry,
        ...(d.service === undefined ? {} : { service: d.service }),
        ...(items.length === 0 ? {} : { items: items.slice(0, MAX_LOGGED_ITEMS), itemsOmitted: Math.max(0, items.length - MAX_LOGGED_ITEMS) }),
        ...(d.untilMs === undefined ? {} : { until: new Date(d.untilMs).toISOString() }),
        ...(d.before === undefined ? {} : { before: d.before, after: d.after }),
        ...(d.kind === 'registry-unavailable' ? { state: statusOf.get(d.registry)?.state, error: statusOf.get(d.registry)?.error } : {}),
      };
      // A registry not read yet (starting) holds nothing back: that is no warning.
      const holding = d.kind === 'registry-unavailable' && statusOf.get(d.registry)?.lastSyncMs !== undefined;
      if (holding || d.kind === 'protection-triggered') this.opts.logger.warn(fields, DECISION_MESSAGE[d.kind]);
      else this.opts.logger.info(fields, DECISION_MESSAGE[d.kind]);
    }
    this.logged = waits;
  }
}

/** The longest delay a timer takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Items named in one log line; the rest are counted. */
const MAX_LOGGED_ITEMS = 20;

const DECISION_MESSAGE: Record<Exclude<Decision['kind'], 'protection-held'>, string> = {
  'registry-unavailable': 'the registry is not synced; its last-known services are kept unchanged until it is',
  'removal-pending': 'no longer in the registry; kept until the removal grace is over',
  removed: 'missing for the whole removal grace; removed',
  'protection-triggered': 'a loss above the protection threshold was refused; the previous ones are kept until it recovers or the hold ends',
  'protection-released': 'the protection is lifted',
};
