/**
 * Scale benchmark for the pipeline engine.
 *
 *   node --import tsx bench/generate.ts [--services N] [--routes R] [--runs K] [--changes C]
 *
 * Builds a realistic ConfigSet in memory (N Dubbo ServiceEntries, N DestinationRules, N MetaRouters
 * with R routes each), then measures a full build, single-resource incremental updates, and checks
 * that the incremental result equals a full rebuild of the final resource set. Prints one JSON
 * object on stdout; progress goes to stderr. Exits 1 if incremental output differs from a rebuild.
 */
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { performance } from 'node:perf_hooks';
import type { ConfigSet } from '../src/input/read.js';
import { OPTIONS_KIND } from '../src/input/read.js';
import { resolveOptions } from '../src/config/options.js';
import type { Diagnostic } from '../src/model/diagnostics.js';
import type * as R from '../src/model/resources.js';
import { loadBuiltinProtocols } from '../src/protocol/builtin.js';
import { build, createEngine } from '../src/pipeline/build.js';
import type { Engine } from '../src/pipeline/engine.js';
import { objKey, type PipelineOutput } from '../src/pipeline/types.js';

// --- arguments -----------------------------------------------------------------------------------

interface Args {
  services: number;
  routes: number;
  runs: number;
  changes: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { services: 10000, routes: 5, runs: 5, changes: 200 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const m = /^--(services|routes|runs|changes)(?:=(.*))?$/.exec(flag);
    if (!m) throw new Error(`unknown argument ${flag}; use --services N --routes R --runs K --changes C`);
    const raw = m[2] ?? argv[++i];
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${m[1]} needs a positive integer, got ${String(raw)}`);
    args[m[1] as keyof Args] = n;
  }
  return args;
}

// --- generator -----------------------------------------------------------------------------------

const NAMESPACES = 50;
const PORT = 20880;
const TIMESTAMP = '2024-01-01T00:00:00Z';

const nsOf = (i: number) => `dubbo-${i % NAMESPACES}`;
const nameOf = (i: number) => `svc${i}`;
const hostOf = (i: number) => `com.example.svc${i}.api.demoservice`;

function ipOf(i: number): string {
  const n = i + 256; // skip 10.0.0.x
  return `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function meta(i: number, extra: Partial<R.ObjectMeta> = {}): R.ObjectMeta {
  return { name: nameOf(i), namespace: nsOf(i), creationTimestamp: TIMESTAMP, labels: { app: nameOf(i) }, ...extra };
}

function serviceEntry(i: number, generation = 0): R.ServiceEntry {
  const epBase = (i * 2 + 1) % 65000;
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'ServiceEntry',
    metadata: meta(i),
    spec: {
      hosts: [hostOf(i)],
      addresses: [ipOf(i)],
      ports: [{ number: PORT, name: 'tcp-metaprotocol-dubbo', protocol: 'TCP' }],
      location: 'MESH_INTERNAL',
      resolution: 'STATIC',
      workloadSelector: { labels: { app: `${nameOf(i)}-provider` } },
      endpoints: [
        { address: `172.16.${(epBase >>> 8) & 255}.${(epBase & 255) + 0}`, labels: { version: 'v1' }, ...(generation ? { weight: generation } : {}) },
        { address: `172.17.${(epBase >>> 8) & 255}.${epBase & 255}`, labels: { version: 'v2' } },
      ],
    },
  };
}

function destinationRule(i: number, variant = 0): R.DestinationRule {
  const hashed = (i + variant) % 3 === 0;
  const topLevel = (i + variant) % 6 === 0;
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'DestinationRule',
    metadata: meta(i),
    spec: {
      host: hostOf(i),
      ...(topLevel ? { trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'tenantId' } } } } : {}),
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        {
          name: 'v2',
          labels: { version: 'v2' },
          ...(hashed && !topLevel ? { trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'userId' } } } } : {}),
        },
      ],
    },
  };
}

function dest(i: number, subset: 'v1' | 'v2'): R.Destination {
  return { host: hostOf(i), subset };
}

/** Route k of R for service i (the last one is a catch-all split, so every table ends with one). */
function metaRoute(i: number, k: number, total: number, weight: number): R.MetaRoute {
  if (k === total - 1) {
    return {
      name: 'default-split',
      route: [
        { destination: dest(i, 'v1'), weight },
        { destination: dest(i, 'v2'), weight: 100 - weight },
      ],
      ...(i % 2 === 0 ? { mirror: dest(i, 'v2'), mirrorPercentage: { value: 10 } } : {}),
    };
  }
  const methods = ['sayHello', 'getUser', 'listOrders', 'createOrder', 'deleteUser'];
  const method = `${methods[k % methods.length]!}${k}`;
  switch (k % 4) {
    case 0: // exact method → canary, with a request mutation
      return {
        name: `canary-${k}`,
        match: { attributes: { method: { exact: method }, env: { prefix: 'gray' } } },
        route: [{ destination: dest(i, 'v2') }],
        requestMutation: [{ key: 'routed-by', value: 'metamesh' }],
      };
    case 1: // prefix on interface → weighted 20/80 with a mirror
      return {
        name: `split-${k}`,
        match: { attributes: { interface: { prefix: `com.example.svc${i}.api.` }, method: { exact: method } } },
        route: [
          { destination: dest(i, 'v1'), weight: 20 },
          { destination: dest(i, 'v2'), weight: 80 },
        ],
        mirror: dest(i, 'v2'),
        mirrorPercentage: { value: 50 },
      };
    case 2: // regex on method → v1, response mutation
      return {
        name: `regex-${k}`,
        match: { attributes: { method: { regex: `^(get|list)[A-Z][a-zA-Z]*${k}$` } } },
        route: [{ destination: dest(i, 'v1') }],
        responseMutation: [{ key: 'x-served-by', value: 'v1' }],
      };
    default: // exact version + presence of a header → v2
      return {
        name: `version-${k}`,
        match: { attributes: { version: { exact: `2.${k}.0` }, tenant: { regex: '*' } } },
        route: [{ destination: dest(i, 'v2') }],
      };
  }
}

function metaRouter(i: number, routes: number, opts: { weight?: number; extraRoutes?: number } = {}): R.MetaRouter {
  const total = routes + (opts.extraRoutes ?? 0);
  const list: R.MetaRoute[] = [];
  for (let k = 0; k < total; k++) list.push(metaRoute(i, k, total, opts.weight ?? 20));
  const spec: R.MetaRouterSpec = { hosts: [hostOf(i)], routes: list };
  if (i % 4 === 0) {
    spec.localRateLimit = {
      tokenBucket: { maxTokens: 1000, tokensPerFill: 1000, fillInterval: '1s' },
      conditions: [{ match: { attributes: { method: { exact: 'sayHello0' } } }, tokenBucket: { maxTokens: 10, tokensPerFill: 10, fillInterval: '1s' } }],
    };
  }
  return { apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'MetaRouter', metadata: meta(i), spec };
}

function generate(n: number, routes: number): ConfigSet {
  const optionDiagnostics: Diagnostic[] = [];
  const options = resolveOptions(undefined, OPTIONS_KIND, optionDiagnostics);
  if (optionDiagnostics.length > 0) throw new Error(`bug: default options gave diagnostics: ${JSON.stringify(optionDiagnostics)}`);
  const config: ConfigSet = { serviceEntries: [], services: [], destinationRules: [], gateways: [], metaRouters: [], applicationProtocols: [], options };
  for (let i = 0; i < n; i++) {
    config.serviceEntries.push(serviceEntry(i));
    config.destinationRules.push(destinationRule(i));
    config.metaRouters.push(metaRouter(i, routes));
  }
  return config;
}

// --- measurement helpers -------------------------------------------------------------------------

v8.setFlagsFromString('--expose-gc');
const gcFn = vm.runInNewContext('gc') as (() => void) | undefined;
const gc = () => gcFn?.();

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const round = (x: number) => Math.round(x * 1000) / 1000;

function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[idx]!;
}

function stats(values: readonly number[]) {
  return {
    p50: round(quantile(values, 0.5)),
    p99: round(quantile(values, 0.99)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
    n: values.length,
  };
}

function countsOf(config: ConfigSet, output: PipelineOutput): Record<string, number> {
  return {
    serviceEntries: config.serviceEntries.length,
    destinationRules: config.destinationRules.length,
    metaRouters: config.metaRouters.length,
    routeConfigurations: output.routes.length,
    routeEntries: output.routes.reduce((s, r) => s + ((r.virtualHosts as { routes: unknown[] }[])[0]?.routes.length ?? 0), 0),
    envoyFilters: output.envoyFilters.length,
    virtualServices: output.virtualServices.length,
    allocatedServiceEntries: output.serviceEntries.length,
    diagnostics: output.diagnostics.length,
  };
}

// --- main ----------------------------------------------------------------------------------------

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const builtins = loadBuiltinProtocols();
  const N = args.services;
  const changes = Math.min(args.changes, N);

  log(`generating ${N} services × ${args.routes} routes`);
  let t = performance.now();
  const config = generate(N, args.routes);
  const generateMs = performance.now() - t;

  // 1. full build ------------------------------------------------------------------------------
  const createMs: number[] = [];
  const outputMs: number[] = [];
  const totalMs: number[] = [];
  let counts: Record<string, number> | undefined;
  for (let run = 0; run <= args.runs; run++) {
    gc(); // nothing from the previous run is reachable any more
    const t0 = performance.now();
    const e = createEngine(config, builtins);
    const t1 = performance.now();
    const output = e.output();
    const t2 = performance.now();
    counts ??= countsOf(config, output);
    if (run === 0) {
      log(`warm-up: createEngine ${(t1 - t0).toFixed(0)} ms, output ${(t2 - t1).toFixed(0)} ms`);
      continue;
    }
    createMs.push(t1 - t0);
    outputMs.push(t2 - t1);
    totalMs.push(t2 - t0);
    log(`run ${run}/${args.runs}: createEngine ${(t1 - t0).toFixed(0)} ms, output ${(t2 - t1).toFixed(0)} ms, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB`);
  }

  // The engine that takes the incremental changes.
  gc();
  t = performance.now();
  const engine: Engine = createEngine(config, builtins);
  log(`engine for incremental changes built in ${(performance.now() - t).toFixed(0)} ms`);
  gc();
  const heapUsedMB = process.memoryUsage().heapUsed / 2 ** 20;

  // Current resource set, by key: what a full rebuild must be given at the end.
  const current = {
    serviceEntries: new Map(config.serviceEntries.map((r) => [objKey(r.kind, r.metadata.namespace, r.metadata.name), r])),
    destinationRules: new Map(config.destinationRules.map((r) => [objKey(r.kind, r.metadata.namespace, r.metadata.name), r])),
    metaRouters: new Map(config.metaRouters.map((r) => [objKey(r.kind, r.metadata.namespace, r.metadata.name), r])),
  };
  const track = (r: R.ServiceEntry | R.DestinationRule | R.MetaRouter) => {
    const key = objKey(r.kind, r.metadata.namespace, r.metadata.name);
    if (r.kind === 'ServiceEntry') current.serviceEntries.set(key, r);
    else if (r.kind === 'DestinationRule') current.destinationRules.set(key, r);
    else current.metaRouters.set(key, r);
  };
  const pick = (j: number, count: number) => Math.floor(((j + 0.5) * N) / count) % N; // spread over the set

  const timeChange = (r: R.ServiceEntry | R.DestinationRule | R.MetaRouter) => {
    const t0 = performance.now();
    engine.apply([{ op: 'upsert', resource: r }]);
    const delta = engine.flush();
    const ms = performance.now() - t0;
    track(r);
    return { ms, delta };
  };

  // 2a. single-MetaRouter changes: alternately a new weight split, or one more route.
  const routerMs: number[] = [];
  let routerChangedRoutes = 0;
  let routerHosts = 0;
  for (let j = 0; j < changes; j++) {
    const i = pick(j, changes);
    const r = j % 2 === 0 ? metaRouter(i, args.routes, { weight: 30 + (j % 50) }) : metaRouter(i, args.routes, { extraRoutes: 1 });
    const { ms, delta } = timeChange(r);
    routerMs.push(ms);
    routerChangedRoutes += delta.changedRoutes.size;
    routerHosts += delta.hostsRecomputed;
  }
  log(`${changes} MetaRouter changes: p50 ${quantile(routerMs, 0.5).toFixed(2)} ms`);

  // 2b. DestinationRule changes (hash policy moves) and ServiceEntry changes (endpoint weight).
  const otherChanges = Math.min(20, N);
  const drMs: number[] = [];
  const seMs: number[] = [];
  let drChangedRoutes = 0;
  let seChangedRoutes = 0;
  for (let j = 0; j < otherChanges; j++) {
    const i = (pick(j, otherChanges) + 1) % N;
    const d = timeChange(destinationRule(i, 1 + (j % 5)));
    drMs.push(d.ms);
    drChangedRoutes += d.delta.changedRoutes.size;
    const s = timeChange(serviceEntry((i + 7) % N, 2 + j));
    seMs.push(s.ms);
    seChangedRoutes += s.delta.changedRoutes.size;
  }
  log(`${otherChanges} DestinationRule changes: p50 ${quantile(drMs, 0.5).toFixed(2)} ms; ServiceEntry changes: p50 ${quantile(seMs, 0.5).toFixed(2)} ms`);

  // output() after a change (what a non-delta consumer would pay).
  t = performance.now();
  const incrementalOutput = engine.output();
  const outputAfterChangeMs = performance.now() - t;

  // 3. correctness -----------------------------------------------------------------------------
  const finalConfig: ConfigSet = {
    ...config,
    serviceEntries: [...current.serviceEntries.values()],
    destinationRules: [...current.destinationRules.values()],
    metaRouters: [...current.metaRouters.values()],
  };
  log('full rebuild of the final resource set for comparison');
  const a = JSON.stringify(incrementalOutput);
  const b = JSON.stringify(build(finalConfig, builtins));
  const incrementalEqualsFull = a === b;
  if (!incrementalEqualsFull) {
    let k = 0;
    while (k < a.length && a[k] === b[k]) k++;
    log(`MISMATCH at char ${k}: incremental …${a.slice(Math.max(0, k - 200), k + 200)}… full …${b.slice(Math.max(0, k - 200), k + 200)}…`);
  }

  // 4. report ----------------------------------------------------------------------------------
  const targets = { fullBuildMs: 1000, incrementalMs: 10 };
  const fullP50 = quantile(totalMs, 0.5);
  const routerP50 = quantile(routerMs, 0.5);
  const cpus = os.cpus();
  const result = {
    node: process.version,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    params: { services: N, routesPerRouter: args.routes, runs: args.runs, routerChanges: changes, drChanges: otherChanges, seChanges: otherChanges },
    counts,
    generateMs: round(generateMs),
    fullBuildMs: {
      total: { p50: round(fullP50), min: round(Math.min(...totalMs)) },
      createEngine: { p50: round(quantile(createMs, 0.5)), min: round(Math.min(...createMs)) },
      output: { p50: round(quantile(outputMs, 0.5)), min: round(Math.min(...outputMs)) },
    },
    incrementalMs: {
      metaRouter: { ...stats(routerMs), avgChangedRoutes: round(routerChangedRoutes / changes), avgHostsRecomputed: round(routerHosts / changes) },
      destinationRule: { ...stats(drMs), avgChangedRoutes: round(drChangedRoutes / otherChanges) },
      serviceEntry: { ...stats(seMs), avgChangedRoutes: round(seChangedRoutes / otherChanges) },
      outputAfterChange: round(outputAfterChangeMs),
    },
    heapUsedMB: round(heapUsedMB),
    incrementalEqualsFull,
    targets,
    meetsTargets: {
      fullBuildMs: fullP50 <= targets.fullBuildMs,
      incrementalMs: routerP50 <= targets.incrementalMs,
      incrementalMsAllKinds: Math.max(routerP50, quantile(drMs, 0.5), quantile(seMs, 0.5)) <= targets.incrementalMs,
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return incrementalEqualsFull ? 0 : 1;
}

process.exitCode = main();
