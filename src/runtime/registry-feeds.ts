/**
 * One feed per `--registry`: a watcher (effect) and its pure parser, behind one small interface the
 * registry hub (registries.ts) and `generate` read: the registry's status and its latest snapshot.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { RegistrySnapshot, RegistryStatus } from '../model/registry.js';
import { zkAddressOf, type RegistryConfig, type ZookeeperRegistryConfig } from '../registry/config.js';
import { parseSnapshotFile } from '../registry/file.js';
import { ZkParser } from '../registry/zookeeper/parse.js';
import { watchZooKeeper } from '../registry/zookeeper/watch.js';
import { httpNacosApi } from '../registry/nacos/client.js';
import type { NacosWatchConfig } from '../registry/nacos/config.js';
import { NacosWatcher } from '../registry/nacos/watch.js';
import { loadBuiltinProtocols } from '../protocol/builtin.js';
import type { RegistryEventKind } from '../metrics/recorders.js';

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

/** `onChange` hears of each change a watcher reports: new services (snapshot) or a new connection state (status). */
export function openRegistry(config: RegistryConfig, onChange: (kind: RegistryEventKind) => void, now: () => number = Date.now, feed: FeedOptions = {}): RegistryFeed {
  if (config.kind === 'zookeeper') return zookeeperFeed(config, onChange, feed);
  if (config.kind === 'file') return fileFeed(config.name, config.path, now);
  return nacosFeed(config.watch, onChange);
}

function nacosFeed(config: NacosWatchConfig, onChange: (kind: RegistryEventKind) => void): RegistryFeed {
  // The MetaProtocol protocols a Nacos instance may name in its `protocol` metadata: the built-ins.
  const protocols = loadBuiltinProtocols().map((p) => p.name);
  const watcher = new NacosWatcher(config, httpNacosApi(config.server, config.timeoutMs), protocols, {
    onSnapshot: () => onChange('snapshot'),
    onStatus: () => onChange('status'),
  });
  watcher.start();
  return { name: config.registry, status: () => watcher.status(), snapshot: () => watcher.snapshot(), close: () => void watcher.stop() };
}

function zookeeperFeed(config: ZookeeperRegistryConfig, onChange: (kind: RegistryEventKind) => void, feed: FeedOptions): RegistryFeed {
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
      onChange('snapshot');
    },
    onStatus: () => onChange('status'),
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
