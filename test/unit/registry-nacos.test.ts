/**
 * The Nacos adapter without a server: the nacos:// URL, the service/exclude filter, and the watcher's
 * paging, bounds and failure handling against a scripted NacosApi and a manual clock. (The parser
 * is covered by test/golden/registry-nacos; the real server by test/integration/nacos-watch.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RegistrySnapshot, RegistryStatus } from '../../src/model/registry.js';
import { NacosCallError, type NacosApi } from '../../src/registry/nacos/client.js';
import { NACOS_DEFAULTS, parseNacosUrl, serviceFilter, type NacosWatchConfig } from '../../src/registry/nacos/config.js';
import { NacosWatcher, type WatchClock } from '../../src/registry/nacos/watch.js';

test('a nacos:// URL gives namespaces, groups, lists and bounds; defaults fill the rest', () => {
  const c = parseNacosUrl('nacos://nacos.example:8848?namespace=dev,public&namespace=qa&group=ORDERS&service=providers:*&pageSize=50&namespace-target=mesh') as NacosWatchConfig;
  assert.equal(c.server, 'http://nacos.example:8848');
  assert.deepEqual(c.namespaces, ['dev', 'public', 'qa']);
  assert.deepEqual(c.groups, ['ORDERS']);
  assert.deepEqual(c.services, ['providers:*']);
  assert.equal(c.pageSize, 50);
  assert.equal(c.maxServices, NACOS_DEFAULTS.maxServices);
  const d = parseNacosUrl('nacos://10.0.0.1') as NacosWatchConfig;
  assert.equal(d.server, 'http://10.0.0.1:8848');
  assert.deepEqual([d.namespaces, d.groups], [['public'], ['DEFAULT_GROUP']]);
});

test('a nacos:// URL with a typo, a bad number or another scheme is refused with a sentence', () => {
  assert.match(parseNacosUrl('nacos://h:8848?namespce=dev') as string, /unknown parameter "namespce"/);
  assert.match(parseNacosUrl('nacos://h:8848?pageSize=0') as string, /pageSize must be a positive whole number/);
  assert.match(parseNacosUrl('zookeeper://h:2181') as string, /not a nacos:\/\/ URL/);
  assert.match(parseNacosUrl('not a url') as string, /not a URL/);
});

test('the service filter: no include pattern reads all, `*` matches any run, exclude wins', () => {
  const f = serviceFilter(['providers:demo.*', 'prov-all'], ['*:2.0.0:*']);
  assert.equal(f('providers:demo.A:1.0.0:g1'), true);
  assert.equal(f('prov-all'), true);
  assert.equal(f('prov-allx'), false);
  assert.equal(f('providers:demo.A:2.0.0:g1'), false);
  assert.equal(f('providers:other.A:1.0.0:'), false);
  assert.equal(serviceFilter([], [])('anything.at+all'), true);
});

/** A clock whose timers run only when the test says so. */
class ManualClock implements WatchClock {
  t = 1000;
  private timers: { fn: () => void; at: number }[] = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { fn, at: this.t + ms };
    this.timers.push(timer);
    return timer;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x !== h);
  }
  /** Moves time to the next timer and runs it; returns how far time moved. */
  fireNext(): number {
    const next = [...this.timers].sort((a, b) => a.at - b.at)[0];
    assert.ok(next, 'a timer is pending');
    this.timers = this.timers.filter((x) => x !== next);
    const moved = next.at - this.t;
    this.t = next.at;
    next.fn();
    return moved;
  }
  pending(): number {
    return this.timers.length;
  }
}

/** A scripted server. Its service list is unordered, like Nacos's (see listServices). */
function fakeApi(state: { names: string[]; down?: 'refused' | 'http500' }): NacosApi & { calls: string[] } {
  const calls: string[] = [];
  let turn = 0;
  const check = () => {
    if (state.down === 'refused') throw new NacosCallError('GET got no answer from http://x: ECONNREFUSED', true);
    if (state.down === 'http500') throw new NacosCallError('GET answered HTTP 500: boom', false);
  };
  return {
    calls,
    async listServices(namespace, group, pageNo, pageSize) {
      calls.push(`list ${namespace} ${group} ${pageNo}`);
      check();
      // The order changes once, after the first page was read (as when a service registers mid-read).
      const shift = turn++ === 0 ? 0 : 1;
      const rotated = [...state.names.slice(shift), ...state.names.slice(0, shift)];
      return { count: state.names.length, names: rotated.slice((pageNo - 1) * pageSize, pageNo * pageSize) };
    },
    async listInstances(_ns, _group, name) {
      check();
      return [{ ip: '10.0.0.1', port: 20880, metadata: { protocol: 'dubbo', service: name } }];
    },
    async listMappings() {
      check();
      return { total: 0, items: [] };
    },
  };
}

function watcher(api: NacosApi, query = '') {
  const config = parseNacosUrl(`nacos://127.0.0.1:8848?pollMs=10&resyncMs=1000${query}`) as NacosWatchConfig;
  const snapshots: RegistrySnapshot[] = [];
  const statuses: RegistryStatus[] = [];
  const clock = new ManualClock();
  const w = new NacosWatcher(config, api, ['dubbo'], { onSnapshot: (s) => snapshots.push(s), onStatus: (s) => statuses.push(s) }, clock);
  return { w, snapshots, statuses, clock };
}

const NAMES = ['providers:a.A:1:', 'providers:a.B:1:', 'providers:a.C:1:', 'providers:a.D:1:', 'providers:a.E:1:'];

test('paging an unordered service list keeps going until every name was seen', async () => {
  // Pages 1-3 after the shift give A B, D E, A: C was skipped; the second pass finds it.
  const api = fakeApi({ names: NAMES });
  const { w } = watcher(api, '&pageSize=2');
  await w.sync();
  assert.equal(w.snapshot()?.services.length, 5);
  assert.deepEqual(api.calls, ['list public DEFAULT_GROUP 1', 'list public DEFAULT_GROUP 2', 'list public DEFAULT_GROUP 3', 'list public DEFAULT_GROUP 1']);
});

test('more services than maxServices: the first by name are read and MM_REGISTRY_TOO_MANY_SERVICES says so', async () => {
  const { w } = watcher(fakeApi({ names: NAMES }), '&maxServices=3');
  await w.sync();
  const snap = w.snapshot()!;
  assert.deepEqual(snap.services.map((s) => s.interface), ['a.A', 'a.B', 'a.C']);
  assert.deepEqual(snap.diagnostics.map((d) => d.code), ['MM_REGISTRY_TOO_MANY_SERVICES']);
});

test('a failing server keeps the last snapshot: disconnected when refused, failing on a bad answer; recovery resyncs', async () => {
  const state: { names: string[]; down?: 'refused' | 'http500' } = { names: NAMES.slice(0, 2) };
  const { w, snapshots } = watcher(fakeApi(state));
  await w.sync();
  const first = w.snapshot();
  assert.equal(first?.services.length, 2);
  assert.equal(w.status().state, 'synced');
  const syncedAt = w.status().lastSyncMs;

  state.down = 'refused';
  await w.sync();
  assert.equal(w.status().state, 'disconnected');
  assert.match(w.status().error!, /ECONNREFUSED/);
  assert.equal(w.status().lastSyncMs, syncedAt);
  assert.equal(w.snapshot(), first);

  state.down = 'http500';
  await w.sync();
  assert.equal(w.status().state, 'failing');
  assert.equal(w.snapshot(), first);
  assert.equal(snapshots.length, 1, 'no snapshot is published while the server fails');

  state.down = undefined;
  state.names = NAMES.slice(0, 3);
  await w.sync();
  assert.equal(w.status().state, 'synced');
  assert.equal(w.snapshot()?.services.length, 3, 'the service list is read again after a failure');
});

test('an unchanged read publishes no new snapshot', async () => {
  const { w, snapshots, statuses } = watcher(fakeApi({ names: NAMES.slice(0, 1) }));
  await w.sync();
  await w.sync();
  assert.equal(snapshots.length, 1);
  assert.equal(statuses.length, 2);
});

test('start reads at once, then every pollMs; the service list again once resyncMs passed; stop ends it', async () => {
  const api = fakeApi({ names: NAMES.slice(0, 1) });
  const { w, clock, statuses } = watcher(api); // pollMs 10, resyncMs 1000
  /** Lets the read the timer started finish (it schedules the next timer when done). */
  const readDone = async (n: number) => {
    for (let i = 0; i < 1000 && (statuses.length < n || clock.pending() === 0); i++) await new Promise((r) => setImmediate(r));
    assert.equal(statuses.length, n, `read ${n} finished`);
  };
  w.start();
  assert.equal(clock.fireNext(), 0, 'the first read starts at once');
  await readDone(1);
  const lists = api.calls.length;
  for (let n = 2; clock.now() + 10 < 2000; n++) {
    assert.equal(clock.fireNext(), 10, 'reads are pollMs apart');
    await readDone(n);
  }
  assert.equal(api.calls.length, lists, 'no service list read before resyncMs');
  clock.fireNext();
  await readDone(statuses.length + 1);
  assert.equal(api.calls.length, lists + 1, 'the service list is read again at resyncMs');
  await w.stop();
  assert.equal(clock.pending(), 0, 'no timer left after stop');
});
