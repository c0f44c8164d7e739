/**
 * xDS fan-out benchmark: change-to-ACK latency, server CPU and bytes for one change pushed to N
 * streams, and a reconnect storm, against a go-control-plane peer.
 *
 *   node --import tsx bench/xds-fanout.ts [--n 1000,5000] [--storm 5000] [--routes 29] [--chunk 500] [--no-peer]
 *
 * Starts metamesh's XdsServer in THIS process on a ResourceCache with 20 RouteConfigurations
 * (~5 kB each, built by the pipeline Engine from ServiceEntries + DestinationRules + MetaRouters),
 * then drives it with the Go load generator (bench/loadgen, a separate process, one HTTP/2
 * connection per stream). Scenarios, for ours and for the go-control-plane peer (bench/peers/gcp):
 *   steady N: open N SotW RDS streams (all 20 names, every response ACKed); when all hold v1,
 *             change ONE MetaRouter (engine.apply + flush + cache.update) and measure, per stream,
 *             the time until it received AND ACKed the new version; server CPU, RSS, bytes.
 *   storm N:  N streams connect at once; time until all hold their routes.
 * Prints one JSON object on stdout; progress on stderr. Needs `go` on PATH (builds the two Go
 * programs into a temp dir first).
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createEngine } from '../src/pipeline/build.js';
import type { Engine } from '../src/pipeline/engine.js';
import { loadBuiltinProtocols } from '../src/protocol/builtin.js';
import { ResourceCache, routesByName } from '../src/xds/cache.js';
import { XdsServer } from '../src/xds/server.js';
import { benchConfig, metaRouter } from './lib/xds-config.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const log = (m: string) => process.stderr.write(`[xds-fanout] ${m}\n`);
v8.setFlagsFromString('--expose-gc');
const gc = (vm.runInNewContext('gc') as (() => void) | undefined) ?? (() => {});
const SERVICES = 20;
const KB = 1024;

// --- arguments -----------------------------------------------------------------------------------

interface Args {
  n: number[];
  storm: number;
  routes: number;
  peer: boolean;
  timeoutS: number;
  /** XdsServer fanOutChunk; undefined = the server's default. */
  chunk: number | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { n: [1000, 5000], storm: 5000, routes: 29, peer: true, timeoutS: 120, chunk: undefined };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    const val = () => argv[++i] ?? '';
    if (f === '--n') a.n = val().split(',').map(Number);
    else if (f === '--storm') a.storm = Number(val());
    else if (f === '--routes') a.routes = Number(val());
    else if (f === '--timeout') a.timeoutS = Number(val());
    else if (f === '--chunk') a.chunk = Number(val());
    else if (f === '--no-peer') a.peer = false;
    else throw new Error(`unknown argument ${f}; use --n 1000,5000 --storm 5000 --routes 29 --timeout 120 --chunk 500 --no-peer`);
  }
  return a;
}

// --- process metrics ----------------------------------------------------------------------------

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);

function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime
}
function procRss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) * KB;
}
function procWchar(pid: number | 'self'): number {
  try {
    const m = /wchar: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return Number(m?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}
const wallNs = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
const r1 = (x: number) => Math.round(x * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- the two servers ----------------------------------------------------------------------------

interface Target {
  readonly name: 'metamesh' | 'go-control-plane';
  readonly addr: string;
  cpuMs(): number;
  rss(): number;
  wchar(): number;
  encodeCount(): number | null;
  /** Changes one MetaRouter's route table to variant k. */
  change(k: number): Promise<void>;
  settle(): void;
}

/** Route JSON (without '@type') of every service, and of service 0 with weight variant k. */
function routeJson(engine: Engine, name: string): object {
  const r = engine.route(name);
  if (!r) throw new Error(`no route ${name}`);
  const { '@type': _t, ...json } = r as Record<string, unknown>;
  return json;
}
const weightOf = (k: number) => 30 + (k % 6) * 10;

// --- load generator -----------------------------------------------------------------------------

class LoadGen {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buf = '';
  private readonly lines: Array<Record<string, unknown>> = [];
  private waiter: (() => void) | undefined;
  private exited = false;
  stderr = '';

  constructor(bin: string, args: string[]) {
    this.proc = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
        this.waiter?.();
      }
    });
    this.proc.stderr.on('data', (d: Buffer) => void (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    this.proc.on('exit', () => {
      this.exited = true;
      this.waiter?.();
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  send(cmd: string): void {
    this.proc.stdin.write(cmd + '\n');
  }

  async next(event: string): Promise<Record<string, unknown>> {
    for (;;) {
      const i = this.lines.findIndex((l) => l.event === event);
      if (i >= 0) return this.lines.splice(i, 1)[0]!;
      if (this.exited) throw new Error(`loadgen exited before '${event}': ${this.stderr}`);
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  async quit(): Promise<void> {
    if (this.exited) return;
    this.send('quit');
    await Promise.race([this.next('bye').catch(() => undefined), sleep(15_000)]);
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}

// --- scenarios ----------------------------------------------------------------------------------

let changeNo = 0;

async function steady(t: Target, bin: string, names: string[], n: number, timeoutS: number, fresh: boolean) {
  t.settle();
  await sleep(500);
  const rss0 = t.rss();
  const heap0 = process.memoryUsage();
  const lg = new LoadGen(bin, ['-addr', t.addr, '-n', String(n), '-names', names.join(','), '-mode', 'steady', '-timeout', `${timeoutS}s`]);
  const ready = await lg.next('ready');
  log(`${t.name} N=${n}: ${String(ready.holding)} streams hold v1 after ${String(ready.allHoldRoutesMs)} ms (failed ${String(ready.failed)})`);
  t.settle();
  await sleep(1000); // idle
  t.settle();
  const rss1 = t.rss();
  const heap1 = process.memoryUsage();
  lg.send('arm');
  await lg.next('armed');
  const cpu0 = t.cpuMs();
  const w0 = t.wchar();
  const enc0 = t.encodeCount();
  const t0 = wallNs();
  await t.change(changeNo++);
  lg.send(`t0 ${t0}`);
  const changed = await lg.next('changed');
  const cpuMs = t.cpuMs() - cpu0;
  const wchar = t.wchar() - w0;
  const enc = t.encodeCount();
  const rss2 = t.rss();
  await lg.quit();
  log(`${t.name} N=${n}: change ACKed by ${String(changed.acked)}: ${JSON.stringify(changed.ackMs)}`);
  return {
    streams: n,
    ok: ready.ok === true && changed.ok === true,
    failedStreams: changed.failed,
    firstError: ready.firstError || undefined,
    connectAllHoldMs: ready.allHoldRoutesMs,
    changeAckMs: changed.ackMs,
    changeCpuMs: r1(cpuMs),
    rssMB: { beforeConnect: r1(rss0 / 2 ** 20), idle: r1(rss1 / 2 ** 20), afterChange: r1(rss2 / 2 ** 20) },
    // Only meaningful when the server never held streams before (later scenarios reuse freed memory).
    memoryPerIdleStreamKB: fresh ? r1((rss1 - rss0) / n / KB) : null,
    ...(t.name === 'metamesh' && fresh
      ? { heapPlusExternalPerIdleStreamKB: r1((heap1.heapUsed + heap1.external - heap0.heapUsed - heap0.external) / n / KB) }
      : {}),
    changeResponses: changed.responses,
    changeBytesReceivedByClients: changed.bytesReceived,
    changeServerWcharBytes: wchar,
    encodesForChange: enc === null || enc0 === null ? null : enc - enc0,
  };
}

async function storm(t: Target, bin: string, names: string[], n: number, timeoutS: number) {
  t.settle();
  await sleep(500);
  const cpu0 = t.cpuMs();
  const rss0 = t.rss();
  const lg = new LoadGen(bin, ['-addr', t.addr, '-n', String(n), '-names', names.join(','), '-mode', 'storm', '-timeout', `${timeoutS}s`]);
  const ready = await lg.next('ready');
  const cpuMs = t.cpuMs() - cpu0;
  const rss1 = t.rss();
  await lg.quit();
  log(`${t.name} storm ${n}: all hold routes after ${String(ready.allHoldRoutesMs)} ms (failed ${String(ready.failed)})`);
  return {
    clients: n,
    ok: ready.ok,
    holding: ready.holding,
    failed: ready.failed,
    firstError: ready.firstError || undefined,
    allHoldRoutesMs: ready.allHoldRoutesMs,
    perClientHoldMs: ready.perStreamHoldMs,
    serverCpuMs: r1(cpuMs),
    rssMB: { before: r1(rss0 / 2 ** 20), after: r1(rss1 / 2 ** 20) },
    bytesReceivedByClients: ready.bytesReceived,
  };
}

// --- main ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'xds-fanout-'));
  try {
    log('building Go programs');
    const loadgenBin = path.join(tmp, 'loadgen');
    const peerBin = path.join(tmp, 'gcp-rds');
    execFileSync('go', ['build', '-o', loadgenBin, '.'], { cwd: path.join(here, 'loadgen'), stdio: 'inherit' });
    if (args.peer) execFileSync('go', ['build', '-o', peerBin, '.'], { cwd: path.join(here, 'peers/gcp'), stdio: 'inherit' });

    // Resources: the pipeline's route tables for 20 services.
    const builtins = loadBuiltinProtocols();
    const config = benchConfig(SERVICES, args.routes);
    const engine = createEngine(config, builtins);
    const out = engine.output();
    if (out.diagnostics.length > 0) throw new Error(`bug: diagnostics ${JSON.stringify(out.diagnostics)}`);
    const cache = new ResourceCache();
    cache.setResources(routesByName(out.routes));
    const names = cache.names();
    const sizes = names.map((n) => cache.get(n)!.bytes.length);
    const changedName = engine.output().routes.find((r) => String(r.name).includes('bench0.'))!.name as string;
    log(`${names.length} route tables, ${Math.min(...sizes)}..${Math.max(...sizes)} bytes encoded`);

    // Variants of service 0's route table for the peer (a scratch engine, same inputs).
    const scratch = createEngine(benchConfig(SERVICES, args.routes), builtins);
    const variant = (k: number): object => {
      scratch.apply([{ op: 'upsert', resource: metaRouter(0, args.routes, weightOf(k)) }]);
      scratch.flush();
      return routeJson(scratch, changedName);
    };

    const server = new XdsServer({ cache, ...(args.chunk !== undefined ? { fanOutChunk: args.chunk } : {}) });
    const port = await server.listen('127.0.0.1:0');
    const ours: Target = {
      name: 'metamesh',
      addr: `127.0.0.1:${port}`,
      cpuMs: () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      },
      rss: () => process.memoryUsage.rss(),
      wchar: () => procWchar('self'),
      encodeCount: () => cache.encodeCount,
      change: async (k) => {
        engine.apply([{ op: 'upsert', resource: metaRouter(0, args.routes, weightOf(k)) }]);
        const delta = engine.flush();
        const upserts = new Map<string, object>();
        for (const name of delta.changedRoutes) upserts.set(name, engine.route(name)!);
        cache.update(upserts, delta.removedRoutes);
      },
      settle: gc,
    };

    let peerProc: ChildProcessWithoutNullStreams | undefined;
    let peer: Target | undefined;
    if (args.peer) {
      const file = path.join(tmp, 'routes.json');
      writeFileSync(file, JSON.stringify({ resources: names.map((n) => routeJson(engine, n)) }));
      peerProc = spawn(peerBin, ['-resources', file], { stdio: ['pipe', 'pipe', 'pipe'] });
      const ports = await new Promise<{ xdsPort: number; httpPort: number }>((resolve, reject) => {
        peerProc!.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString().split('\n')[0]!) as { xdsPort: number; httpPort: number }));
        peerProc!.once('exit', (c) => reject(new Error(`peer exited ${String(c)}`)));
      });
      const pid = peerProc.pid!;
      peer = {
        name: 'go-control-plane',
        addr: `127.0.0.1:${ports.xdsPort}`,
        cpuMs: () => procCpuMs(pid),
        rss: () => procRss(pid),
        wchar: () => procWchar(pid),
        encodeCount: () => null,
        change: async (k) => {
          const res = await fetch(`http://127.0.0.1:${ports.httpPort}/swap`, { method: 'POST', body: JSON.stringify(variant(k)) });
          if (!res.ok) throw new Error(`peer swap: ${res.status} ${await res.text()}`);
        },
        settle: () => {},
      };
    }

    const targets = [ours, ...(peer ? [peer] : [])];
    const result: Record<string, Record<string, unknown>> = {};
    // Largest N first: its RSS baseline is a process that never held streams.
    const ns = [...args.n].sort((a, b) => b - a);
    for (const t of targets) {
      const r: Record<string, unknown> = {};
      for (const [i, n] of ns.entries()) r[`steady${n}`] = await steady(t, loadgenBin, names, n, args.timeoutS, i === 0);
      if (args.storm > 0) r[`storm${args.storm}`] = await storm(t, loadgenBin, names, args.storm, args.timeoutS);
      result[t.name] = r;
    }
    await server.shutdown(1000);
    peerProc?.kill();

    // ratios and targets
    const get = (o: unknown, ...p: string[]): number => p.reduce<any>((x, k) => x?.[k], o) as number;
    const ratios: Record<string, number | null> = {};
    const m = result.metamesh!;
    const g = result['go-control-plane'];
    const ratio = (a: number, b: number) => (g && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? Math.round((a / b) * 100) / 100 : null);
    for (const n of ns) {
      for (const q of ['p50', 'p99', 'max']) ratios[`steady${n}.changeAck.${q}`] = ratio(get(m, `steady${n}`, 'changeAckMs', q), get(g, `steady${n}`, 'changeAckMs', q));
      ratios[`steady${n}.changeCpuMs`] = ratio(get(m, `steady${n}`, 'changeCpuMs'), get(g, `steady${n}`, 'changeCpuMs'));
      ratios[`steady${n}.connectAllHoldMs`] = ratio(get(m, `steady${n}`, 'connectAllHoldMs'), get(g, `steady${n}`, 'connectAllHoldMs'));
    }
    const big = Math.max(...ns);
    ratios[`steady${big}.memoryPerIdleStreamKB`] = ratio(get(m, `steady${big}`, 'memoryPerIdleStreamKB'), get(g, `steady${big}`, 'memoryPerIdleStreamKB'));
    if (args.storm > 0) {
      ratios[`storm${args.storm}.allHoldRoutesMs`] = ratio(get(m, `storm${args.storm}`, 'allHoldRoutesMs'), get(g, `storm${args.storm}`, 'allHoldRoutesMs'));
      ratios[`storm${args.storm}.serverCpuMs`] = ratio(get(m, `storm${args.storm}`, 'serverCpuMs'), get(g, `storm${args.storm}`, 'serverCpuMs'));
    }
    const targetsMet: Record<string, boolean | null> = {};
    const okMax = (n: number, limit: number) => (m[`steady${n}`] ? get(m, `steady${n}`, 'ok') === (true as unknown as number) && get(m, `steady${n}`, 'changeAckMs', 'max') <= limit : null);
    targetsMet['steady1000.allAcked<=250ms'] = okMax(1000, 250);
    targetsMet['steady5000.allAcked<=1000ms'] = okMax(5000, 1000);
    targetsMet['memoryPerIdleStream<=20kB'] = get(m, `steady${big}`, 'memoryPerIdleStreamKB') <= 20;
    targetsMet[`storm${args.storm}<=10s`] = args.storm > 0 ? get(m, `storm${args.storm}`, 'ok') === (true as unknown as number) && get(m, `storm${args.storm}`, 'allHoldRoutesMs') <= 10_000 : null;

    const json = {
      machine: { cpus: os.cpus().length, node: process.version, memGB: Math.round(os.totalmem() / 2 ** 30) },
      resources: { count: names.length, routesPerTable: args.routes, bytesMin: Math.min(...sizes), bytesMax: Math.max(...sizes), bytesTotal: sizes.reduce((a, b) => a + b, 0), changed: changedName },
      loadgen: 'bench/loadgen (Go, grpc-go + go-control-plane stubs), one HTTP/2 connection per stream, separate process, same machine',
      ...result,
      ratiosOursOverPeer: ratios,
      meetsTargets: Object.values(targetsMet).every((v) => v !== false) ,
      targets: targetsMet,
    };
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(`failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(2);
  },
);
