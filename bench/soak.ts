/**
 * Soak run: a bounded churn against the real xDS server on loopback, printing RSS, heap and
 * event-loop delay over time and whether they end flat.
 *
 *   node --expose-gc --import tsx bench/soak.ts [--rounds 60] [--clients 100] [--churn 10] [--services 20] [--routes 5] [--nack 0.1]
 *
 * In THIS process: an Engine built from the synthetic mesh of bench/lib/xds-config.ts, a
 * ResourceCache, and an XdsServer with the logging subscriber (into a sink that only counts bytes),
 * listening on 127.0.0.1. Also in this process, `--clients` grpc-js SotW clients, each on its own
 * HTTP/2 connection, subscribed to every route table. Each round:
 *   1. churn: `--churn` clients go away (the stream cancelled; every other one also closes its
 *      connection, the others leave theirs for a new stream) and as many new ones connect;
 *   2. wait until every client holds a response;
 *   3. edit one MetaRouter (Engine.apply + flush → cache.update), and wait until every client has
 *      answered the new version: an ACK, or with probability `--nack` a NACK with a 10 kB message;
 *   4. sample, after a forced GC: RSS, heap used, and the event-loop delay over the round.
 * Stdout gets one JSON object; progress goes to stderr. The verdict compares the median of the last
 * quarter of the rounds with the median of the second quarter (after warm-up): heap within +10 %,
 * RSS within +15 %, event-loop p99 at most twice plus 10 ms (it is noisy on a shared machine), and
 * no wait timed out. Exit status 1 when not flat.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { createEngine } from '../src/pipeline/build.js';
import { loadBuiltinProtocols } from '../src/protocol/builtin.js';
import { ROUTE_CONFIGURATION_TYPE_URL as RDS } from '../src/route/wire.js';
import { ResourceCache, routesByName } from '../src/xds/cache.js';
import { composeCallbacks } from '../src/xds/callbacks.js';
import { loggingCallbacks } from '../src/xds/log-callbacks.js';
import { XdsServer } from '../src/xds/server.js';
import { loadXdsServices, type DiscoveryResponseWire } from '../src/xds/services.js';
import { benchConfig, metaRouter } from './lib/xds-config.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '60' },
    clients: { type: 'string', default: '100' },
    churn: { type: 'string', default: '10' },
    services: { type: 'string', default: '20' },
    routes: { type: 'string', default: '5' },
    nack: { type: 'string', default: '0.1' },
  },
});
const args = {
  rounds: Number(values.rounds),
  clients: Number(values.clients),
  churn: Number(values.churn),
  services: Number(values.services),
  routes: Number(values.routes),
  nack: Number(values.nack),
};
const log = (s: string) => process.stderr.write(`${s}\n`);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const WAIT_MS = 30_000;
const NACK_MESSAGE = `route rejected: ${'x'.repeat(10_000)}`;

/** A deterministic PRNG, so two runs churn the same clients. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Client {
  readonly channel: grpc.Client;
  readonly call: grpc.ClientDuplexStream<object, DiscoveryResponseWire>;
  responses: number;
}

async function until(cond: () => boolean, what: string): Promise<boolean> {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) {
      log(`timed out waiting for ${what}`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
};

async function main(): Promise<void> {
  const random = prng(42);
  const engine = createEngine(benchConfig(args.services, args.routes), loadBuiltinProtocols());
  const cache = new ResourceCache();
  cache.setResources(routesByName(engine.output().routes));
  const names = [...routesByName(engine.output().routes).keys()];
  let logBytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logBytes += chunk.length;
      done();
    },
  });
  const server = new XdsServer({ cache, callbacks: composeCallbacks(loggingCallbacks(pino({ level: 'info' }, sink))) });
  const port = await server.listen('127.0.0.1:0');
  const { RdsClient } = loadXdsServices();

  const clients = new Set<Client>();
  /** Connections whose stream was cancelled, reused by the next new streams. */
  const idle: grpc.Client[] = [];
  const connect = (): void => {
    const channel = idle.pop() ?? new RdsClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    const call = (channel as unknown as { StreamRoutes(): grpc.ClientDuplexStream<object, DiscoveryResponseWire> }).StreamRoutes();
    const c: Client = { channel, call, responses: 0 };
    call.on('data', (r: DiscoveryResponseWire) => {
      c.responses++;
      const nack = random() < args.nack;
      call.write({ type_url: RDS, resource_names: names, version_info: nack ? '' : r.version_info, response_nonce: r.nonce, ...(nack ? { error_detail: { code: 3, message: NACK_MESSAGE } } : {}) });
    });
    call.on('error', () => undefined);
    call.write({ node: { id: `sidecar~10.0.0.${clients.size}~soak.default~default.svc.cluster.local` }, type_url: RDS, resource_names: names, version_info: '', response_nonce: '' });
    clients.add(c);
  };
  const disconnect = (c: Client, closeChannel: boolean): void => {
    clients.delete(c);
    c.call.cancel();
    if (closeChannel) c.channel.close();
    else idle.push(c.channel);
  };

  for (let i = 0; i < args.clients; i++) connect();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const samples: Array<{ round: number; rssMB: number; heapUsedMB: number; loopP99Ms: number; loopMaxMs: number; streams: number; logKB: number }> = [];
  let timeouts = 0;
  for (let round = 0; round < args.rounds; round++) {
    const victims = [...clients].sort(() => random() - 0.5).slice(0, args.churn);
    victims.forEach((c, i) => disconnect(c, i % 2 === 0));
    for (let i = 0; i < victims.length; i++) connect();
    if (!(await until(() => [...clients].every((c) => c.responses > 0), 'every client to hold its routes'))) timeouts++;
    const before = new Map([...clients].map((c) => [c, c.responses]));
    // A weight the router never had before in a row (21..80, the generator's default is 20): every edit changes a route table.
    engine.apply([{ op: 'upsert', resource: metaRouter(round % args.services, args.routes, 21 + (round % 60)) }]);
    const delta = engine.flush();
    if (delta.changedRoutes.size === 0) throw new Error(`bug: the edit of round ${round} changed no route table`);
    cache.update(new Map([...delta.changedRoutes].map((n) => [n, engine.route(n)!])), delta.removedRoutes);
    if (!(await until(() => [...before].every(([c, n]) => c.responses > n), 'every client to answer the edit'))) timeouts++;
    // The delay is read before the forced GC, and the monitor is off during it: the pause of a GC
    // this script forces is not the server's.
    const loopP99Ms = +(loop.percentile(99) / 1e6).toFixed(2);
    const loopMaxMs = +(loop.max / 1e6).toFixed(2);
    loop.disable();
    gc();
    const m = process.memoryUsage();
    samples.push({ round, rssMB: +(m.rss / 2 ** 20).toFixed(1), heapUsedMB: +(m.heapUsed / 2 ** 20).toFixed(1), loopP99Ms, loopMaxMs, streams: server.streams().length, logKB: +(logBytes / 1024).toFixed(1) });
    loop.reset();
    loop.enable();
    if (round % 10 === 0) log(`round ${round}: ${JSON.stringify(samples.at(-1))}`);
  }
  loop.disable();
  for (const c of [...clients]) disconnect(c, true);
  await server.shutdown(1000);

  const q = Math.max(1, Math.floor(samples.length / 4));
  const warm = samples.slice(q, 2 * q);
  const end = samples.slice(samples.length - q);
  const growth = (key: 'rssMB' | 'heapUsedMB') => median(end.map((s) => s[key])) / median(warm.map((s) => s[key])) - 1;
  const loopWarm = median(warm.map((s) => s.loopP99Ms));
  const loopEnd = median(end.map((s) => s.loopP99Ms));
  const verdict = {
    heapGrowth: +growth('heapUsedMB').toFixed(3),
    rssGrowth: +growth('rssMB').toFixed(3),
    loopP99WarmMs: loopWarm,
    loopP99EndMs: loopEnd,
    timeouts,
    gcForced: (globalThis as { gc?: unknown }).gc !== undefined,
  };
  const flat = verdict.heapGrowth < 0.1 && verdict.rssGrowth < 0.15 && loopEnd <= 2 * loopWarm + 10 && timeouts === 0;
  process.stdout.write(`${JSON.stringify({ args, samples, verdict: { ...verdict, flat } }, null, 2)}\n`);
  process.exitCode = flat ? 0 : 1;
}

await main();
