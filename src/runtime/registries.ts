/**
 * The registries of `--registry`, running: one feed per registry (a watcher and its pure parser),
 * their latest snapshots and statuses, and the sync into ServiceEntries (src/registry/sync.ts).
 * Effects: the watchers, a debounce and a periodic tick (so removal grace periods and protection
 * holds run out even when no registry event comes).
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { parse } from 'yaml';
import type { Diagnostic } from '../model/diagnostics.js';
import type { RegistrySnapshot, RegistryStatus } from '../model/registry.js';
import { zkAddressOf, type RegistryConfig, type ZookeeperRegistryConfig } from '../registry/config.js';
import { EMPTY_SYNC_STATE, syncRegistries, type RegistrySyncOptions, type SyncResult, type SyncState } from '../registry/sync.js';
import { ZkParser } from '../registry/zookeeper/parse.js';
import { watchZooKeeper } from '../registry/zookeeper/watch.js';
import { httpNacosApi } from '../registry/nacos/client.js';
import type { NacosWatchConfig } from '../registry/nacos/config.js';
import { NacosWatcher } from '../registry/nacos/watch.js';
import { loadBuiltinProtocols } from '../protocol/builtin.js';

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
    const doc = parse(readFileSync(path, 'utf8')) as { services?: RegistrySnapshot['services'] } | null;
    if (!doc || !Array.isArray(doc.services)) throw new Error('it has no services: list');
    snapshot = { registry: name, services: doc.services, diagnostics: [] };
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
  /** The ServiceEntry changes of every sync that changed something. */
  readonly onSync: (result: SyncResult) => void;
  /** Delay from a registry's change to the sync (trailing: restarted by every change; default 200 ms). */
  readonly debounceMs?: number;
  /** Options of the watchers themselves (their own debounce). */
  readonly feeds?: FeedOptions;
  /** How often the outage policy is re-evaluated without any registry event. */
  readonly tickMs?: number;
  readonly now?: () => number;
}

/** Every configured registry, synced into ServiceEntries continuously (for `serve`). */
export class RegistryHub {
  private readonly feeds: RegistryFeed[];
  private state: SyncState = EMPTY_SYNC_STATE;
  private diagnostics: Diagnostic[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private readonly tick: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: RegistryHubOptions) {
    this.feeds = opts.configs.map((c) => openRegistry(c, () => this.schedule(), opts.now, opts.feeds));
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

  close(): void {
    this.closed = true;
    if (this.debounce) clearTimeout(this.debounce);
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
    const snapshots = this.feeds.map((f) => f.snapshot()).filter((s): s is RegistrySnapshot => s !== undefined);
    const result = syncRegistries(this.state, snapshots, this.statuses(), this.opts.sync, (this.opts.now ?? Date.now)());
    this.state = result.state;
    this.diagnostics = result.diagnostics;
    if (result.changes.length > 0) this.opts.onSync(result);
  }
}

/**
 * `generate`: reads every registry once. Resolves when each is synced, or rejects after
 * `timeoutMs` naming the registries that are not (a clear message, never a partial result).
 */
export async function readRegistriesOnce(configs: readonly RegistryConfig[], sync: RegistrySyncOptions, timeoutMs: number): Promise<SyncResult> {
  const feeds: RegistryFeed[] = [];
  let wake: () => void = () => {};
  try {
    for (const c of configs) feeds.push(openRegistry(c, () => wake()));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pending = feeds.filter((f) => f.status().state !== 'synced' || f.snapshot() === undefined);
      if (pending.length === 0) break;
      const failing = pending.filter((f) => f.final === true);
      const why = (list: RegistryFeed[]) => list.map((f) => `${f.name} (${f.status().state}${f.status().error ? `: ${f.status().error}` : ''})`).join('; ');
      if (failing.length > 0) throw new Error(`registry cannot be read: ${why(failing)}`);
      if (Date.now() >= deadline) throw new Error(`registry not read within ${timeoutMs / 1000} s: ${why(pending)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(200, Math.max(1, deadline - Date.now())));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return syncRegistries(EMPTY_SYNC_STATE, feeds.map((f) => f.snapshot()!), feeds.map((f) => f.status()), sync, Date.now());
  } finally {
    for (const f of feeds) f.close();
  }
}
