/**
 * Registry → ServiceEntry at scale, against real registries on loopback.
 *
 *   node --import tsx bench/registry-sync.ts [--services 10000] [--providers 10] [--changes 200]
 *        [--all-changes 50] [--nacos-services N] [--nacos-instances 10] [--nacos-changes 40]
 *        [--nacos-poll-ms 1000] [--no-zk] [--no-nacos] [--no-layouts] [--cpu-prof-child DIR]
 *
 * ZooKeeper (the Debian server of test/support/zookeeper.ts) and rnacos 0.8.8 (test/support/nacos.ts)
 * are started by the program. The tree is written the way Dubbo 3.3.6 writes it (bench/lib/dubbo-layout.ts)
 * with pipelined multi-op transactions; populating is timed but counted in no figure.
 *
 * The watcher runs in a CHILD process (its RSS is the figure; the parent holds the writer and the
 * estate). The child runs what `metamesh serve` runs for registries (src/runtime/serve.ts): a
 * RegistryHub over the configured registry whose onSync applies the changes to an Engine, flushes
 * and updates the ResourceCache. It leaves out the xDS and HTTP servers (idle here) and the
 * manifest directory. Differences from serve's defaults, all reported in `params`:
 *   - debounces 0 (serve: the ZooKeeper watcher's 100 ms, then the hub's 200 ms), so change latency
 *     is the work and nothing else;
 *   - removal grace period 0 (serve: 30 s): a deleted provider would otherwise stay in its
 *     ServiceEntry for 30 s by design, and a delete would measure the grace period.
 *
 * Phases (ZooKeeper):
 *   interface  register-mode `interface`: per interface providers/ (P ephemeral URL nodes),
 *              configurators/, and the service definition under metadata/. Cold sync, RSS,
 *              watches, then `--changes` sequential changes (create one provider, then delete it).
 *   all        adds what register-mode `all` (Dubbo 3's default) writes besides: mapping/<interface>
 *              and /services/<app>/<ip:port>. Fresh watcher: cold sync, RSS, watches, `--all-changes`.
 *   instance   register-mode `instance` under other roots (mapping, definitions, instances, no
 *              providers/): fresh watcher, cold sync, RSS, watches.
 * Nacos: `--nacos-services` services × `--nacos-instances` persistent v1 instances with the metadata
 * Dubbo registers; the poller at `--nacos-poll-ms`; cold sync, RSS, `--nacos-changes` changes.
 *
 * Times are CLOCK_MONOTONIC (process.hrtime), the same clock in both processes. Stdout gets one
 * JSON object; progress goes to stderr.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import pino from 'pino';
import { DEFAULT_CATALOG_OPTIONS } from '../src/catalog/model.js';
import { resolveOptions } from '../src/config/options.js';
import type { ServiceEntry } from '../src/model/resources.js';
import { Engine } from '../src/pipeline/engine.js';
import { loadBuiltinProtocols } from '../src/protocol/builtin.js';
import { parseRegistry } from '../src/registry/config.js';
import { RegistryHub } from '../src/runtime/registries.js';
import { DEFAULT_SERVICEENTRY_OPTIONS, serviceEntryName } from '../src/serviceentry/generate.js';
import { ResourceCache, routesByName } from '../src/xds/cache.js';
import { Rnacos } from '../test/support/nacos.js';
import { ZkServer } from '../test/support/zookeeper.js';
import { allModeAdditions, extraIp, hostOf, iface, instanceLayout, interfaceLayout, javaUrlEncode, nacosMetadata, nacosServiceName, providerNode, type Iface } from './lib/dubbo-layout.js';
import { connectWriter, createAll, createNode, removeNode } from './lib/zk-bulk.js';

const log = (m: string) => process.stderr.write(`[registry-sync] ${m}\n`);
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const MB = 1024 * 1024;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

// --- arguments -----------------------------------------------------------------------------------

interface Args {
  services: number;
  providers: number;
  changes: number;
  allChanges: number;
  nacosServices: number;
  nacosInstances: number;
  nacosChanges: number;
  nacosPollMs: number;
  zk: boolean;
  nacos: boolean;
  layouts: boolean;
  cpuProfChild: string | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { services: 10000, providers: 10, changes: 200, allChanges: 50, nacosServices: -1, nacosInstances: 10, nacosChanges: 40, nacosPollMs: 1000, zk: true, nacos: true, layouts: true, cpuProfChild: undefined };
  const numbers: Record<string, keyof Args> = {
    services: 'services', providers: 'providers', changes: 'changes', 'all-changes': 'allChanges', 'nacos-services': 'nacosServices',
    'nacos-instances': 'nacosInstances', 'nacos-changes': 'nacosChanges', 'nacos-poll-ms': 'nacosPollMs',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--no-zk') a.zk = false;
    else if (flag === '--no-nacos') a.nacos = false;
    else if (flag === '--no-layouts') a.layouts = false;
    else if (flag === '--cpu-prof-child') a.cpuProfChild = argv[++i];
    else {
      const m = /^--([a-z-]+)(?:=(.*))?$/.exec(flag);
      const key = m ? numbers[m[1]!] : undefined;
      if (!m || !key) throw new Error(`unknown argument ${flag}`);
      const raw = m[2] ?? argv[++i];
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) throw new Error(`--${m[1]} needs a whole number, got ${String(raw)}`);
      (a as unknown as Record<string, number>)[key] = n;
    }
  }
  if (a.nacosServices < 0) a.nacosServices = a.services;
  return a;
}

// --- statistics ----------------------------------------------------------------------------------

function stats(xs: readonly number[]): { n: number; p50: number; p99: number; max: number; min: number } | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
  return { n: s.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(s.at(-1)!), min: round(s[0]!) };
}

/** A small deterministic generator, so two runs change the same interfaces. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

// --- child: the watcher as serve runs it ---------------------------------------------------------

interface ChildConfig {
  readonly registry: string;
  readonly expectServices: number;
  readonly expectEndpoints: number;
  readonly debounceMs: number;
  readonly zkDebounceMs: number;
  readonly graceMs: number;
}

interface SyncMsg {
  type: 'sync';
  /** onSync called (the hub emitted the ServiceEntry changes). */
  t1: number;
  /** The engine applied them, flushed and the cache was updated (what serve does next). */
  t2: number;
  changes: number;
  serviceEntries: number;
  endpoints: number;
  items?: { name: string; endpoints?: number; deleted?: true }[];
}

type ChildMsg =
  | SyncMsg
  | { type: 'started'; t0: number; rssMB: number; heapUsedMB: number }
  | { type: 'synced'; coldSyncMs: number; firstSyncMs: number; syncs: number }
  | { type: 'mem'; rssMB: number; heapUsedMB: number; externalMB: number; peakRssMB: number }
  | { type: 'read'; service: string; t: number }
  | { type: 'cycles'; cycles: number[] }
  | { type: 'gc'; count: number; totalMs: number; maxMs: number };

function send(m: ChildMsg): void {
  process.send!(m);
}

/**
 * Records when the Nacos watcher reads instance lists (Node's fetch, wrapped): for a watched
 * service, the first read that STARTED after the watch began (the change was stored by then, so
 * that read sees it) is reported with the time its answer came.
 */
function instrumentFetch() {
  const real = globalThis.fetch;
  const waiting = new Map<string, number>();
  globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (!url.pathname.endsWith('/v1/ns/instance/list')) return real(input, init);
    const start = nowMs();
    // The answer's head is its time (the bodies are a few kB): the body is left to the watcher.
    const res = await real(input, init);
    const name = url.searchParams.get('serviceName')?.replace(/^.*@@/, '') ?? '';
    const since = waiting.get(name);
    if (since !== undefined && start >= since) {
      waiting.delete(name);
      send({ type: 'read', service: name, t: nowMs() });
    }
    return res;
  };
  return { watch: (name: string) => waiting.set(name, nowMs()) };
}

async function child(cfg: ChildConfig): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const config = parseRegistry(cfg.registry);
  if ('error' in config) throw new Error(config.error);
  const fetchLog = config.kind === 'nacos' ? instrumentFetch() : undefined;
  // What serve() builds before the registries (no manifests): an engine, flushed, and its cache.
  const engine = new Engine(loadBuiltinProtocols(), resolveOptions(undefined, 'bench', []), []);
  engine.flush();
  const cache = new ResourceCache();
  cache.setResources(routesByName(engine.output().routes));

  // Garbage-collection pauses of this process, counted from the `gc` message on.
  let gcs: number[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push(e.duration);
  }).observe({ entryTypes: ['gc'] });
  let synced = false;
  let syncs = 0;
  let firstSync: number | undefined;
  // What the process holds before any registry is read (modules, the tsx loader, an empty engine).
  gc();
  gc();
  const idle = process.memoryUsage();
  const t0 = nowMs();
  send({ type: 'started', t0, rssMB: round(idle.rss / MB), heapUsedMB: round(idle.heapUsed / MB) });
  const hub = new RegistryHub({
    configs: [config],
    sync: { catalog: { ...DEFAULT_CATALOG_OPTIONS, removalGraceMs: cfg.graceMs }, serviceEntries: DEFAULT_SERVICEENTRY_OPTIONS },
    logger: pino({ level: 'silent' }),
    debounceMs: cfg.debounceMs,
    feeds: { zkDebounceMs: cfg.zkDebounceMs },
    onSync: (r) => {
      // As serve's onSync: diagnostics, apply, flush, changed route tables into the cache.
      const t1 = nowMs();
      engine.setInputDiagnostics([...r.diagnostics]);
      engine.apply(r.changes);
      const delta = engine.flush();
      const upserts = new Map<string, object>();
      for (const name of delta.changedRoutes) {
        const route = engine.route(name);
        if (route) upserts.set(name, route);
      }
      cache.update(upserts, delta.removedRoutes);
      const t2 = nowMs();
      syncs++;
      firstSync ??= t2;
      let endpoints = 0;
      for (const se of r.serviceEntries) endpoints += se.spec.endpoints?.length ?? 0;
      const items =
        r.changes.length <= 20
          ? r.changes.map((c) => (c.op === 'upsert' ? { name: c.resource.metadata.name, endpoints: (c.resource as ServiceEntry).spec.endpoints?.length ?? 0 } : { name: c.name, deleted: true as const }))
          : undefined;
      send({ type: 'sync', t1, t2, changes: r.changes.length, serviceEntries: r.serviceEntries.length, endpoints, ...(items ? { items } : {}) });
      if (!synced && r.serviceEntries.length === cfg.expectServices && endpoints === cfg.expectEndpoints) {
        synced = true;
        send({ type: 'synced', coldSyncMs: round(t2 - t0), firstSyncMs: round(firstSync - t0), syncs });
      }
    },
  });

  // When each complete read of the registry ended (its status' lastSyncMs moves), sampled every 10 ms.
  const readEnds: number[] = [];
  let lastSync: number | undefined;
  setInterval(() => {
    const at = hub.statuses()[0]?.lastSyncMs;
    if (at !== undefined && at !== lastSync) {
      lastSync = at;
      readEnds.push(nowMs());
    }
  }, 10).unref();

  process.on('message', (m: { type: string; service?: string }) => {
    if (m.type === 'mem') {
      const peakRssMB = round(process.resourceUsage().maxRSS / 1024);
      gc();
      gc();
      setTimeout(() => {
        const u = process.memoryUsage();
        send({ type: 'mem', rssMB: round(u.rss / MB), heapUsedMB: round(u.heapUsed / MB), externalMB: round(u.external / MB), peakRssMB });
      }, 500);
    } else if (m.type === 'watch' && m.service !== undefined) {
      fetchLog?.watch(m.service);
    } else if (m.type === 'gc-reset') {
      gcs = [];
    } else if (m.type === 'gc') {
      send({ type: 'gc', count: gcs.length, totalMs: round(gcs.reduce((x, y) => x + y, 0)), maxMs: round(Math.max(0, ...gcs)) });
    } else if (m.type === 'cycles') {
      send({ type: 'cycles', cycles: readEnds.splice(0) });
    } else if (m.type === 'exit') {
      hub.close();
      // Let the ZooKeeper client send its close (the server then drops the session's watches).
      setTimeout(() => process.exit(0), 300);
    }
  });
}

// --- parent: the link to a child -----------------------------------------------------------------

class ChildLink {
  readonly messages: ChildMsg[] = [];
  private wake: (() => void) | undefined;
  private exited: string | undefined;

  private constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: ChildMsg) => {
      this.messages.push(m);
      this.wake?.();
    });
    proc.on('exit', (code, signal) => {
      this.exited = `child exited (${code ?? signal})`;
      this.wake?.();
    });
  }

  static start(cfg: ChildConfig, cpuProfDir: string | undefined): ChildLink {
    const execArgv = ['--import', 'tsx', ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [])];
    return new ChildLink(fork(fileURLToPath(import.meta.url), ['--child', JSON.stringify(cfg)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  /** The first message from index `from` on that satisfies `pred`. */
  async waitFor<T extends ChildMsg>(from: number, pred: (m: ChildMsg) => m is T, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let i = from; ; ) {
      for (; i < this.messages.length; i++) if (pred(this.messages[i]!)) return this.messages[i] as T;
      if (this.exited) throw new Error(`${what}: ${this.exited}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  send(m: object): void {
    this.proc.send(m);
  }

  async memory(): Promise<Extract<ChildMsg, { type: 'mem' }>> {
    const from = this.messages.length;
    this.send({ type: 'mem' });
    const m = await this.waitFor(from, (x): x is Extract<ChildMsg, { type: 'mem' }> => x.type === 'mem', 30_000, 'memory');
    const { type: _, ...rest } = m;
    return rest as Extract<ChildMsg, { type: 'mem' }>;
  }

  async gcStats(): Promise<{ count: number; totalMs: number; maxMs: number }> {
    const from = this.messages.length;
    this.send({ type: 'gc' });
    const { type: _, ...rest } = await this.waitFor(from, (x): x is Extract<ChildMsg, { type: 'gc' }> => x.type === 'gc', 30_000, 'gc stats');
    return rest;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.send({ type: 'exit' });
    await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}

const isSynced = (m: ChildMsg): m is Extract<ChildMsg, { type: 'synced' }> => m.type === 'synced';

/** Starts a watcher child and waits for its complete ServiceEntry set. */
async function coldSync(cfg: ChildConfig, cpuProfDir: string | undefined, timeoutMs: number) {
  const link = ChildLink.start(cfg, cpuProfDir);
  try {
    const started = await link.waitFor(0, (m): m is Extract<ChildMsg, { type: 'started' }> => m.type === 'started', 60_000, 'watcher start');
    const synced = await link.waitFor(0, isSynced, timeoutMs, `cold sync of ${cfg.registry}`);
    return { link, synced, idle: { rssMB: started.rssMB, heapUsedMB: started.heapUsedMB } };
  } catch (e) {
    link.proc.kill('SIGKILL');
    throw e;
  }
}

/** Waits for the sync that emits ServiceEntry `name` with `endpoints` endpoints. */
function emitted(link: ChildLink, from: number, name: string, endpoints: number, what: string): Promise<SyncMsg> {
  return link.waitFor(from, (m): m is SyncMsg => m.type === 'sync' && (m.items ?? []).some((i) => i.name === name && i.endpoints === endpoints), 60_000, what);
}

// --- ZooKeeper -----------------------------------------------------------------------------------

async function mntr(server: ZkServer): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await server.fourLetter('mntr')).split('\n')) {
    const [k, v] = line.split('\t');
    if (k && v !== undefined) out[k] = v.trim();
  }
  return out;
}

/** Server-side watches: mntr's zk_watch_count (children watches included) and wchs's data/exist count. */
async function watches(server: ZkServer, interfaces: number) {
  const total = Number((await mntr(server)).zk_watch_count);
  const wchs = /Total watches:(\d+)/.exec(await server.fourLetter('wchs'))?.[1];
  return { total, perInterface: round(total / interfaces, 3), wchsDataAndExistOnly: wchs === undefined ? undefined : Number(wchs) };
}

const DEBOUNCE = { debounceMs: 0, zkDebounceMs: 0, graceMs: 0 };

async function zookeeperPhases(a: Args) {
  const server = await ZkServer.start({ jvmFlags: ['-Xmx3g', '-Dzookeeper.forceSync=no'] });
  const writer = await connectWriter(server.connect);
  const registry = `zookeeper://${server.connect}`;
  const n = a.services;
  const p = a.providers;
  const out: Record<string, unknown> = { server: 'Apache ZooKeeper (Debian package), 127.0.0.1, forceSync=no', connect: server.connect };
  try {
    // interface
    let nodes = interfaceLayout('/dubbo', n, p);
    let t = nowMs();
    await createAll(writer, nodes);
    const populate = { nodes: nodes.length, providerNodes: n * p, ms: Math.round(nowMs() - t) };
    log(`interface layout: ${nodes.length} nodes in ${populate.ms} ms`);
    nodes = [];
    out.interface = { populate, ...(await zkPhase(server, writer, a, { registry, expectServices: n, expectEndpoints: n * p, ...DEBOUNCE }, a.changes, 'interface')) };

    if (a.layouts) {
      nodes = allModeAdditions('/dubbo', '/services', n, p);
      t = nowMs();
      await createAll(writer, nodes);
      const populateAll = { nodes: nodes.length, ms: Math.round(nowMs() - t) };
      log(`all-mode additions: ${nodes.length} nodes in ${populateAll.ms} ms`);
      out.all = { populate: populateAll, ...(await zkPhase(server, writer, a, { registry, expectServices: n, expectEndpoints: n * p, ...DEBOUNCE }, a.allChanges, 'all')) };

      nodes = instanceLayout('/inst', '/inst-services', n, p);
      t = nowMs();
      await createAll(writer, nodes);
      const populateInst = { nodes: nodes.length, ms: Math.round(nowMs() - t) };
      log(`instance layout: ${nodes.length} nodes in ${populateInst.ms} ms`);
      nodes = [];
      const cfg = { registry: `${registry}?root=/inst&services=/inst-services`, expectServices: n, expectEndpoints: n * p, ...DEBOUNCE };
      out.instance = { populate: populateInst, ...(await zkPhase(server, writer, a, cfg, 0, 'instance')) };
    }
    const m = await mntr(server);
    out.serverState = { znodes: Number(m.zk_znode_count), approximateDataSizeMB: round(Number(m.zk_approximate_data_size) / MB) };
  } finally {
    writer.close();
    await server.close();
  }
  return out;
}

async function zkPhase(server: ZkServer, writer: Awaited<ReturnType<typeof connectWriter>>, a: Args, cfg: ChildConfig, changes: number, label: string) {
  const before = Number((await mntr(server)).zk_watch_count);
  log(`${label}: starting the watcher (${before} watches on the server before)`);
  const { link, synced, idle } = await coldSync(cfg, a.cpuProfChild, 300_000);
  log(`${label}: cold sync ${synced.coldSyncMs} ms`);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const w = await watches(server, a.services);
    const memory = await link.memory();
    // V8 gives freed pages back to the system lazily: the same figure after 10 s of idleness.
    await new Promise((r) => setTimeout(r, 10_000));
    const settled = await link.memory();
    log(`${label}: ${w.total} watches, RSS ${memory.rssMB} MB (${settled.rssMB} MB 10 s later)`);
    link.send({ type: 'gc-reset' });
    const change = changes > 0 ? await zkChanges(writer, link, a, changes, label) : undefined;
    return { coldSyncMs: synced.coldSyncMs, firstSyncMs: synced.firstSyncMs, syncsUntilComplete: synced.syncs, loadAverage1mAfterSync: round(os.loadavg()[0]!, 2), watches: { ...w, beforeWatcher: before }, memory: { ...memory, after10sIdle: { rssMB: settled.rssMB, heapUsedMB: settled.heapUsedMB }, beforeReading: idle }, ...(change ? { change } : {}) };
  } finally {
    await link.stop();
  }
}

/** Sequential changes: even ones create an extra provider of a random interface, odd ones delete it. */
async function zkChanges(writer: Awaited<ReturnType<typeof connectWriter>>, link: ChildLink, a: Args, changes: number, label: string) {
  const rnd = lcg(label === 'interface' ? 9 : 17);
  const toSync: number[] = [];
  const toEngine: number[] = [];
  const ack: number[] = [];
  const afterAck: number[] = [];
  let f: Iface | undefined;
  let path = '';
  for (let c = 0; c < changes; c++) {
    const create = c % 2 === 0;
    if (create) {
      f = iface(Math.floor(rnd() * a.services));
      path = `/dubbo/${javaUrlEncode(f.name)}/providers/${providerNode(f, extraIp(c / 2 + (label === 'interface' ? 0 : 5000)), String(1_800_000_000_000 + c), 'interface')}`;
    }
    const name = serviceEntryName(hostOf(f!));
    const from = link.messages.length;
    const t0 = nowMs();
    await (create ? createNode(writer, path, true) : removeNode(writer, path));
    const tAck = nowMs();
    ack.push(tAck - t0);
    const m = await emitted(link, from, name, a.providers + (create ? 1 : 0), `${label} change ${c} (${create ? 'create' : 'delete'} under ${name})`);
    toSync.push(m.t1 - t0);
    toEngine.push(m.t2 - t0);
    afterAck.push(Math.max(0, m.t1 - tAck));
    await new Promise((r) => setTimeout(r, 20 + rnd() * 30));
  }
  log(`${label}: ${changes} changes, to the emitted ServiceEntry p50 ${stats(toSync)!.p50} ms p99 ${stats(toSync)!.p99} ms`);
  const gc = await link.gcStats();
  return {
    n: changes,
    kinds: 'create and delete of one provider node, alternately',
    toServiceEntryMs: stats(toSync),
    toEngineFlushedMs: stats(toEngine),
    writeAckMs: stats(ack),
    afterWriteAckMs: stats(afterAck),
    watcherGcDuringChanges: gc,
    loadAverage1m: round(os.loadavg()[0]!, 2),
  };
}

// --- Nacos ---------------------------------------------------------------------------------------

async function pool<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

function registration(f: Iface, ip: string, j: number) {
  return { serviceName: nacosServiceName(f), ip, port: 20880, metadata: nacosMetadata(f, j), ephemeral: false };
}

/**
 * A started rnacos that stores persistent instances: a probe registration must read back (the test
 * harness already throws away a start whose Raft state machine panicked; this checks the result).
 */
async function startRnacos(): Promise<Rnacos> {
  for (let attempt = 1; ; attempt++) {
    const server = await Rnacos.start();
    // In a namespace of its own: the watcher reads `public` only.
    const probe = { serviceName: 'metamesh-bench-probe', ip: '127.0.0.9', port: 1, ephemeral: false, namespace: 'bench-probe' };
    await server.register(probe).catch(() => {});
    for (let i = 0; i < 40; i++) {
      const hosts = ((await server.instances(probe.serviceName, 'DEFAULT_GROUP', probe.namespace).catch(() => ({}))) as { hosts?: unknown[] }).hosts ?? [];
      if (hosts.length > 0) {
        await server.deregister(probe);
        return server;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await server.close();
    if (attempt >= 5) throw new Error('rnacos did not store a persistent instance after 5 starts');
    log(`rnacos start ${attempt} cannot store instances; starting another`);
  }
}

async function nacosPhase(a: Args) {
  const server = await startRnacos();
  const n = a.nacosServices;
  const k = a.nacosInstances;
  try {
    const work: [number, number][] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) work.push([i, j]);
    let t = nowMs();
    await pool(work, 32, ([i, j]) => server.register(registration(iface(i), `10.${(i >> 8) & 255}.${i & 255}.${j + 1}`, j)));
    const populate = { instances: work.length, ms: Math.round(nowMs() - t) };
    log(`nacos: ${work.length} instances registered in ${populate.ms} ms`);

    const cfg: ChildConfig = { registry: `nacos://127.0.0.1:${server.port}?pollMs=${a.nacosPollMs}`, expectServices: n, expectEndpoints: n * k, debounceMs: 0, zkDebounceMs: 0, graceMs: 0 };
    const { link, synced, idle } = await coldSync(cfg, a.cpuProfChild, 600_000);
    log(`nacos: cold sync ${synced.coldSyncMs} ms`);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const memory = await link.memory();
      await new Promise((r) => setTimeout(r, 10_000));
      const settled = await link.memory();
      const loadAverage1mAfterSync = round(os.loadavg()[0]!, 2);
      link.send({ type: 'gc-reset' });
      const rnd = lcg(23);
      const total: number[] = [];
      const readAfterChange: number[] = [];
      const emitAfterRead: number[] = [];
      let f: Iface | undefined;
      let ip = '';
      for (let c = 0; c < a.nacosChanges; c++) {
        const create = c % 2 === 0;
        if (create) {
          f = iface(Math.floor(rnd() * n));
          ip = extraIp(c / 2);
        }
        const from = link.messages.length;
        const t0 = nowMs();
        const r = registration(f!, ip, 0);
        await (create ? server.register(r) : server.deregister(r));
        // Reads that start from now on see the change.
        link.send({ type: 'watch', service: nacosServiceName(f!) });
        const name = serviceEntryName(hostOf(f!));
        const m = await emitted(link, from, name, k + (create ? 1 : 0), `nacos change ${c}`);
        // The first read of the service after the change that saw it precedes the emission.
        const read = link.messages.slice(from).filter((x): x is Extract<ChildMsg, { type: 'read' }> => x.type === 'read' && x.service === nacosServiceName(f!)).at(-1);
        total.push(m.t1 - t0);
        if (read) {
          readAfterChange.push(read.t - t0);
          emitAfterRead.push(m.t1 - read.t);
        }
        await new Promise((res) => setTimeout(res, 20 + rnd() * 30));
      }
      const fromCycles = link.messages.length;
      link.send({ type: 'cycles' });
      const cycles = (await link.waitFor(fromCycles, (x): x is Extract<ChildMsg, { type: 'cycles' }> => x.type === 'cycles', 30_000, 'cycles')).cycles;
      // A read starts pollMs after the previous one ended: its duration is the rest of the gap.
      const cycleMs = stats(cycles.slice(1).map((end, i) => end - cycles[i]! - a.nacosPollMs));
      const gc = await link.gcStats();
      log(`nacos: ${a.nacosChanges} changes, p50 ${stats(total)?.p50} ms; poll cycle p50 ${cycleMs?.p50} ms`);
      return {
        server: `rnacos 0.8.8 (a Rust implementation of the Nacos server), 127.0.0.1, v1 Open API`,
        services: n,
        instancesPerService: k,
        instanceKind: 'persistent (ephemeral=false) v1 registrations with the metadata Dubbo 3.3.6 writes',
        populate,
        pollMs: a.nacosPollMs,
        coldSyncMs: synced.coldSyncMs,
        firstSyncMs: synced.firstSyncMs,
        loadAverage1mAfterSync,
        memory: { ...memory, after10sIdle: { rssMB: settled.rssMB, heapUsedMB: settled.heapUsedMB }, beforeReading: idle },
        readOfAllServicesMs: cycleMs,
        change: {
          n: a.nacosChanges,
          kinds: 'register and deregister of one instance, alternately',
          toServiceEntryMs: stats(total),
          changeToReadOfServiceMs: stats(readAfterChange),
          readToServiceEntryMs: stats(emitAfterRead),
          watcherGcDuringChanges: gc,
          loadAverage1m: round(os.loadavg()[0]!, 2),
        },
      };
    } finally {
      await link.stop();
    }
  } finally {
    await server.close();
  }
}

// --- main ----------------------------------------------------------------------------------------

const TARGETS = { coldSyncMs: 10_000, changeOverDebounceP99Ms: 50, rssMB: 400, watchesPerInterface: 2 };

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const result: Record<string, unknown> = {
    node: process.version,
    cpu: os.cpus()[0]?.model.trim(),
    cores: os.cpus().length,
    date: new Date().toISOString(),
    params: { ...a, debounceMs: { zookeeperWatcher: DEBOUNCE.zkDebounceMs, hub: DEBOUNCE.debounceMs }, removalGraceMs: DEBOUNCE.graceMs, serveDefaults: { zookeeperWatcherDebounceMs: 100, hubDebounceMs: 200, removalGraceMs: 30_000, nacosPollMs: 10_000 } },
  };
  if (a.zk) result.zookeeper = await zookeeperPhases(a);
  if (a.nacos) result.nacos = await nacosPhase(a);
  const zi = (result.zookeeper as { interface?: { coldSyncMs: number; memory: { rssMB: number }; watches: { perInterface: number }; change?: { toServiceEntryMs?: { p99: number } } } } | undefined)?.interface;
  result.targets = TARGETS;
  if (zi) {
    result.meetsTargets = {
      coldSyncMs: zi.coldSyncMs <= TARGETS.coldSyncMs,
      changeP99Ms: (zi.change?.toServiceEntryMs?.p99 ?? Infinity) <= TARGETS.changeOverDebounceP99Ms,
      rssMB: zi.memory.rssMB <= TARGETS.rssMB,
      watchesPerInterface: zi.watches.perInterface <= TARGETS.watchesPerInterface,
    };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  child(JSON.parse(process.argv[childAt + 1]!) as ChildConfig).catch((e: unknown) => {
    process.stderr.write(`[registry-sync child] ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
} else {
  main().catch((e: unknown) => {
    process.stderr.write(`[registry-sync] ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
