/**
 * Cost of the xDS metrics subscriber (src/metrics/xds.ts) per event, in this process: N streams
 * open, then each round every stream gets one response and ACKs it (the fan-out of one change),
 * then a scrape renders the exposition text. What `serve` adds to each push and ACK by counting.
 *
 *   node --import tsx bench/metrics-callbacks.ts [--streams 10000] [--rounds 15]
 *
 * Each round is run twice, interleaved: with hooks that do nothing (building the events, the
 * baseline) and with the metrics subscriber; the figures are the fastest round of each and their
 * difference, so load from other processes inflates neither more than the other. Prints one JSON
 * object on stdout.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createMetrics } from '../src/metrics/metrics.js';
import { metricsCallbacks } from '../src/metrics/xds.js';
import { ROUTE_CONFIGURATION_TYPE_URL as RDS } from '../src/route/wire.js';
import type { XdsCallbacks } from '../src/xds/callbacks.js';

const { values } = parseArgs({ options: { streams: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '15' } } });
const streams = Number(values.streams);
const rounds = Number(values.rounds);

const metrics = createMetrics({ processMetrics: false });
const counted = metricsCallbacks(metrics);
const noop: XdsCallbacks = { streamOpened: () => {}, request: () => {}, responseSent: () => {}, ack: () => {} };
const base = { nodeId: 'sidecar~10.0.0.1~a.b~b.svc.cluster.local', peer: '127.0.0.1:1' };
const names = Array.from({ length: 20 }, (_, i) => `svc-${i}.example_20880`);
const one = names.slice(0, 1);

function open(cb: XdsCallbacks): number {
  const t0 = performance.now();
  for (let s = 1; s <= streams; s++) {
    cb.streamOpened!({ ...base, stream: s, service: 'rds', mode: 'sotw' });
    cb.request!({ ...base, stream: s, typeUrl: RDS, responseNonce: '', names, unsubscribed: [] });
  }
  return performance.now() - t0;
}

function round(cb: XdsCallbacks, r: number): number {
  const t0 = performance.now();
  for (let s = 1; s <= streams; s++) cb.responseSent!({ ...base, stream: s, typeUrl: RDS, nonce: `${r}`, version: `v${r}`, names: one, removed: [] });
  for (let s = 1; s <= streams; s++) cb.ack!({ ...base, stream: s, typeUrl: RDS, nonce: `${r}`, version: `v${r}`, names: one });
  return performance.now() - t0;
}

const openBase = open(noop);
const openCounted = open(counted);
let bestBase = Infinity;
let bestCounted = Infinity;
for (let r = 0; r < rounds; r++) {
  bestBase = Math.min(bestBase, round(noop, r));
  bestCounted = Math.min(bestCounted, round(counted, r));
}
const t0 = performance.now();
const text = (await metrics.render()).text;
const scrapeMs = performance.now() - t0;

const ns = (ms: number) => Math.round((ms * 1e6) / streams);
process.stdout.write(
  `${JSON.stringify({
    streams,
    rounds,
    openNsPerStream: { baseline: ns(openBase), withMetrics: ns(openCounted) },
    pushAndAckNsPerStream: { baseline: ns(bestBase), withMetrics: ns(bestCounted), added: ns(bestCounted - bestBase) },
    scrapeMs: Math.round(scrapeMs * 100) / 100,
    scrapeBytes: text.length,
  })}\n`,
);
