import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { KubeApiError } from '../../src/store/kubernetes/client.js';
import { backoffDelay, DEFAULT_BACKOFF } from '../../src/store/kubernetes/backoff.js';
import { WATCHED_KINDS } from '../../src/store/kubernetes/kinds.js';
import { Reflector } from '../../src/store/kubernetes/reflector.js';
import { FakeKube, fakeTimers, obj, settle } from '../support/fake-kube.js';

const SE = WATCHED_KINDS.find((k) => k.kind === 'ServiceEntry')!;
const V1 = '/apis/networking.istio.io/v1/serviceentries';
const se = (name: string, rv: string) => obj('ServiceEntry', 'networking.istio.io/v1', 'ns', name, rv, { hosts: [`${name}.example`] });

function setup() {
  const kube = new FakeKube();
  const t = fakeTimers();
  let changes = 0;
  let clock = 0;
  const r = new Reflector({
    kind: SE,
    source: 'kubernetes serviceentries.networking.istio.io',
    client: kube,
    logger: pino({ level: 'silent' }),
    timers: t.timers,
    now: () => clock,
    random: () => 0.5,
    onChange: () => changes++,
  });
  return { kube, t, r, changes: () => changes, tick: (ms: number) => (clock += ms) };
}

const names = (r: Reflector) => [...r.current().keys()].sort();

test('a reflector lists page by page, then watches from the list resourceVersion with bookmarks', async () => {
  const { kube, r, changes } = setup();
  r.start();
  const first = kube.takeList(V1);
  assert.equal(first.query.limit, '500');
  first.resolve({ items: [se('a', '5')], resourceVersion: '9', continue: 'next' });
  await settle();
  const second = kube.takeList(V1);
  assert.equal(second.query.continue, 'next');
  second.resolve({ items: [se('b', '7')], resourceVersion: '10', continue: undefined });
  await settle();
  assert.deepEqual(names(r), ['ns/a', 'ns/b']);
  assert.equal(r.synced, true);
  assert.equal(changes(), 1);
  const w = kube.openWatch(V1);
  assert.equal(w.query.resourceVersion, '10');
  assert.equal(w.query.allowWatchBookmarks, 'true');
  assert.equal(r.status().state, 'ok');
  assert.equal(r.status().revision, '10');
});

test('watch events add, modify and delete objects in order; bookmarks only move the resourceVersion', async () => {
  const { kube, r, changes } = setup();
  r.start();
  await kube.answer(V1, [se('a', '5')], '5');
  const w = kube.openWatch(V1);
  w.handlers.open();
  w.handlers.event({ type: 'ADDED', object: se('b', '6') });
  w.handlers.event({ type: 'MODIFIED', object: se('a', '7') });
  w.handlers.event({ type: 'DELETED', object: se('b', '8') });
  w.handlers.event({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '12' } } });
  assert.deepEqual(names(r), ['ns/a']);
  assert.equal((r.current().get('ns/a')!.metadata as { resourceVersion: string }).resourceVersion, '7');
  assert.equal(changes(), 4, 'the list and three object events');
  assert.equal(r.status().revision, '8');
  // The next watch resumes after the bookmark.
  w.handlers.end(new Error('connection reset'));
  assert.equal(r.status().state, 'stale');
});

test('410 Gone in a watch relists at once, and only the successful relist removes what is gone', async () => {
  const { kube, r } = setup();
  r.start();
  await kube.answer(V1, [se('a', '5'), se('b', '5')], '5');
  const w = kube.openWatch(V1);
  w.handlers.open();
  w.handlers.event({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 5 (40)' } });
  assert.equal(w.stopped, true);
  assert.deepEqual(names(r), ['ns/a', 'ns/b'], 'nothing is removed before the relist answers');
  await kube.answer(V1, [se('a', '41')], '41');
  assert.deepEqual(names(r), ['ns/a']);
  assert.equal(kube.openWatch(V1).query.resourceVersion, '41');
});

test('a failing watch keeps every object, is stale, and resumes from its resourceVersion after a backoff', async () => {
  const { kube, t, r, changes } = setup();
  r.start();
  await kube.answer(V1, [se('a', '5')], '5');
  const before = changes();
  kube.openWatch(V1).handlers.end(new KubeApiError('connect ECONNREFUSED 127.0.0.1:6443', undefined));
  assert.equal(r.status().state, 'stale');
  assert.equal(changes(), before + 1, 'a change of state asks for a reload (its diagnostics change)');
  assert.match(r.status().error!, /ECONNREFUSED/);
  assert.deepEqual(names(r), ['ns/a']);
  assert.deepEqual(t.delays(), [DEFAULT_BACKOFF.initialMs]);
  t.fireNext();
  const again = kube.openWatch(V1);
  assert.equal(again.query.resourceVersion, '5');
  again.handlers.end(new KubeApiError('connect ECONNREFUSED 127.0.0.1:6443', undefined));
  assert.deepEqual(t.delays(), [2 * DEFAULT_BACKOFF.initialMs], 'the backoff grows');
  t.fireNext();
  const third = kube.openWatch(V1);
  third.handlers.open();
  assert.equal(r.status().state, 'ok', 'an answer makes it healthy again');
  assert.equal(changes(), before + 2);
  third.handlers.event({ type: 'ADDED', object: se('b', '6') });
  third.handlers.end(new Error('cut'));
  assert.deepEqual(t.delays(), [DEFAULT_BACKOFF.initialMs], 'an event resets the backoff');
});

test('a list that fails before any success leaves the kind failed and is retried with a growing backoff', async () => {
  const { kube, t, r } = setup();
  r.start();
  kube.takeList(V1).reject(new KubeApiError('serviceentries.networking.istio.io is forbidden: User "metamesh" cannot list resource', 403));
  await settle();
  assert.equal(r.synced, false);
  assert.equal(r.status().state, 'failed');
  assert.match(r.status().error!, /forbidden/);
  assert.deepEqual(t.delays(), [250]);
  t.fireNext();
  kube.takeList(V1).reject(new KubeApiError('forbidden', 403));
  await settle();
  assert.deepEqual(t.delays(), [500]);
  t.fireNext();
  await kube.answer(V1, [], '3');
  assert.equal(r.synced, true);
  assert.equal(r.status().state, 'ok');
});

test('a list answered 404 tries the next version, and says the CRD may be missing when none is served', async () => {
  const { kube, r } = setup();
  r.start();
  kube.takeList(V1).reject(new KubeApiError('the server could not find the requested resource', 404));
  await settle();
  kube.takeList('/apis/networking.istio.io/v1beta1/serviceentries').reject(new KubeApiError('not found', 404));
  await settle();
  kube.takeList('/apis/networking.istio.io/v1alpha3/serviceentries').reject(new KubeApiError('not found', 404));
  await settle();
  assert.match(r.status().error!, /at none of v1, v1beta1, v1alpha3 \(is its CustomResourceDefinition installed\?\)/);
  assert.equal(r.apiVersion, 'networking.istio.io/v1', 'the next attempt starts from the preferred version again');
});

test('an older Istio that serves only v1beta1 is read at v1beta1', async () => {
  const { kube, r } = setup();
  r.start();
  kube.takeList(V1).reject(new KubeApiError('not found', 404));
  await settle();
  await kube.answer('/apis/networking.istio.io/v1beta1/serviceentries', [se('a', '2')], '2');
  assert.equal(r.apiVersion, 'networking.istio.io/v1beta1');
  assert.equal(kube.openWatch().path, '/apis/networking.istio.io/v1beta1/serviceentries');
});

test('a relist that fails after a success keeps the last-known objects', async () => {
  const { kube, t, r } = setup();
  r.start();
  await kube.answer(V1, [se('a', '5')], '5');
  kube.openWatch(V1).handlers.event({ type: 'ERROR', object: { code: 410, message: 'gone' } });
  kube.takeList(V1).reject(new KubeApiError('etcdserver: request timed out', 500));
  await settle();
  assert.equal(r.status().state, 'stale');
  assert.deepEqual(names(r), ['ns/a']);
  t.fireNext();
  await kube.answer(V1, [], '60');
  assert.deepEqual(names(r), [], 'a successful list is believed');
});

test('a watch the server ends normally is renewed at once, unless it ended at once', async () => {
  const { kube, t, r, tick } = setup();
  r.start();
  await kube.answer(V1, [], '5');
  const w = kube.openWatch(V1);
  w.handlers.open();
  tick(300_000);
  w.handlers.end(undefined);
  assert.equal(kube.watches.length, 2, 'renewed at once');
  const quick = kube.openWatch(V1);
  quick.handlers.open();
  quick.handlers.end(undefined);
  assert.equal(kube.watches.length, 2, 'a watch that ends at once waits for the backoff');
  assert.equal(t.delays().length, 1);
  t.fireNext();
  assert.equal(kube.watches.length, 3);
});

test('a watch silent for longer than its timeout is taken for dead and replaced', async () => {
  const { kube, t, r } = setup();
  r.start();
  await kube.answer(V1, [], '5');
  const w = kube.openWatch(V1);
  const timeout = Number(w.query.timeoutSeconds);
  assert.ok(timeout >= 300 && timeout <= 360, `timeoutSeconds ${timeout}`);
  w.handlers.open();
  assert.deepEqual(t.delays(), [timeout * 1000 + 30_000]);
  t.fireNext();
  assert.equal(w.stopped, true);
  assert.match(r.status().error!, /no word from the API server/);
  t.fireNext();
  assert.equal(kube.openWatch(V1).query.resourceVersion, '5');
});

test('after stop() nothing answered late changes anything, and nothing is retried', async () => {
  const { kube, t, r, changes } = setup();
  r.start();
  const pending = kube.takeList(V1);
  r.stop();
  pending.resolve({ items: [se('a', '1')], resourceVersion: '1', continue: undefined });
  await settle();
  assert.deepEqual(names(r), []);
  assert.equal(changes(), 0);
  assert.equal(kube.watches.length, 0);
  assert.equal(t.pending.size, 0);
});

test('backoff delays grow from 250 ms to at most 10 s, with ±20 % jitter', () => {
  assert.deepEqual([0, 1, 2, 3, 10, 50].map((f) => backoffDelay(f, DEFAULT_BACKOFF, 0.5)), [250, 500, 1000, 2000, 10_000, 10_000]);
  assert.equal(backoffDelay(0, DEFAULT_BACKOFF, 0), 200);
  assert.equal(backoffDelay(0, DEFAULT_BACKOFF, 0.999999), 300);
});
