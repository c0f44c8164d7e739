import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { readFileSync, readdirSync } from 'node:fs';
import { parseYaml, readResources } from '../../src/input/read.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { build, createEngine } from '../../src/pipeline/build.js';
import type { MetaRouter } from '../../src/model/resources.js';
import { createWire, encodeRouteConfiguration } from '../../src/proto/wire.js';
import { decodeRouteConfiguration } from '../support/proto-decode.js';
import { ROUTE_CONFIGURATION_TYPE_URL } from '../../src/route/wire.js';
import { ResourceCache, routesByName } from '../../src/xds/cache.js';
import { SotwStream } from '../../src/xds/sotw.js';
import { DeltaStream } from '../../src/xds/delta.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const builtins = loadBuiltinProtocols();
const wire = createWire();
const encode = (json: object) => encodeRouteConfiguration(json, wire);

function exampleConfig() {
  const dir = path.join(root, 'examples');
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseYaml(readFileSync(path.join(dir, f), 'utf8'), f).documents);
  return readResources(docs).config;
}

function exampleRoutes() {
  return build(exampleConfig(), builtins).routes;
}

function route(name: string, cluster: string): object {
  return { '@type': ROUTE_CONFIGURATION_TYPE_URL, name, virtualHosts: [{ name: 'dummy', domains: ['*'], routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster } }] }] };
}

test('every route table built from examples/ is encoded once and decodes back to its JSON without @type', () => {
  const routes = exampleRoutes();
  assert.ok(routes.length >= 3);
  const cache = new ResourceCache({ encode });
  cache.setResources(routesByName(routes));
  assert.equal(cache.encodeCount, routes.length);
  for (const r of routes) {
    const { '@type': _t, ...json } = r;
    const res = cache.get(String(r.name))!;
    assert.equal(res.name, r.name);
    assert.deepEqual(decodeRouteConfiguration(res.bytes, wire), json);
  }
});

test('a resource version is the first 16 hex chars of the sha256 of its encoded bytes', () => {
  const cache = new ResourceCache({ encode });
  cache.upsert('a', route('a', 'c1'));
  const res = cache.get('a')!;
  assert.equal(res.version, createHash('sha256').update(res.bytes).digest('hex').slice(0, 16));
  assert.match(res.version, /^[0-9a-f]{16}$/);
});

test('the default encoder is the strict RouteConfiguration encoder and the type URL is RDS', () => {
  const cache = new ResourceCache();
  assert.equal(cache.typeUrl, ROUTE_CONFIGURATION_TYPE_URL);
  cache.upsert('a', route('a', 'c1'));
  const { '@type': _t, ...json } = route('a', 'c1') as Record<string, unknown>;
  assert.deepEqual(cache.get('a')!.bytes, encode(json));
});

test('setting unchanged content keeps every version, does not encode again and notifies nobody', () => {
  const routes = exampleRoutes();
  const cache = new ResourceCache({ encode });
  cache.setResources(routesByName(routes));
  const before = new Map(cache.names().map((n) => [n, cache.get(n)!.version]));
  const count = cache.encodeCount;
  let calls = 0;
  cache.subscribe(() => calls++);
  const change = cache.setResources(routesByName(exampleRoutes()));
  assert.equal(calls, 0);
  assert.equal(change.changed.size + change.removed.size, 0);
  assert.equal(cache.encodeCount, count);
  for (const [n, v] of before) assert.equal(cache.get(n)!.version, v);
});

test('equal content written with another key order keeps its version and notifies nobody', () => {
  const cache = new ResourceCache({ encode });
  cache.upsert('a', route('a', 'c1'));
  const v = cache.get('a')!.version;
  let calls = 0;
  cache.subscribe(() => calls++);
  const { virtualHosts, name } = route('a', 'c1') as { virtualHosts: unknown; name: string };
  cache.upsert('a', { virtualHosts, name });
  assert.equal(cache.get('a')!.version, v);
  assert.equal(calls, 0);
});

test('listeners receive only the names that changed or were removed', () => {
  const cache = new ResourceCache({ encode });
  cache.setResources(new Map([['a', route('a', 'c1')], ['b', route('b', 'c1')], ['c', route('c', 'c1')]]));
  const seen: Array<[string[], string[]]> = [];
  const off = cache.subscribe((changed, removed) => seen.push([[...changed].sort(), [...removed].sort()]));
  cache.setResources(new Map([['a', route('a', 'c1')], ['b', route('b', 'c2')], ['d', route('d', 'c1')]]));
  assert.deepEqual(seen, [[['b', 'd'], ['c']]]);
  cache.upsert('a', route('a', 'c9'));
  cache.remove('d');
  cache.remove('nope');
  assert.deepEqual(seen.slice(1), [[['a'], []], [[], ['d']]]);
  off();
  cache.upsert('a', route('a', 'c10'));
  assert.equal(seen.length, 3);
});

test('an update with one entry the strict encoder rejects throws and changes nothing', () => {
  const cache = new ResourceCache({ encode });
  cache.upsert('a', route('a', 'c1'));
  const v = cache.get('a')!.version;
  let calls = 0;
  cache.subscribe(() => calls++);
  const bad = { name: 'b', virtualHosts: [{ name: 'dummy', notAField: 1 }] };
  assert.throws(() => cache.update(new Map([['a', route('a', 'c2')], ['b', bad]]), []));
  assert.equal(cache.get('a')!.version, v);
  assert.equal(cache.has('b'), false);
  assert.equal(calls, 0);
});

test('a resource whose @type or name does not match is refused', () => {
  const cache = new ResourceCache({ encode });
  assert.throws(() => cache.upsert('a', { ...route('a', 'c'), '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster' }), /@type/);
  assert.throws(() => cache.upsert('a', route('b', 'c')), /named b/);
});

test('an engine flush fed into the cache notifies exactly the route table the change touched', () => {
  const config = exampleConfig();
  const engine = createEngine(config, builtins);
  const cache = new ResourceCache({ encode });
  cache.setResources(routesByName(engine.output().routes));
  const seen: string[][] = [];
  cache.subscribe((changed, removed) => seen.push([...changed, ...removed]));
  const mr: MetaRouter = structuredClone(config.metaRouters[0]!);
  const r0 = mr.spec.routes![0]!.route![0]!;
  r0.destination.subset = r0.destination.subset === 'canary' ? 'stable' : 'canary';
  engine.apply([{ op: 'upsert', resource: mr }]);
  const delta = engine.flush();
  assert.equal(delta.changedRoutes.size, 1);
  const all = routesByName(engine.output().routes);
  cache.update(new Map([...delta.changedRoutes].map((n) => [n, all.get(n)!])), delta.removedRoutes);
  assert.deepEqual(seen, [[...delta.changedRoutes]]);
});

test('encode count stays one per resource version with 1,000 subscribed state machines', () => {
  const cache = new ResourceCache({ encode });
  cache.setResources(new Map([['a', route('a', 'c1')], ['b', route('b', 'c1')]]));
  const sotw = Array.from({ length: 500 }, () => new SotwStream(cache));
  const delta = Array.from({ length: 500 }, () => new DeltaStream(cache));
  cache.subscribe((changed, removed) => {
    for (const m of sotw) m.onCacheChange(changed, removed);
    for (const m of delta) m.onCacheChange(changed, removed);
  });
  const first = new Set<Uint8Array>();
  for (const m of sotw) for (const r of m.onRequest({ typeUrl: cache.typeUrl, versionInfo: '', resourceNames: ['a', 'b'], responseNonce: '' }).responses) for (const x of r.resources) first.add(x.bytes);
  for (const m of delta) for (const r of m.onRequest({ typeUrl: cache.typeUrl, resourceNamesSubscribe: ['a', 'b'], responseNonce: '' }).responses) for (const x of r.resources) first.add(x.bytes);
  assert.equal(first.size, 2, 'every stream shares the same two byte arrays');
  assert.equal(cache.encodeCount, 2);
  for (const m of sotw) m.onRequest({ typeUrl: cache.typeUrl, versionInfo: m.state().inFlight!.versionInfo, resourceNames: ['a', 'b'], responseNonce: m.state().lastNonce! });
  for (const m of delta) m.onRequest({ typeUrl: cache.typeUrl, responseNonce: m.state().lastNonce! });
  cache.upsert('a', route('a', 'c2'));
  assert.equal(cache.encodeCount, 3);
  for (const m of [...sotw, ...delta]) assert.equal(m.state().inFlight!.resources.a, cache.get('a')!.version);
});
