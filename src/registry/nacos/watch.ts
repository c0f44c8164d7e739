/**
 * Watches one Nacos server over the v1 Open API and keeps a RegistrySnapshot of it. Effectful.
 *
 * Every `pollMs` the instance list of every known service is re-read (what Nacos's own v1 clients
 * do at the `cacheMillis` the server asks for; UDP push is not used: it needs the server to reach
 * this process, and rnacos never sends it). Every `resyncMs`, and whenever the previous read
 * failed, the service lists (paged, per configured namespace and group) and the Dubbo mappings are
 * re-read first. A read counts only when every call of it succeeded: a server that is down or
 * answers badly leaves the last snapshot in place (nothing is deleted because something failed to
 * load) and the status says `disconnected` (no answer) or `failing` (a bad answer).
 */
import { canonicalJson, sameJson } from '../../util/canonical.js';
import type { RegistrySnapshot, RegistryStatus } from '../../model/registry.js';
import { NacosCallError, type NacosApi } from './client.js';
import { serviceFilter, type NacosWatchConfig } from './config.js';
import { parseNacos } from './parse.js';
import type { NacosMappingRead, NacosParseOptions, NacosRead, NacosServiceRead } from './read.js';

export interface NacosWatchHooks {
  /** A new snapshot, only when it differs from the last one. */
  readonly onSnapshot: (snapshot: RegistrySnapshot) => void;
  /** Every change of state (and every successful sync, for lastSyncMs). */
  readonly onStatus: (status: RegistryStatus) => void;
}

/** Injected so tests and the runtime decide what time is. */
export interface WatchClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: WatchClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface ServiceId {
  readonly namespace: string;
  readonly group: string;
  readonly name: string;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first error. */
async function boundedMap<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export class NacosWatcher {
  private services: ServiceId[] | undefined;
  private mappings: NacosMappingRead[] = [];
  private unread = 0;
  private nextResync = 0;
  private last: RegistrySnapshot | undefined;
  /**
   * Each service's hosts as last read. A service whose answer has the same content is given the
   * same array again, so the parser and the sync see by identity that it did not change (every poll
   * reads every service: at 10,000 services nearly all of them are unchanged).
   */
  private hostsOf = new Map<string, readonly unknown[]>();
  private state: RegistryStatus;
  private timer: unknown;
  private stopped = true;
  private running: Promise<void> = Promise.resolve();
  private readonly accept: (name: string) => boolean;
  /** One object for every read: the parser reuses what it made of an unchanged service with the same options. */
  private readonly parseOptions: NacosParseOptions;

  constructor(
    private readonly config: NacosWatchConfig,
    private readonly api: NacosApi,
    protocols: readonly string[],
    private readonly hooks: NacosWatchHooks,
    private readonly clock: WatchClock = systemClock,
  ) {
    this.state = { registry: config.registry, state: 'connecting' };
    this.accept = serviceFilter(config.services, config.exclude);
    this.parseOptions = { registry: config.registry, protocols, maxInstancesPerService: config.maxInstancesPerService };
  }

  /** Starts reading; the first read begins at once. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the timer and waits for a read in progress to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    await this.running;
  }

  snapshot(): RegistrySnapshot | undefined {
    return this.last;
  }

  status(): RegistryStatus {
    return this.state;
  }

  /** One read now (tests and `generate` use it); resolves when it is done, whatever its outcome. */
  sync(): Promise<void> {
    this.running = this.running.then(() => this.read());
    return this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      void this.sync().then(() => this.schedule(this.config.pollMs));
    }, ms);
  }

  private async read(): Promise<void> {
    try {
      if (this.services === undefined || this.clock.now() >= this.nextResync) {
        await this.listAll();
        this.nextResync = this.clock.now() + this.config.resyncMs;
      }
      const hostsOf = new Map<string, readonly unknown[]>();
      const reads = await boundedMap(this.services!, this.config.concurrency, async (s): Promise<NacosServiceRead> => {
        const id = `${s.namespace}\n${s.group}\n${s.name}`;
        const read = await this.api.listInstances(s.namespace, s.group, s.name);
        const before = this.hostsOf.get(id);
        const hosts = before !== undefined && sameJson(before, read) ? before : read;
        hostsOf.set(id, hosts);
        return { ...s, hosts };
      });
      this.hostsOf = hostsOf;
      this.publish({ services: reads, mappings: this.mappings });
    } catch (e) {
      // The service list is read again at the next attempt: what failed may have been a restart.
      this.services = undefined;
      const unreachable = e instanceof NacosCallError && e.unreachable;
      this.setStatus({ ...this.state, state: unreachable ? 'disconnected' : 'failing', error: (e as Error).message });
    }
  }

  private async listAll(): Promise<void> {
    const found: ServiceId[] = [];
    const { namespaces, groups, pageSize, maxServices } = this.config;
    let total = 0;
    for (const namespace of namespaces) {
      for (const group of groups) {
        const names = new Set<string>();
        const seen = new Set<string>();
        // The server's set is unordered: a page may repeat names of another and skip some. Page
        // until `count` names were seen; after the last page, start again from the first (a second
        // pass finds what the order change hid), at most two passes, so a list that keeps changing
        // cannot loop forever. Past maxServices accepted names, stop: enough to say so.
        for (let pageNo = 1, pages = 1; ; pages++) {
          const page = await this.api.listServices(namespace, group, pageNo, pageSize);
          for (const n of page.names) {
            seen.add(n);
            if (this.accept(n)) names.add(n);
          }
          const last = Math.ceil(page.count / pageSize);
          if (seen.size >= page.count || pages >= 2 * (last + 1) || total + names.size > maxServices) break;
          pageNo = page.names.length === 0 || pageNo >= last ? 1 : pageNo + 1;
        }
        total += names.size;
        for (const name of names) found.push({ namespace, group, name });
      }
    }
    found.sort((a, b) => canonicalJson(a).localeCompare(canonicalJson(b)));
    this.unread = Math.max(0, found.length - maxServices);
    this.services = found.slice(0, maxServices);
    const mappings: NacosMappingRead[] = [];
    for (const namespace of namespaces) {
      for (let pageNo = 1, seen = 0, configs = 1; seen < configs && pageNo <= Math.ceil(maxServices / pageSize) + 1; pageNo++) {
        const page = await this.api.listMappings(namespace, pageNo, pageSize);
        configs = page.total;
        seen += page.items.length;
        if (page.items.length === 0) break;
        for (const i of page.items) if (i.group === 'mapping') mappings.push({ namespace, interface: i.dataId, content: i.content });
      }
    }
    this.mappings = mappings;
  }

  private publish(read: NacosRead): void {
    const snapshot = parseNacos({ ...read, unreadServices: this.unread }, this.parseOptions);
    if (this.last === undefined || !sameSnapshot(this.last, snapshot)) {
      this.last = snapshot;
      this.hooks.onSnapshot(snapshot);
    }
    this.setStatus({ registry: this.config.registry, state: 'synced', lastSyncMs: this.clock.now() });
  }

  private setStatus(status: RegistryStatus): void {
    this.state = status;
    this.hooks.onStatus(status);
  }
}

/** Equal content; services the parser reused (the same objects at the same places) are not compared. */
function sameSnapshot(a: RegistrySnapshot, b: RegistrySnapshot): boolean {
  if (a.registry !== b.registry || a.services.length !== b.services.length || !sameJson(a.diagnostics, b.diagnostics)) return false;
  for (let i = 0; i < a.services.length; i++) if (a.services[i] !== b.services[i] && !sameJson(a.services[i], b.services[i])) return false;
  return true;
}
