import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { DEFAULT_INPUT_LIMITS } from '../../src/input/limits.js';
import { KubeApiError } from '../../src/store/kubernetes/client.js';
import { KubernetesSource } from '../../src/store/kubernetes/source.js';
import { ConfigStore, type StoreUpdate } from '../../src/store/store.js';
import { FakeKube, fakeTimers, obj, settle } from '../support/fake-kube.js';
import { ownOutputFilter } from '../../src/runtime/writes-view.js';

const P = {
  se: '/apis/networking.istio.io/v1/serviceentries',
  dr: '/apis/networking.istio.io/v1/destinationrules',
  gw: '/apis/networking.istio.io/v1/gateways',
  svc: '/api/v1/services',
  mr: '/apis/metaprotocol.aeraki.io/v1alpha1/metarouters',
  ap: '/apis/metaprotocol.aeraki.io/v1alpha1/applicationprotocols',
  mesh: '/api/v1/namespaces/istio-system/configmaps',
};

const HOST = 'demo.ns.svc.cluster.local';
const se = (rv: string, port = 20880) =>
  obj('ServiceEntry', 'networking.istio.io/v1', 'ns', 'demo', rv, {
    hosts: [HOST],
    addresses: ['240.240.0.9'],
    ports: [{ number: port, name: 'tcp-metaprotocol-dubbo', protocol: 'TCP' }],
    resolution: 'STATIC',
    endpoints: [{ address: '10.0.0.1' }],
  }, { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"huge":"copy"}', team: 'a' } });
const router = (rv: string, routes: unknown[]) => obj('MetaRouter', 'metaprotocol.aeraki.io/v1alpha1', 'ns', 'demo', rv, { hosts: [HOST], routes });
const route = (name: string) => ({ name, route: [{ destination: { host: HOST } }] });

function setup(meshConfig = false) {
  const kube = new FakeKube();
  const t = fakeTimers();
  const source = new KubernetesSource({ client: kube, logger: pino({ level: 'silent' }), timers: t.timers, now: () => 0, random: () => 0.5, meshConfig: meshConfig ? { namespace: 'istio-system', name: 'istio' } : undefined });
  const store = new ConfigStore({ sources: [source], logger: pino({ level: 'silent' }), timers: t.timers, debounceMs: 50 });
  source.run();
  return { kube, t, source, store };
}

/** Answers every kind's first list; `items` by path. */
async function sync(kube: FakeKube, items: Partial<Record<string, unknown[]>> = {}): Promise<void> {
  for (const path of Object.values(P)) {
    if (!kube.lists.some((l) => l.path === path)) continue;
    await kube.answer(path, items[path] ?? [], '1');
  }
}

const codes = (u: StoreUpdate) => u.diagnostics.map((d) => d.code);

test('objects of every kind become the documents the input stage reads, without the fields the API server maintains', async () => {
  const { kube, source, store } = setup();
  assert.equal(source.synced(), false);
  await sync(kube, { [P.se]: [se('3')], [P.mr]: [router('4', [route('r')])] });
  assert.equal(source.synced(), true);
  const u = store.load();
  assert.deepEqual(u.changes.map((c) => (c.op === 'upsert' ? `${c.resource.kind} ${c.resource.metadata.namespace}/${c.resource.metadata.name}` : c)).sort(), ['MetaRouter ns/demo', 'ServiceEntry ns/demo']);
  const entry = u.changes.find((c) => c.op === 'upsert' && c.resource.kind === 'ServiceEntry');
  assert.ok(entry && entry.op === 'upsert');
  const meta = entry.resource.metadata as unknown as Record<string, unknown>;
  assert.deepEqual(meta.annotations, { team: 'a' }, 'kubectl\'s last-applied copy is dropped');
  for (const gone of ['resourceVersion', 'uid', 'managedFields']) assert.equal(meta[gone], undefined, gone);
  assert.equal((entry.resource as unknown as Record<string, unknown>).status, undefined);
  assert.deepEqual(u.diagnostics, []);
});

test('a status-only write (a new resourceVersion, the same spec) changes nothing', async () => {
  const { kube, store } = setup();
  await sync(kube, { [P.se]: [se('3')] });
  store.load();
  kube.openWatch(P.se).handlers.event({ type: 'MODIFIED', object: { ...se('9'), status: { addresses: [{ value: '240.240.0.9' }] } } });
  assert.deepEqual(store.load().changes, []);
});

test('watch events become upserts and deletes at the next load; a burst is one debounced reload', async () => {
  const { kube, t, store } = setup();
  await sync(kube, { [P.se]: [se('3')] });
  store.load();
  const updates: StoreUpdate[] = [];
  store.start((u) => updates.push(u));
  const w = kube.openWatch(P.mr);
  w.handlers.event({ type: 'ADDED', object: router('5', [route('a')]) });
  w.handlers.event({ type: 'MODIFIED', object: router('6', [route('b')]) });
  kube.openWatch(P.se).handlers.event({ type: 'DELETED', object: se('7') });
  assert.equal(updates.length, 0);
  t.fireNext(); // the debounce delay
  assert.equal(updates.length, 1);
  const changes = updates[0]!.changes.map((c) => (c.op === 'delete' ? `delete ${c.kind}` : `upsert ${c.resource.kind}`)).sort();
  assert.deepEqual(changes, ['delete ServiceEntry', 'upsert MetaRouter']);
});

test('a kind that cannot be listed yet is reported and serves nothing; the others are served', async () => {
  const { kube, store, source } = setup();
  kube.takeList(P.mr).reject(new KubeApiError('metarouters.metaprotocol.aeraki.io is forbidden', 403));
  await settle();
  await sync(kube, { [P.se]: [se('3')] });
  assert.equal(source.synced(), false);
  const u = store.load();
  assert.deepEqual(codes(u), ['MM_KUBE_NOT_SYNCED']);
  assert.match(u.diagnostics[0]!.message, /metarouters\.metaprotocol\.aeraki\.io has not been listed yet \(cannot be listed: metarouters\.metaprotocol\.aeraki\.io is forbidden\)/);
  assert.deepEqual(u.changes.map((c) => c.op === 'upsert' && c.resource.kind), ['ServiceEntry']);
  const status = source.status().find((s) => s.source.includes('metarouters'))!;
  assert.equal(status.state, 'failed');
  assert.equal(status.synced, false);
});

test('a kind whose watch fails keeps its objects (MM_SOURCE_STALE), and nothing is deleted', async () => {
  const { kube, store } = setup();
  await sync(kube, { [P.se]: [se('3')], [P.mr]: [router('4', [route('r')])] });
  store.load();
  kube.openWatch(P.mr).handlers.end(new KubeApiError('connect ECONNREFUSED 127.0.0.1:6443', undefined));
  const u = store.load();
  assert.deepEqual(u.changes, []);
  assert.deepEqual(codes(u), ['MM_SOURCE_STALE']);
  assert.match(u.diagnostics[0]!.message, /cannot be watched: connect ECONNREFUSED 127\.0\.0\.1:6443; its 1 last-known object\(s\) \(resourceVersion 1\) stay in effect/);
});

test('a MetaRouter updated into an invalid one keeps its last valid version until it is fixed', async () => {
  const { kube, store } = setup();
  await sync(kube, { [P.se]: [se('3')], [P.mr]: [router('4', [route('r')])] });
  store.load();
  const w = kube.openWatch(P.mr);
  // Two destinations whose weights do not sum to 100.
  const split = { name: 'split', route: [{ destination: { host: HOST }, weight: 30 }, { destination: { host: HOST }, weight: 30 }] };
  w.handlers.event({ type: 'MODIFIED', object: router('5', [split]) });
  const u = store.load();
  assert.deepEqual(u.changes, []);
  assert.ok(codes(u).includes('MM_ROUTER_WEIGHTS'));
  assert.ok(codes(u).includes('MM_RESOURCE_LAST_GOOD'));
  assert.match(u.diagnostics.find((d) => d.code === 'MM_RESOURCE_LAST_GOOD')!.message, /read from kubernetes MetaRouter ns\/demo/);
  w.handlers.event({ type: 'MODIFIED', object: router('6', [route('c')]) });
  const fixed = store.load();
  assert.equal(fixed.changes.length, 1);
  assert.ok(!codes(fixed).includes('MM_RESOURCE_LAST_GOOD'));
});

test('an object over the size limit is not read; its previous version stays in effect', async () => {
  const kube = new FakeKube();
  const limits = { ...DEFAULT_INPUT_LIMITS, maxFileBytes: 1200 };
  const source = new KubernetesSource({ client: kube, logger: pino({ level: 'silent' }), limits, timers: fakeTimers().timers, random: () => 0.5 });
  const store = new ConfigStore({ sources: [source], logger: pino({ level: 'silent' }) });
  source.run();
  await sync(kube, { [P.se]: [se('3')] });
  assert.equal(store.load().changes.length, 1);
  const big = se('4');
  (big.metadata as Record<string, unknown>).labels = { pad: 'x'.repeat(60) , more: 'y'.repeat(60) };
  (big.spec as { endpoints: unknown[] }).endpoints = Array.from({ length: 30 }, (_, i) => ({ address: `10.0.0.${i}` }));
  kube.openWatch(P.se).handlers.event({ type: 'MODIFIED', object: big });
  const u = store.load();
  assert.deepEqual(u.changes, []);
  assert.deepEqual(codes(u), ['MM_INPUT_TOO_LARGE']);
  assert.match(u.diagnostics[0]!.message, /^kubernetes ServiceEntry ns\/demo is \d+ bytes as JSON, more than 1200 bytes .* Its previous version stays in effect\.$/);
  kube.openWatch(P.se).handlers.event({ type: 'DELETED', object: big });
  assert.deepEqual(store.load().changes.map((c) => c.op), ['delete'], 'a deletion is still a deletion');
});

test('Istio\'s mesh config supplies option values beneath any MetameshOptions', async () => {
  const { kube, store, source } = setup(true);
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system', resourceVersion: '2' }, data: { mesh: 'trustDomain: example.org\naccessLogFile: /dev/stdout\ndefaultConfig:\n  tracing:\n    sampling: 5\n' } };
  await sync(kube, { [P.mesh]: [cm] });
  const mesh = kube.openWatch(P.mesh);
  assert.equal(mesh.query.fieldSelector, 'metadata.name=istio');
  assert.equal(source.synced(), true);
  const u = store.load();
  assert.equal(u.options.trustDomain, 'example.org');
  assert.equal(u.options.mesh.accessLogFile, '/dev/stdout');
  assert.equal(u.options.mesh.tracingSampling, 5);
  assert.deepEqual(u.options.xds.subjectAltNames, ['spiffe://example.org/ns/istio-system/sa/metamesh'], 'derived values follow');
  mesh.handlers.event({ type: 'DELETED', object: cm });
  const back = store.load();
  assert.equal(back.optionsChanged, true);
  assert.equal(back.options.trustDomain, 'cluster.local');
});

test('whenSynced resolves once every kind is listed, or false at the timeout', async () => {
  const { kube, t, source } = setup();
  const late = source.whenSynced(1000);
  const timers = t.delays();
  assert.ok(timers.includes(1000));
  await sync(kube);
  assert.equal(await late, true);
  const s2 = setup();
  const never = s2.source.whenSynced(1000);
  s2.t.fireNext();
  assert.equal(await never, false);
});

test('with the apply sink, this instance\'s own objects are output, not input; the status targets are the rules as last read', async () => {
  const kube = new FakeKube();
  const t = fakeTimers();
  const source = new KubernetesSource({ client: kube, logger: pino({ level: 'silent' }), timers: t.timers, now: () => 0, random: () => 0.5, exclude: ownOutputFilter({ instance: 'metamesh' }) });
  const store = new ConfigStore({ sources: [source], logger: pino({ level: 'silent' }), timers: t.timers, debounceMs: 50 });
  source.run();
  const generated = obj('ServiceEntry', 'networking.istio.io/v1', 'default', 'from-registry', '5', { hosts: ['a.b'] }, { labels: { 'app.kubernetes.io/managed-by': 'metamesh', 'metamesh.io/instance': 'metamesh' } });
  const otherInstance = obj('ServiceEntry', 'networking.istio.io/v1', 'default', 'theirs', '6', { hosts: ['c.d'] }, { labels: { 'app.kubernetes.io/managed-by': 'metamesh', 'metamesh.io/instance': 'other' } });
  const r = { ...router('4', [route('r')]), metadata: { ...router('4', [route('r')]).metadata, generation: 3 } };
  await sync(kube, { [P.se]: [se('3'), generated, otherInstance], [P.mr]: [r] });
  const u = store.load();
  const names = u.changes.map((c) => (c.op === 'upsert' ? `${c.resource.kind} ${c.resource.metadata.namespace}/${c.resource.metadata.name}` : '')).sort();
  assert.deepEqual(names, ['MetaRouter ns/demo', 'ServiceEntry default/theirs', 'ServiceEntry ns/demo']);
  assert.deepEqual(source.statusTargets(), [{ apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'MetaRouter', metadata: { name: 'demo', namespace: 'ns', generation: 3 }, status: { conditions: [] } }]);
  source.close();
  store.close();
});
