/**
 * Generated Istio config reaching a REAL istiod through each of metamesh's sinks, at scale.
 *
 *   node --import tsx bench/sink.ts [--services 10000] [--sinks mcp,apply] [--poll-ms 1000]
 *        [--deadline-s S] [--keep]
 *
 * The input (bench/lib/sink-input.ts): a `file://` registry snapshot of N Dubbo services and one
 * MetaRouter per service exported to two namespaces, which `metamesh serve` turns into N
 * ServiceEntries and 2N + 1 EnvoyFilters (exact counts in `counts`, taken from `metamesh generate`
 * of the same input, which is also the list of objects istiod must hold).
 *
 * The servers are the e2e harness's (test/e2e/support/): a real kube-apiserver + etcd, a real
 * istiod (pilot-discovery built from istio.io/istio and cached under ~/.cache/metamesh-test/), and
 * `metamesh serve` as its own process. One API server serves both phases (istiod needs one even
 * when its config comes over MCP):
 *
 *   mcp    `serve --mcp -f <manifests> --registry file://…`; istiod started once metamesh is ready,
 *          with configSources [xds://metamesh, k8s://]. Then one MetaRouter change, then istiod
 *          killed and started again (it reads everything again from metamesh).
 *   apply  istiod started first with configSources [k8s://] only (its start alone is timed, as a
 *          baseline); then `serve --kubeconfig <ServiceAccount> --apply --mesh-config none -f … --registry …`
 *          with the RBAC the Helm chart renders for the source and the apply sink; then the change.
 *
 * "Visible" means istiod's /debug/configz lists every generated ServiceEntry, EnvoyFilter and
 * VirtualService by kind, namespace and name (and, after the change, holds the moved EnvoyFilter and
 * no longer the old one). configz is polled: a probe starts at most every --poll-ms, and no sooner
 * than twice the last probe's duration after the last one (a probe is a full dump of istiod's config,
 * tens of MB and seconds of istiod's CPU at N = 10,000: `probeMs`). Where istiod's own metrics can
 * say that it cannot hold everything yet, a probe waits for them (a cheap gate, polled every
 * --poll-ms, or every 100 ms after the change): the apply phase for istiod's count of Kubernetes
 * config events (pilot_k8s_cfg_events, added ServiceEntries and EnvoyFilters), the change in both
 * phases for its count of config updates heard (pilot_inbound_updates). The time given is when the
 * first probe (or gate check) that led to seeing everything was sent; the true time lies after the
 * previous check was sent (`resolutionMs`: the gap between the two).
 *
 * Objects written: the MCP sink's metamesh_sink_objects_written_total (served to istiod), the apply
 * sink's /debug/sink counters, and the API server's own apiserver_request_total for
 * networking.istio.io, by verb and resource (the difference over the phase). RSS (now and peak,
 * VmHWM) and CPU seconds of each server process from /proc. Every wait has a deadline and fails
 * with a message saying what did not happen. Stdout gets one JSON object; progress goes to stderr.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { main as cli } from '../src/cli/main.js';
import { chartRbac } from '../test/e2e/support/apply.js';
import { startIstiod, type ConfigSource, type Istiod } from '../test/e2e/support/istiod.js';
import { repoRoot } from '../test/e2e/support/kube-build.js';
import { startKube, type KubeCluster } from '../test/e2e/support/kube.js';
import { startMetamesh, type MetameshProcess } from '../test/e2e/support/metamesh.js';
import { changeRouter, CONSUMERS, CONSUMERS_B, namespacesFor, outboundFilterName, writeSinkInput, type SinkInput } from './lib/sink-input.js';

const log = (m: string) => process.stderr.write(`[sink] ${m}\n`);
const nowMs = () => performance.now();
const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;
const load = () => os.loadavg().map((x) => round(x, 2));
const KINDS = new Set(['ServiceEntry', 'EnvoyFilter', 'VirtualService']);

// --- arguments -----------------------------------------------------------------------------------

type Sink = 'mcp' | 'apply';
interface Args {
  services: number;
  sinks: Sink[];
  pollMs: number;
  deadlineMs: number;
  keep: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { services: 10_000, sinks: ['mcp', 'apply'], pollMs: 1000, deadlineMs: 0, keep: false };
  let deadlineS: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const whole = (v: string, min: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs a whole number of at least ${min}, got ${v}`);
      return n;
    };
    if (flag === '--services') a.services = whole(value(), 1);
    else if (flag === '--poll-ms') a.pollMs = whole(value(), 50);
    else if (flag === '--deadline-s') deadlineS = whole(value(), 1);
    else if (flag === '--keep') a.keep = true;
    else if (flag === '--sinks') {
      const list = value().split(',');
      if (list.some((s) => s !== 'mcp' && s !== 'apply') || list.length === 0) throw new Error(`--sinks takes mcp, apply or mcp,apply, not ${list.join(',')}`);
      a.sinks = list as Sink[];
    } else throw new Error(`unknown argument ${flag}`);
  }
  // Bounded, and generous: on two shared cores the apply sink writes a few hundred objects a second.
  a.deadlineMs = (deadlineS ?? Math.max(300, Math.ceil(a.services * 0.2))) * 1000;
  return a;
}

// --- what istiod must hold -----------------------------------------------------------------------

interface Expected {
  readonly keys: ReadonlySet<string>;
  readonly counts: Record<string, number>;
  readonly diagnostics: Record<string, number>;
}

type Obj = { kind: string; metadata: { namespace: string; name: string } };
const keyOf = (o: Obj) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;

/** `metamesh generate` of the same input: the objects either sink must bring to istiod. */
async function expectedObjects(input: SinkInput): Promise<Expected> {
  let out = '';
  let err = '';
  const code = await cli(['generate', '-f', input.manifests, '--registry', `file://${input.registryFile}`, '-o', 'json'], { out: (s) => (out += s), err: (s) => (err += s) });
  if (out === '') throw new Error(`metamesh generate failed (${code}): ${err}`);
  const doc = JSON.parse(out) as { serviceEntries: Obj[]; envoyFilters: Obj[]; virtualServices: Obj[]; routes: unknown[]; diagnostics: { code: string }[] };
  const all = [...doc.serviceEntries, ...doc.envoyFilters, ...doc.virtualServices];
  const diagnostics: Record<string, number> = {};
  for (const d of doc.diagnostics) diagnostics[d.code] = (diagnostics[d.code] ?? 0) + 1;
  return {
    keys: new Set(all.map(keyOf)),
    counts: { serviceEntries: doc.serviceEntries.length, envoyFilters: doc.envoyFilters.length, virtualServices: doc.virtualServices.length, routeConfigurations: doc.routes.length },
    diagnostics,
  };
}

// --- istiod's view, polled -----------------------------------------------------------------------

/** The generated kinds istiod holds, by key (one full /debug/configz). */
async function istiodKeys(istiod: Istiod): Promise<Set<string>> {
  const res = await fetch(`http://${istiod.httpAddress}/debug/configz`, { signal: AbortSignal.timeout(120_000) });
  if (res.status !== 200) throw new Error(`istiod /debug/configz answered ${res.status}`);
  const list = (await res.json()) as Obj[];
  return new Set(list.filter((o) => KINDS.has(o.kind)).map(keyOf));
}

/**
 * istiod's monitoring address, from the command line the harness gave it (`--monitoringAddr=`):
 * its /metrics counts the config events it took from the Kubernetes API (pilot_k8s_cfg_events),
 * which costs istiod nothing to answer, unlike a configz dump.
 */
function istiodMonitoring(): string | undefined {
  for (const pid of childPids(ISTIOD)) {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const a = args.find((x) => x.startsWith('--monitoringAddr='));
    if (a) return a.slice('--monitoringAddr='.length);
  }
  return undefined;
}

/**
 * pilot_k8s_cfg_events by `<type> <event>` (e.g. `EnvoyFilter add`: counted once the object is in
 * istiod's store), and pilot_inbound_updates{type="config"} as `inbound config` (one per config
 * change istiod hears of from any source, MCP included, also counted after its store has it).
 */
async function configEvents(monitoring: string): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${monitoring}/metrics`, { signal: AbortSignal.timeout(30_000) })).text();
  const out: Record<string, number> = {};
  for (const s of samples(text, 'pilot_k8s_cfg_events')) out[`${s.labels.type} ${s.labels.event}`] = (out[`${s.labels.type} ${s.labels.event}`] ?? 0) + s.value;
  for (const s of samples(text, 'pilot_inbound_updates')) if (s.labels.type === 'config') out['inbound config'] = s.value;
  return out;
}

/**
 * A cheap gate before each configz probe of the apply phase: true once istiod has counted at least
 * `want` events of each `<type> <event>` more than in `base`. Events count only objects istiod took
 * in, so a configz probe before that would surely miss something.
 */
function eventsReached(monitoring: string, base: Record<string, number>, want: Record<string, number>): () => Promise<boolean> {
  return async () => {
    const now = await configEvents(monitoring);
    return Object.entries(want).every(([k, n]) => (now[k] ?? 0) - (base[k] ?? 0) >= n);
  };
}

interface Seen {
  /** From t0 until the first probe that saw it was sent. */
  readonly ms: number;
  /** Between the last probe that did not see it and that one. */
  readonly resolutionMs: number;
  readonly probes: number;
  /** Duration of the probe that saw it (one configz dump). */
  readonly probeMs: number;
}

/**
 * Polls istiod until `done(keys)` holds; fails after `deadlineMs` saying what is missing.
 * `progress` is logged every 30 s.
 */
async function untilIstiod(istiod: Istiod, what: string, t0: number, deadlineMs: number, pollMs: number, done: (keys: Set<string>) => string | undefined, opts: { progress?: () => Promise<string>; gate?: () => Promise<boolean> } = {}): Promise<Seen> {
  let probes = 0;
  let previous = t0;
  let lastLog = nowMs();
  let lastMissing = 'no answer yet';
  let probeMs = 0;
  for (;;) {
    const sent = nowMs();
    if (sent - t0 > deadlineMs) throw new Error(`${what}: not within ${deadlineMs / 1000} s (${lastMissing})`);
    try {
      if (!opts.gate || (await opts.gate())) {
        probes++;
        const keys = await istiodKeys(istiod);
        probeMs = nowMs() - sent;
        const missing = done(keys);
        if (missing === undefined) return { ms: round(sent - t0), resolutionMs: round(sent - previous), probes, probeMs: round(probeMs) };
        lastMissing = missing;
      } else lastMissing = 'istiod has not counted enough config events yet';
    } catch (e) {
      lastMissing = (e as Error).message;
    }
    previous = sent;
    if (nowMs() - lastLog > 30_000) {
      lastLog = nowMs();
      log(`${what}: ${round((nowMs() - t0) / 1000)} s, ${lastMissing}${opts.progress ? `; ${await opts.progress().catch((e: Error) => e.message)}` : ''}`);
    }
    // A configz dump costs istiod CPU (seconds at 30,000 objects): at most about a third of its time goes to probes.
    const wait = Math.max(pollMs, 2 * probeMs) - (nowMs() - sent);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

function missingOf(expected: ReadonlySet<string>): (keys: Set<string>) => string | undefined {
  return (keys) => {
    let missing = 0;
    let example = '';
    for (const k of expected) {
      if (keys.has(k)) continue;
      missing++;
      example ||= k;
    }
    return missing === 0 ? undefined : `${missing} of ${expected.size} generated objects missing in istiod, e.g. ${example}`;
  };
}

const CHANGED_NEW = `EnvoyFilter ${CONSUMERS_B}/${outboundFilterName(0)}`;
const CHANGED_OLD = `EnvoyFilter ${CONSUMERS}/${outboundFilterName(0)}`;
function changeSeen(keys: Set<string>): string | undefined {
  if (!keys.has(CHANGED_NEW)) return `istiod does not hold ${CHANGED_NEW} yet`;
  if (keys.has(CHANGED_OLD)) return `istiod still holds ${CHANGED_OLD}`;
  return undefined;
}

// --- processes -----------------------------------------------------------------------------------

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The bench's child processes whose command line contains `needle` (servers the harness spawned). */
function childPids(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

interface ProcStats {
  rssMB: number;
  peakRssMB: number;
  cpuS: number;
}

function procStats(needle: string): ProcStats | undefined {
  const [pid] = childPids(needle);
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat; fields[] starts at field 3.
    const cpuS = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    return { rssMB: round(kb('VmRSS') / 1024), peakRssMB: round(kb('VmHWM') / 1024), cpuS: round(cpuS, 1) };
  } catch {
    return undefined;
  }
}

const METAMESH = 'src/cli/main.ts';
const ISTIOD = 'pilot-discovery';

function servers(): Record<string, ProcStats | undefined> {
  return { metamesh: procStats(METAMESH), istiod: procStats(ISTIOD), kubeApiserver: procStats('kube-apiserver'), etcd: procStats('etcd') };
}

// --- metrics -------------------------------------------------------------------------------------

/** `name{labels} value` lines of a Prometheus text exposition, for names starting with `prefix`. */
function samples(text: string, prefix: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const m = /^[^{\s]+(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

async function metameshMetrics(m: MetameshProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${m.httpAddress}/metrics`, { signal: AbortSignal.timeout(30_000) })).text();
  const written: Record<string, number> = {};
  for (const s of samples(text, 'metamesh_sink_objects_written_total')) written[`${s.labels.sink} ${s.labels.kind} ${s.labels.operation}`] = s.value;
  return written;
}

async function debugSink(m: MetameshProcess): Promise<Record<string, unknown>> {
  return (await (await fetch(`http://${m.httpAddress}/debug/sink`, { signal: AbortSignal.timeout(30_000) })).json()) as Record<string, unknown>;
}

/** apiserver_request_total for networking.istio.io, `<VERB> <resource>` → count. */
function apiserverRequests(cluster: KubeCluster): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${cluster.server}/metrics`, { ca: readFileSync(path.join(cluster.dir, 'pki/apiserver.crt')), headers: { Authorization: `Bearer ${cluster.adminToken}` }, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const out: Record<string, number> = {};
        for (const s of samples(body, 'apiserver_request_total{')) {
          if (s.labels.group !== 'networking.istio.io') continue;
          const k = `${s.labels.verb} ${s.labels.resource}${s.labels.code && !s.labels.code.startsWith('2') ? ` ${s.labels.code}` : ''}`;
          out[k] = (out[k] ?? 0) + s.value;
        }
        resolve(out);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('API server /metrics: timeout')));
    req.on('error', reject);
    req.end();
  });
}

function difference(after: Record<string, number>, before: Record<string, number>, only: (k: string) => boolean = () => true): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0 && only(k)) out[k] = d;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const WRITE_VERBS = /^(APPLY|PATCH|POST|PUT|DELETE|CREATE|UPDATE|DELETECOLLECTION) /;
const sum = (r: Record<string, number>, only: (k: string) => boolean) => Object.entries(r).reduce((n, [k, v]) => (only(k) ? n + v : n), 0);

// --- phases --------------------------------------------------------------------------------------

interface Ctx {
  readonly a: Args;
  readonly cluster: KubeCluster;
  readonly input: SinkInput;
  readonly expected: Expected;
  readonly tmp: string;
}

const istiodLog = (l: string) => log(`istiod: ${l}`);
const registryFlag = (input: SinkInput) => `file://${input.registryFile}`;

async function mcpPhase(c: Ctx): Promise<Record<string, unknown>> {
  const { a, input, expected } = c;
  const loadAtStart = load();
  log(`mcp: starting metamesh serve --mcp (${a.services} services)`);
  const t0 = nowMs();
  const metamesh = await startMetamesh(['--mcp', '-f', input.manifests, '--registry', registryFlag(input)], path.join(c.tmp, 'metamesh-mcp.log'), a.deadlineMs);
  const metameshReadyMs = round(nowMs() - t0);
  let istiod: Istiod | undefined;
  try {
    const tIstiod = nowMs();
    const sources: ConfigSource[] = [{ address: `xds://${metamesh.xdsAddress}` }, { address: 'k8s://' }];
    istiod = await startIstiod({ kubeconfig: c.cluster.kubeconfig, configSources: sources, log: istiodLog });
    const istiodReadyMs = round(nowMs() - tIstiod);
    log(`mcp: metamesh ready after ${metameshReadyMs} ms, istiod ready ${istiodReadyMs} ms later; waiting for configz`);
    const all = await untilIstiod(istiod, 'mcp: istiod to hold every generated object', t0, a.deadlineMs, a.pollMs, missingOf(expected.keys));
    const fromIstiodStartMs = round(all.ms - (tIstiod - t0));
    log(`mcp: all visible after ${all.ms} ms (${fromIstiodStartMs} ms after istiod was started)`);
    const writtenAtAll = await metameshMetrics(metamesh);
    const afterAll = { servers: servers(), load: load() };

    const monitoring = istiodMonitoring();
    if (!monitoring) throw new Error('istiod\'s --monitoringAddr was not found on its command line');
    const events1 = await configEvents(monitoring);
    const tChange = nowMs();
    changeRouter(input, a.services);
    // Two updates: istiod creates the new EnvoyFilter while it walks the collection and deletes the
    // old one after the walk, each a config update of its own.
    const changeGate = eventsReached(monitoring, events1, { 'inbound config': 2 });
    const change = await untilIstiod(istiod, 'mcp: istiod to hold the changed EnvoyFilter', tChange, 300_000, 100, changeSeen, { gate: changeGate });
    log(`mcp: change visible after ${change.ms} ms`);

    await istiod.kill();
    const tRestart = nowMs();
    await istiod.start();
    const restartReadyMs = round(nowMs() - tRestart);
    const restart = await untilIstiod(istiod, 'mcp: restarted istiod to hold every generated object', tRestart, a.deadlineMs, a.pollMs, (keys) => missingOf(new Set([...expected.keys].filter((k) => k !== CHANGED_OLD)))(keys) ?? changeSeen(keys));
    log(`mcp: restarted istiod holds everything after ${restart.ms} ms`);
    const written = difference(await metameshMetrics(metamesh), writtenAtAll);
    return {
      loadAtStart,
      metameshReadyMs,
      istiodReadyMs,
      allVisible: { ...all, fromIstiodStartMs },
      change,
      istiodRestart: { readyMs: restartReadyMs, allVisible: restart },
      // After the change and the restart of istiod: what metamesh served again (nothing: the restarted istiod got the same versions).
      objectsWritten: { metameshSinkObjectsWrittenTotal: writtenAtAll, metameshSinkObjectsWrittenTotalAfter: written, apiServerWrites: 0 },
      afterAllVisible: afterAll,
      atEnd: { servers: servers(), load: load() },
    };
  } catch (e) {
    throw withLogs(e, metamesh, istiod);
  } finally {
    await istiod?.stop();
    await stopMetamesh(metamesh);
    changeRouter(input, a.services, false);
  }
}

async function applyPhase(c: Ctx): Promise<Record<string, unknown>> {
  const { a, input, expected, cluster } = c;
  const loadAtStart = load();
  log('apply: starting istiod with configSources [k8s://]');
  const tIstiod = nowMs();
  const istiod = await startIstiod({ kubeconfig: cluster.kubeconfig, configSources: [{ address: 'k8s://' }], log: istiodLog });
  const istiodReadyMs = round(nowMs() - tIstiod);
  let metamesh: MetameshProcess | undefined;
  try {
    const before = await apiserverRequests(cluster);
    const monitoring = istiodMonitoring();
    if (!monitoring) throw new Error('istiod\'s --monitoringAddr was not found on its command line');
    const events0 = await configEvents(monitoring);
    log(`apply: istiod ready in ${istiodReadyMs} ms; starting metamesh serve --apply (${a.services} services)`);
    const t0 = nowMs();
    metamesh = await startMetamesh(['--kubeconfig', cluster.readerKubeconfig, '--mesh-config', 'none', '--apply', '-f', input.manifests, '--registry', registryFlag(input)], path.join(c.tmp, 'metamesh-apply.log'), a.deadlineMs);
    const m = metamesh;
    const metameshReadyMs = round(nowMs() - t0);
    const progress = async () => `metamesh /debug/sink: ${JSON.stringify(((await debugSink(m)).sink as { counters?: unknown } | null)?.counters)}`;
    const gate = eventsReached(monitoring, events0, { 'ServiceEntry add': expected.counts.serviceEntries!, 'EnvoyFilter add': expected.counts.envoyFilters! });
    const all = await untilIstiod(istiod, 'apply: istiod to hold every generated object', t0, a.deadlineMs, a.pollMs, missingOf(expected.keys), { progress, gate });
    log(`apply: all visible after ${all.ms} ms`);
    const afterAll = { servers: servers(), load: load() };
    const atAll = await apiserverRequests(cluster);
    const sinkAtAll = await debugSink(m);
    const writtenAtAll = await metameshMetrics(m);

    const events1 = await configEvents(monitoring);
    const tChange = nowMs();
    changeRouter(input, a.services);
    const changeGate = eventsReached(monitoring, events1, { 'EnvoyFilter add': 1, 'EnvoyFilter delete': 1 });
    const change = await untilIstiod(istiod, 'apply: istiod to hold the changed EnvoyFilter', tChange, 300_000, 100, changeSeen, { gate: changeGate });
    log(`apply: change visible after ${change.ms} ms`);
    const atChange = await apiserverRequests(cluster);
    const writes = (r: Record<string, number>) => sum(r, (k) => WRITE_VERBS.test(k));
    return {
      loadAtStart,
      istiodReadyMs,
      metameshReadyMs,
      allVisible: all,
      change,
      objectsWritten: {
        apiServerWrites: writes(difference(atAll, before)),
        apiServerWritesForChange: writes(difference(atChange, atAll)),
        apiServerRequests: difference(atAll, before, (k) => !/^(LIST|WATCH) /.test(k)),
        apiServerRequestsForChange: difference(atChange, atAll, (k) => !/^(LIST|WATCH) /.test(k)),
        metameshSinkObjectsWrittenTotal: writtenAtAll,
        metameshSinkObjectsWrittenTotalForChange: difference(await metameshMetrics(m), writtenAtAll),
        debugSinkAtAllVisible: (sinkAtAll.sink as { counters?: unknown } | null)?.counters,
        debugSinkAtEnd: ((await debugSink(m)).sink as { counters?: unknown } | null)?.counters,
      },
      afterAllVisible: afterAll,
      atEnd: { servers: servers(), load: load() },
    };
  } catch (e) {
    throw withLogs(e, metamesh, istiod);
  } finally {
    await istiod.stop();
    if (metamesh) await stopMetamesh(metamesh);
    changeRouter(input, a.services, false);
  }
}

/**
 * Stops metamesh with SIGTERM (a graceful stop, so that e.g. `NODE_OPTIONS=--cpu-prof` gets its
 * profile written), then SIGKILL after 20 s if it is still there.
 */
async function stopMetamesh(m: MetameshProcess): Promise<void> {
  for (const pid of childPids(METAMESH)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      continue;
    }
    const deadline = nowMs() + 20_000;
    while (nowMs() < deadline && childPids(METAMESH).includes(pid)) await new Promise((r) => setTimeout(r, 100));
  }
  await m.kill();
}

function withLogs(e: unknown, metamesh: MetameshProcess | undefined, istiod: Istiod | undefined): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  let tail = '';
  try {
    if (metamesh) tail += `\nmetamesh log (tail):\n${metamesh.logText().slice(-3000)}`;
  } catch {
    // no log
  }
  if (istiod) tail += `\nistiod log (tail):\n${istiod.logText().slice(-3000)}`;
  err.message += tail;
  return err;
}

// --- main ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const result: Record<string, unknown> = {
    node: process.version,
    cpu: os.cpus()[0]?.model.trim(),
    cores: os.cpus().length,
    memGB: round(os.totalmem() / 2 ** 30),
    date: new Date().toISOString(),
    loadAverageAtStart: load(),
    params: { services: a.services, sinks: a.sinks, pollMs: a.pollMs, deadlineS: a.deadlineMs / 1000 },
  };
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'metamesh-bench-sink-'));
  let cluster: KubeCluster | undefined;
  try {
    const tGen = nowMs();
    const input = writeSinkInput(tmp, a.services, path.join(repoRoot, 'examples/options.yaml'));
    const expected = await expectedObjects(input);
    log(`input for ${a.services} services in ${round(nowMs() - tGen)} ms: ${JSON.stringify(expected.counts)}`);
    result.counts = { ...expected.counts, expectedInIstiod: expected.keys.size, diagnostics: expected.diagnostics };
    result.input = { registrySnapshotMB: round(readFileSync(input.registryFile).length / 2 ** 20, 2), metaRouterFiles: readdirSync(input.manifests).filter((f) => f.startsWith('metarouters-')).length };
    cluster = await startKube({ istioCrds: () => true, log: (l) => log(l) });
    const namespaces = ['istio-system', ...namespacesFor(a.services)].map((n) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${n}}\n`).join('---\n');
    await cluster.apply(namespaces);
    await cluster.apply(chartRbac({ kubernetes: true, apply: true, leaderElection: true }));
    const c: Ctx = { a, cluster, input, expected, tmp };
    if (a.sinks.includes('mcp')) result.mcp = await mcpPhase(c);
    if (a.sinks.includes('apply')) result.apply = await applyPhase(c);
    result.loadAverageAtEnd = load();
  } finally {
    await cluster?.stop();
    if (a.keep) log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`[sink] failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
