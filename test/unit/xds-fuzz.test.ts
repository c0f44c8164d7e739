/**
 * A seeded fuzz of the xDS request handling: random and mutated DiscoveryRequest and
 * DeltaDiscoveryRequest messages (bad and stale nonces, huge node ids, names and NACK messages,
 * too many names, wrong type URLs, missing fields), interleaved with cache changes and transport
 * back-pressure, fed to real StreamSessions over a fake call. Bounded by a fixed number of steps per
 * seed, so it runs in the same time on every machine; a failure names its seed and step.
 *
 * Invariants checked after every step:
 * - nothing throws;
 * - per stream, at most one response is un-ACKed: a response is written only once the previous one
 *   was answered by a request carrying its nonce;
 * - nonces strictly increase per stream;
 * - a response carries only subscribed names, each at the cache's current version;
 * - what the stream keeps stays bounded: subscribed names within the limit, node id and NACK
 *   message clipped;
 * - a stream ends only with INVALID_ARGUMENT (a wrong type URL) or RESOURCE_EXHAUSTED (a limit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { createWire, encodeRouteConfiguration } from '../../src/proto/wire.js';
import { ROUTE_CONFIGURATION_TYPE_URL as RDS } from '../../src/route/wire.js';
import { ResourceCache } from '../../src/xds/cache.js';
import { MAX_ID_LENGTH, MAX_MESSAGE_LENGTH } from '../../src/util/clip.js';
import type { NameLimits } from '../../src/xds/limits.js';
import { loadXdsServices, type DeltaDiscoveryResponseWire, type DiscoveryResponseWire } from '../../src/xds/services.js';
import { StreamSession } from '../../src/xds/session.js';
import { DELTA, SOTW } from '../../src/xds/stream-protocol.js';
import { mulberry32 } from '../support/random.js';

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const STEPS = 1500;
const LIMITS: NameLimits = { maxNamesPerStream: 8, maxNameLength: 64 };
/** A clipped string: the kept part and the "…(n more characters)" note. */
const CLIPPED = MAX_MESSAGE_LENGTH + 40;

const wire = createWire();
const svc = loadXdsServices().AdsClient.service;
const decodeSotw = svc.StreamAggregatedResources!.responseDeserialize as (b: Buffer) => DiscoveryResponseWire;
const decodeDelta = svc.DeltaAggregatedResources!.responseDeserialize as (b: Buffer) => DeltaDiscoveryResponseWire;
const route = (name: string, cluster: string) => ({ name, virtualHosts: [{ name: 'v', domains: ['*'], routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster } }] }] });
const POOL = ['a', 'b', 'c', 'd', 'e', 'f', 'missing-1', 'missing-2'];

interface Written {
  nonce: string;
  names: string[];
  versions: string[];
  removed: string[];
}

class FakeCall extends EventEmitter {
  written: Written[] = [];
  full = false;
  paused = false;
  status: { code: number; details: string } | undefined;
  constructor(private readonly delta: boolean) {
    super();
    // The session reports a failed stream by emitting 'error' with the status on the call.
    this.on('error', (s: { code: number; details: string }) => {
      if (s && typeof s.code === 'number') this.status = s;
    });
  }
  write(msg: Buffer): boolean {
    if (this.delta) {
      const r = decodeDelta(msg);
      this.written.push({ nonce: r.nonce, names: r.resources.map((x) => x.name), versions: r.resources.map((x) => x.version), removed: r.removed_resources });
    } else {
      const r = decodeSotw(msg);
      this.written.push({ nonce: r.nonce, names: r.resources.map((x) => nameOf(x.value)), versions: [], removed: [] });
    }
    return !this.full;
  }
  pause() {
    this.paused = true;
    return this;
  }
  resume() {
    this.paused = false;
    return this;
  }
  getPeer() {
    return 'ipv4:127.0.0.1:1';
  }
  end() {}
}

/** The name field (1) of an encoded RouteConfiguration. */
function nameOf(bytes: Buffer): string {
  assert.equal(bytes[0], 0x0a);
  let len = 0;
  let shift = 0;
  let i = 1;
  for (;;) {
    const b = bytes[i++]!;
    len |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  return bytes.subarray(i, i + len).toString('utf8');
}

interface Stats {
  responses: number;
  nacks: number;
  ended: Record<number, number>;
}

function fuzz(seed: number): Stats {
  const stats: Stats = { responses: 0, nacks: 0, ended: {} };
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const chance = (p: number) => rnd() < p;
  const junk = (n: number) => Array.from({ length: n }, () => String.fromCharCode(Math.floor(rnd() * 0xffff))).join('');
  const cache = new ResourceCache({ encode: (j) => encodeRouteConfiguration(j, wire) });
  for (const n of POOL.slice(0, 4)) cache.upsert(n, route(n, `c-${n}`));

  let call!: FakeCall;
  let session!: StreamSession<never, unknown, { nonce: string }>;
  let delta = false;
  let answered = true;
  let lastNonce = 0;
  let closed = false;
  let id = 0;
  const open = () => {
    delta = chance(0.5);
    call = new FakeCall(delta);
    const protocol = (delta ? DELTA : SOTW) as never;
    session = new StreamSession({ id: ++id, service: chance(0.5) ? 'ads' : 'rds', protocol, call: call as unknown as grpc.ServerDuplexStream<never, Buffer>, cache, callbacks: {}, onClose: () => void (closed = true), limits: LIMITS });
    answered = true;
    lastNonce = 0;
    closed = false;
  };
  open();

  const names = (): string[] => {
    const r = rnd();
    if (r < 0.02) return Array.from({ length: LIMITS.maxNamesPerStream + 1 }, (_, i) => `many-${i}`);
    if (r < 0.04) return [pick(POOL), 'h'.repeat(LIMITS.maxNameLength + 1 + Math.floor(rnd() * 1000))];
    return POOL.filter(() => chance(0.3));
  };
  const nonce = (): string => {
    const r = rnd();
    const latest = call.written.at(-1)?.nonce ?? '';
    if (r < 0.6) return latest;
    if (r < 0.7) return call.written.length > 1 ? pick(call.written).nonce : '';
    if (r < 0.8) return '';
    if (r < 0.95) return junk(1 + Math.floor(rnd() * 8));
    return 'n'.repeat(100_000);
  };
  const request = (): Record<string, unknown> => {
    const typeUrl = chance(0.97) ? RDS : pick(['', 'type.googleapis.com/envoy.config.cluster.v3.Cluster', junk(5_000)]);
    const common: Record<string, unknown> = {
      type_url: typeUrl,
      response_nonce: nonce(),
      node: chance(0.3) ? { id: chance(0.1) ? 'x'.repeat(200_000) : junk(10) } : chance(0.5) ? null : undefined,
    };
    if (chance(0.2)) common.error_detail = chance(0.1) ? {} : { code: Math.floor(rnd() * 17), message: chance(0.2) ? 'm'.repeat(500_000) : junk(20) };
    if (!delta) return { ...common, version_info: chance(0.5) ? '' : junk(16), resource_names: chance(0.05) ? undefined : names() };
    return {
      ...common,
      resource_names_subscribe: names(),
      resource_names_unsubscribe: POOL.filter(() => chance(0.15)),
      initial_resource_versions: chance(0.1) ? Object.fromEntries(POOL.map((n) => [n, junk(4)])) : {},
    };
  };

  for (let step = 0; step < STEPS; step++) {
    const where = `seed ${seed}, step ${step}`;
    const r = rnd();
    const before = call.written.length;
    let req: Record<string, unknown> | undefined;
    if (closed) {
      if (call.status) stats.ended[call.status.code] = (stats.ended[call.status.code] ?? 0) + 1;
      stats.nacks += session.info()[0]?.nackCount ?? 0;
      open();
    }
    else if (r < 0.55 && !call.paused) {
      req = request();
      call.emit('data', req);
    } else if (r < 0.75) {
      const n = pick(POOL);
      if (chance(0.3)) cache.remove(n);
      else cache.upsert(n, route(n, `c-${n}-${Math.floor(rnd() * 4)}`));
    } else if (r < 0.85) {
      call.full = !call.full;
      if (!call.full) call.emit('drain');
    } else if (r < 0.87) {
      call.emit(chance(0.5) ? 'cancelled' : 'end');
    }
    // A request answers the response in flight when it carries its nonce (a stale one does not).
    if (req && before > 0 && req.response_nonce === call.written[before - 1]!.nonce) answered = true;
    for (const w of call.written.slice(before)) {
      assert.ok(answered, `${where}: a response was written while the previous one was un-ACKed`);
      const n = Number(w.nonce);
      assert.ok(n > lastNonce, `${where}: nonce ${w.nonce} after ${lastNonce}`);
      lastNonce = n;
      answered = false;
      stats.responses++;
      const info = session.info()[0];
      assert.ok(info, `${where}: a response without a subscription`);
      for (const name of [...w.names, ...w.removed]) assert.ok(info.subscribed.includes(name), `${where}: ${name} sent but not subscribed`);
      w.versions.forEach((v, i) => assert.equal(v, cache.get(w.names[i]!)?.version, `${where}: ${w.names[i]} sent at an old version`));
    }
    for (const s of session.info()) {
      assert.ok(s.subscribed.length <= LIMITS.maxNamesPerStream, `${where}: ${s.subscribed.length} names held`);
      assert.ok((s.nodeId?.length ?? 0) <= MAX_ID_LENGTH + 40, `${where}: node id of ${s.nodeId?.length} kept`);
      assert.ok((s.lastNackMessage?.length ?? 0) <= CLIPPED, `${where}: NACK message of ${s.lastNackMessage?.length} kept`);
    }
    if (call.status) assert.ok([3, 8].includes(call.status.code), `${where}: ended with ${call.status.code}`);
  }
  return stats;
}

/** Each seed runs once, whichever tests ask for it (so every test also passes when run alone). */
const runs = new Map<number, Stats>();
const statsOf = (seed: number): Stats => runs.get(seed) ?? runs.set(seed, fuzz(seed)).get(seed)!;

for (const seed of SEEDS) {
  test(`seed ${seed}: ${STEPS} random requests, cache changes and stalls keep every stream invariant`, () => {
    const stats = statsOf(seed);
    assert.ok(stats.responses > 50, `only ${stats.responses} responses: the fuzz is not reaching the machines`);
  });
}

test('the fuzz reached every outcome: NACKs, and streams ended by a wrong type URL and by each limit', () => {
  const all = SEEDS.map(statsOf);
  assert.ok(all.some((s) => s.nacks > 0), 'no NACK recorded');
  assert.ok(all.some((s) => (s.ended[3] ?? 0) > 0), 'no stream ended with INVALID_ARGUMENT');
  assert.ok(all.some((s) => (s.ended[8] ?? 0) > 0), 'no stream ended with RESOURCE_EXHAUSTED');
});
