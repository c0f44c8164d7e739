/**
 * Memory per idle xDS stream: metamesh against the floors under it (a bare node:http2 server and a
 * bare grpc-js server, each in its own process).
 *
 *   node --import tsx bench/memory-floor.ts [--n 5000] [--only grpc-js,metamesh]
 *
 * Each server runs in its OWN child process (RSS is per process and freed memory is not given
 * back, so servers measured one after another in one process would distort each other):
 *   node-http2  the least a Node server can be: node:http2 answering each stream's first request
 *               with one gRPC frame (the prebuilt DiscoveryResponse) and then holding the stream.
 *   grpc-js     a bare @grpc/grpc-js RouteDiscoveryService doing the same (pass-through bytes).
 *   metamesh    the real XdsServer on a ResourceCache.
 * All serve the same 20 RouteConfigurations (~5 kB each, from the pipeline). The Go load generator
 * (bench/loadgen, separate process, one HTTP/2 connection per stream) opens N SotW streams; once
 * every stream holds its routes and has ACKed, and after a GC and a second of idleness, the child
 * reports RSS and V8 heap + external memory. Figures are (idle - before connecting) / N.
 *
 * Prints one JSON object on stdout; progress on stderr. Needs `go` on PATH.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import { createEngine } from '../src/pipeline/build.js';
import { loadBuiltinProtocols } from '../src/protocol/builtin.js';
import { ResourceCache, routesByName } from '../src/xds/cache.js';
import { encodeSotwResponse } from '../src/xds/envelope.js';
import { versionInfoOf } from '../src/xds/protocol.js';
import { XdsServer } from '../src/xds/server.js';
import { loadXdsServices } from '../src/xds/services.js';
import { benchConfig } from './lib/xds-config.js';

type Kind = 'node-http2' | 'grpc-js' | 'metamesh';
const KINDS: Kind[] = ['node-http2', 'grpc-js', 'metamesh'];
const here = path.dirname(fileURLToPath(import.meta.url));
const log = (m: string) => process.stderr.write(`[memory-floor] ${m}\n`);
const KB = 1024;

function buildCache(): ResourceCache {
  const engine = createEngine(benchConfig(20, 29), loadBuiltinProtocols());
  const cache = new ResourceCache();
  cache.setResources(routesByName(engine.output().routes));
  return cache;
}

// --- child: one server ---------------------------------------------------------------------------

async function child(kind: Kind): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const cache = buildCache();
  const names = cache.names();
  const resources = names.map((n) => cache.get(n)!);
  const response = encodeSotwResponse({ versionInfo: versionInfoOf(resources.map((r) => [r.name, r.version] as const)), nonce: '1', typeUrl: cache.typeUrl, resources });
  const held: unknown[] = [];
  let port: number;
  if (kind === 'node-http2') {
    const frame = Buffer.alloc(5 + response.length);
    frame.writeUInt32BE(response.length, 1);
    response.copy(frame, 5);
    const server = http2.createServer({ settings: { maxConcurrentStreams: 100000 } });
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.once('data', () => stream.write(frame));
      stream.on('data', () => {});
      stream.on('error', () => {});
      held.push(stream);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  } else if (kind === 'grpc-js') {
    const server = new grpc.Server({ 'grpc.max_concurrent_streams': 100000, 'grpc.enable_channelz': 0 });
    const rds = loadXdsServices().rds;
    const hold = (call: grpc.ServerDuplexStream<unknown, Buffer>) => {
      call.once('data', () => call.write(response));
      call.on('data', () => {});
      call.on('error', () => {});
      held.push(call);
    };
    server.addService(rds, { StreamRoutes: hold, DeltaRoutes: hold, FetchRoutes: (_c: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, response) });
    port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  } else {
    const server = new XdsServer({ cache });
    port = await server.listen('127.0.0.1:0');
  }
  const measure = () => {
    gc();
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
  };
  process.on('message', (msg) => {
    if (msg === 'measure') process.send!(measure());
  });
  process.send!({ port, names, before: measure() });
}

// --- parent ----------------------------------------------------------------------------------------

function request(proc: ChildProcess, msg: string): Promise<{ rss: number; heapUsed: number; external: number }> {
  return new Promise((resolve) => {
    proc.once('message', (m) => resolve(m as { rss: number; heapUsed: number; external: number }));
    proc.send(msg);
  });
}

function readyLine(proc: ChildProcess): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        if (line.includes('"event":"ready"')) resolve(JSON.parse(line) as Record<string, unknown>);
      }
    });
    proc.once('exit', (c) => reject(new Error(`loadgen exited with ${String(c)}`)));
  });
}

async function measureKind(kind: Kind, loadgen: string, n: number) {
  const srv = fork(fileURLToPath(import.meta.url), ['--child', kind], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const hello = await new Promise<{ port: number; names: string[]; before: { rss: number; heapUsed: number; external: number } }>((r) => srv.once('message', (m) => r(m as never)));
  const lg = spawn(loadgen, ['-addr', `127.0.0.1:${hello.port}`, '-n', String(n), '-names', hello.names.join(','), '-mode', 'steady', '-timeout', '120s'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = await readyLine(lg);
  await new Promise((r) => setTimeout(r, 1000));
  const idle = await request(srv, 'measure');
  lg.stdin!.write('quit\n');
  await new Promise((r) => lg.once('exit', r));
  srv.kill();
  const per = (k: 'rss' | 'heapUsed' | 'external') => Math.round(((idle[k] - hello.before[k]) / n / KB) * 10) / 10;
  const r = { streams: n, holding: ready.holding, failed: ready.failed, rssPerStreamKB: per('rss'), heapPerStreamKB: per('heapUsed'), externalPerStreamKB: per('external') };
  log(`${kind}: ${JSON.stringify(r)}`);
  return r;
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--child');
  if (i >= 0) return child(process.argv[i + 1] as Kind);
  const ni = process.argv.indexOf('--n');
  const n = ni >= 0 ? Number(process.argv[ni + 1]) : 5000;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'memory-floor-'));
  try {
    const loadgen = path.join(tmp, 'loadgen');
    execFileSync('go', ['build', '-o', loadgen, '.'], { cwd: path.join(here, 'loadgen'), stdio: 'inherit' });
    const oi = process.argv.indexOf('--only');
    const kinds = oi >= 0 ? (process.argv[oi + 1] ?? '').split(',').filter((k): k is Kind => (KINDS as string[]).includes(k)) : KINDS;
    const result: Record<string, unknown> = {};
    for (const kind of kinds) result[kind] = await measureKind(kind, loadgen, n);
    process.stdout.write(
      JSON.stringify({ machine: { cpus: os.cpus().length, node: process.version }, loadgen: 'bench/loadgen, one HTTP/2 connection per stream', ...result }, null, 2) + '\n',
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  log(`failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(2);
});
