/**
 * The registries of `--registry`, running: one feed per registry (a watcher and its pure parser),
 * their latest snapshots and statuses, and the sync into ServiceEntries (src/registry/sync.ts).
 * Effects: the watchers, a debounce, a timer at the next outage-policy deadline and a periodic
 * tick (so removal grace periods and protection holds run out even when no registry event comes),
 * and a log line for each outage-policy decision that starts or ends something.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { parse } from 'yaml';
import type { Decision } from '../catalog/model.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { RegistrySnapshot, RegistryStatus } from '../model/registry.js';
import { zkAddressOf, type RegistryConfig, type ZookeeperRegistryConfig } from '../registry/config.js';
import { EMPTY_SYNC_STATE, syncRegistries, type RegistrySyncOptions, type SyncResult, type SyncState } from '../registry/sync.js';
import { parseSnapshotFile } from '../registry/file.js';
import { ZkParser } from '../registry/zookeeper/parse.js';
import { watchZooKeeper } from '../registry/zookeeper/watch.js';
import { httpNacosApi } from '../registry/nacos/client.js';
import type { NacosWatchConfig } from '../registry/nacos/config.js';
import { NacosWatcher } from '../registry/nacos/watch.js';
import { loadBuiltinProtocols } from '../protocol/builtin.js';
import type { RegistriesDebugInput } from '../dashboard/registries-debug.js';

/** One registry being read. */
export interface RegistryFeed {
  readonly name: string;
  status(): RegistryStatus;
  snapshot(): RegistrySnapshot | undefined;
  /** True when retrying cannot help (a file that is not a snapshot); watchers keep retrying. */
  readonly final?: boolean;
  close(): void;
}

/** How the watchers run (their defaults where not given). */
export interface FeedOptions {
  /** The ZooKeeper watcher's debounce: a snapshot is parsed this long after the first change of a burst (default 100 ms). */
  readonly zkDebounceMs?: number;
}

export function openRegistry(config: RegistryConfig, onChange: () => void, now: () => number = Date.now, feed: FeedOptions = {}): RegistryFeed {
  if (config.kind === 'zookeeper') return zookeeperFeed(config, onChange, feed);
  if (config.kind === 'file') return fileFeed(config.name, config.path, now);
  return nacosFeed(config.watch, onChange);
}

function nacosFeed(config: NacosWatchConfig, onChange: () => void): RegistryFeed {
  // The MetaProtocol protocols a Nacos instance may name in its `protocol` metadata: the built-ins.
  const protocols = loadBuiltinProtocols().map((p) => p.name);
  const watcher = new NacosWatcher(config, httpNacosApi(config.server, config.timeoutMs), protocols, {
    onSnapshot: () => onChange(),
    onStatus: () => onChange(),
  });
  watcher.start();
  return { name: config.registry, status: () => watcher.status(), snapshot: () => watcher.snapshot(), close: () => void watcher.stop() };
}

function zookeeperFeed(config: ZookeeperRegistryConfig, onChange: () => void, feed: FeedOptions): RegistryFeed {
  let snapshot: RegistrySnapshot | undefined;
  const parseOptions = {
    registry: config.name,
    roots: config.roots,
    ...(config.services[0] !== undefined ? { servicesPath: config.services[0] } : {}),
    level: config.level,
    serverSets: config.serverSets.map((path) => ({ path })),
    serverSetProtocol: config.serverSetProtocol,
  };
  // Parsed from the watcher's mirror at each change; unchanged parts are not parsed again.
  const parser = new ZkParser(parseOptions);
  const watch = watchZooKeeper({
    registry: config.name,
    address: zkAddressOf(config),
    ...(feed.zkDebounceMs !== undefined ? { debounceMs: feed.zkDebounceMs } : {}),
    onNodes: (nodes, diagnostics, changed) => {
      const parsed = parser.parse(nodes, changed);
      snapshot = { ...parsed, diagnostics: [...diagnostics, ...parsed.diagnostics] };
      onChange();
    },
    onStatus: () => onChange(),
  });
  return { name: config.name, status: () => watch.status(), snapshot: () => snapshot, close: () => watch.close() };
}

/** A YAML file holding the services of a snapshot (`services:`), read once: for tests and demos. */
function fileFeed(name: string, path: string, now: () => number): RegistryFeed {
  let status: RegistryStatus;
  let snapshot: RegistrySnapshot | undefined;
  try {
    const read = parseSnapshotFile(name, parse(readFileSync(path, 'utf8')) as unknown);
    if ('error' in read) throw new Error(read.error);
    snapshot = read;
    status = { registry: name, state: 'synced', lastSyncMs: now() };
  } catch (e) {
    status = { registry: name, state: 'failing', error: `${path} cannot be read as a registry snapshot: ${(e as Error).message}` };
  }
  return { name, status: () => status, snapshot: () => snapshot, final: true, close: () => {} };
}

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
  /** After every committed sync (the dashboard's history, src/dashboard/history.ts). */
  readonly onStep?: (step: HubStep) => void;
  /** Delay from a registry's change to the sync (trailing: restarted by every change; default 200 ms). */
  readonly debounceMs?: number;
  /** Options of the watchers themselves (their own debounce). */
  readonly feeds?: FeedOptions;
  /** How often the outage policy is re-evaluated without any registry event. */
  readonly tickMs?: number;
  readonly now?: () => number;
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
  /** Per registry, when its first change not yet applied was announced. */
  private readonly pendingSince = new Map<string, number>();

  constructor(private readonly opts: RegistryHubOptions) {
    this.feeds = opts.configs.map((c) => openRegistry(c, () => this.schedule(c.name), opts.now, opts.feeds));
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

  private schedule(registry?: string): void {
    if (this.closed) return;
    if (registry !== undefined && !this.pendingSince.has(registry)) this.pendingSince.set(registry, (this.opts.now ?? Date.now)());
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
    const lagMs: Record<string, number> = {};
    for (const [name, since] of this.pendingSince) lagMs[name] = Math.max(0, nowMs - since);
    this.pendingSince.clear();
    this.opts.onStep?.({ nowMs, statuses, lagMs, changes: result.changes });
    if (complete) this.opts.onComplete?.();
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
