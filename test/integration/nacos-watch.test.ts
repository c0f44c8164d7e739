/**
 * The Nacos watcher against a real Nacos server: rnacos 0.8.8 (a Rust implementation of the Nacos
 * server protocols; see test/support/nacos.ts), started on loopback by each test. Instances are
 * registered through the v1 Open API with the names and metadata a Dubbo 3.3.6 provider writes.
 * Every wait polls the watcher's state with a deadline; nothing sleeps and hopes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RegistrySnapshot, RegistryStatus } from '../../src/model/registry.js';
import { httpNacosApi } from '../../src/registry/nacos/client.js';
import { parseNacosUrl, type NacosWatchConfig } from '../../src/registry/nacos/config.js';
import { NacosWatcher } from '../../src/registry/nacos/watch.js';
import { dubboApplicationMetadata, dubboInterfaceMetadata, Rnacos, type Registration } from '../support/nacos.js';

const PROTOCOLS = ['brpc', 'dubbo', 'thrift', 'trpc'];
const IFACE = 'providers:demo.GreetingService:1.0.0:g1';
const IFACE_HOST = 'demo.greetingservice-g1-1-0-0';

function provider(ip: string, extra: Partial<Registration> = {}): Registration {
  return { serviceName: IFACE, ip, port: 20882, metadata: dubboInterfaceMetadata('prov-all'), ...extra };
}

interface Watched {
  readonly watcher: NacosWatcher;
  readonly snapshots: RegistrySnapshot[];
  readonly statuses: RegistryStatus[];
}

function watch(server: Rnacos, query = '', port = server.port): Watched {
  const config = parseNacosUrl(`nacos://127.0.0.1:${port}?pollMs=100&resyncMs=300&timeoutMs=1000${query}`) as NacosWatchConfig;
  assert.equal(typeof config, 'object', String(config));
  const snapshots: RegistrySnapshot[] = [];
  const statuses: RegistryStatus[] = [];
  const watcher = new NacosWatcher(config, httpNacosApi(config.server, config.timeoutMs), PROTOCOLS, {
    onSnapshot: (s) => snapshots.push(s),
    onStatus: (s) => statuses.push(s),
  });
  watcher.start();
  return { watcher, snapshots, statuses };
}

async function until<T>(what: string, probe: () => T | undefined | false, deadlineMs = 15000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) assert.fail(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function service(w: Watched, host: string) {
  return w.watcher.snapshot()?.services.find((s) => s.host === host);
}

function instance(w: Watched, host: string, address: string) {
  return service(w, host)?.instances.find((i) => i.address === address);
}

test('initial sync: Dubbo interface and application services (one known only by its mapping), a Thrift service, and nothing else', async (t) => {
  const server = await Rnacos.start();
  t.after(() => server.close());
  await server.register(provider('127.0.0.1'));
  await server.register({ serviceName: 'prov-all', ip: '127.0.0.1', port: 20882, metadata: dubboApplicationMetadata(20882) });
  await server.publishConfig('demo.GreetingService', 'mapping', 'prov-all');
  await server.register({ serviceName: 'Hello.Thrift', ip: '10.1.0.2', port: 9090, metadata: { protocol: 'thrift', interface: 'Hello' } });
  // An application known only through its mapping (no dubbo.endpoints): the mapping read finds it.
  await server.register({ serviceName: 'mapped-app', ip: '10.0.0.8', port: 20880, metadata: { application: 'mapped-app' } });
  await server.publishConfig('demo.MappedService', 'mapping', 'mapped-app');
  await server.register({ serviceName: 'curl-svc', ip: '127.0.0.1', port: 8080, metadata: { version: '1.0', zone: 'z1' } });
  const w = watch(server);
  t.after(() => w.watcher.stop());

  const snap = await until('four services', () => (w.snapshots.at(-1)?.services.length === 4 ? w.snapshots.at(-1) : undefined));
  assert.deepEqual(
    snap.services.map((s) => [s.key, s.protocol, s.host, s.instances.map((i) => `${i.address}:${i.port}`).join(',')]),
    [
      ['public/DEFAULT_GROUP/Hello.Thrift', 'thrift', 'hello.thrift', '10.1.0.2:9090'],
      ['public/DEFAULT_GROUP/mapped-app', 'dubbo', 'mapped-app', '10.0.0.8:20880'],
      ['public/DEFAULT_GROUP/prov-all', 'dubbo', 'prov-all', '127.0.0.1:20882'],
      [`public/DEFAULT_GROUP/${IFACE}`, 'dubbo', IFACE_HOST, '127.0.0.1:20882'],
    ],
  );
  const iface = snap.services[3]!;
  assert.equal(iface.interface, 'demo.GreetingService');
  assert.equal(iface.group, 'g1');
  assert.equal(iface.version, '1.0.0');
  assert.equal(iface.application, 'prov-all');
  // Labelled as the ZooKeeper adapter labels Dubbo providers; the rest of the metadata is Dubbo's bookkeeping.
  assert.deepEqual(iface.instances[0]!.labels, { application: 'prov-all', group: 'g1', version: '1.0.0' });
  assert.deepEqual(snap.diagnostics, []);
  assert.equal(w.watcher.status().state, 'synced');
  assert.equal(typeof w.watcher.status().lastSyncMs, 'number');
});

test('an instance added, re-weighted, marked unhealthy, disabled and removed shows up', async (t) => {
  const server = await Rnacos.start();
  t.after(() => server.close());
  await server.register(provider('10.0.0.1'));
  const w = watch(server);
  t.after(() => w.watcher.stop());
  await until('the first instance', () => instance(w, IFACE_HOST, '10.0.0.1'));

  await server.register(provider('10.0.0.2'));
  await until('the added instance', () => instance(w, IFACE_HOST, '10.0.0.2'));

  await server.update(provider('10.0.0.2', { weight: 0.5 }));
  await until('the instance at weight 50 (Nacos 0.5 × Dubbo 100)', () => instance(w, IFACE_HOST, '10.0.0.2')?.weight === 50);

  // rnacos ignores `healthy` in v1 writes; the server marks an instance unhealthy itself when its
  // heartbeats stop, as for a provider that hangs.
  await server.register(provider('10.0.0.3', { ephemeral: true }));
  await until('the ephemeral instance', () => instance(w, IFACE_HOST, '10.0.0.3'));
  await until('the instance marked unhealthy by the server', () => instance(w, IFACE_HOST, '10.0.0.3')?.healthy === false, 30000);

  // rnacos leaves disabled instances out of its instance list (real Nacos lists them with
  // `enabled: false`, which the parser keeps: see the golden case health-enabled-weight).
  await server.update(provider('10.0.0.2', { enabled: false }));
  await until('the disabled instance out', () => service(w, IFACE_HOST) && !instance(w, IFACE_HOST, '10.0.0.2'));
  await server.update(provider('10.0.0.2', { enabled: true }));
  await until('the instance enabled again', () => instance(w, IFACE_HOST, '10.0.0.2')?.enabled === true);

  await server.deregister(provider('10.0.0.2'));
  await until('the instance removed', () => service(w, IFACE_HOST) && !instance(w, IFACE_HOST, '10.0.0.2'));
  assert.deepEqual(service(w, IFACE_HOST)!.instances.map((i) => [i.address, i.healthy]), [['10.0.0.1', true], ['10.0.0.3', false]]);
});

test('a server restart keeps the last snapshot while it is down, then resyncs', async (t) => {
  const server = await Rnacos.start();
  t.after(() => server.close());
  await server.register(provider('10.0.0.1'));
  const w = watch(server);
  t.after(() => w.watcher.stop());
  const before = await until('the first sync', () => w.watcher.snapshot()?.services.length === 1 && w.watcher.snapshot());

  await server.stop();
  await until('the watcher disconnected', () => w.watcher.status().state === 'disconnected');
  // Several failed polls later, nothing known is lost.
  const failures = w.statuses.length;
  await until('more failed polls', () => w.statuses.length >= failures + 3);
  assert.equal(w.watcher.snapshot(), before);
  assert.equal(w.watcher.status().state, 'disconnected');
  assert.match(w.watcher.status().error ?? '', /no answer/);
  assert.equal(w.watcher.status().lastSyncMs, [...w.statuses].reverse().find((s) => s.state === 'synced')?.lastSyncMs);

  await server.restart();
  // Whatever rnacos kept across the restart, a provider registering again is seen.
  await server.register(provider('10.0.0.3'));
  await until('the resync after the restart', () => w.watcher.status().state === 'synced' && instance(w, IFACE_HOST, '10.0.0.3'));
});

test('a server down at start-up: disconnected, no snapshot; synced once it is up', async (t) => {
  const server = await Rnacos.start();
  t.after(() => server.close());
  await server.register(provider('10.0.0.1'));
  await server.stop();
  const w = watch(server);
  t.after(() => w.watcher.stop());
  await until('the watcher disconnected', () => w.watcher.status().state === 'disconnected');
  assert.equal(w.watcher.snapshot(), undefined);
  assert.equal(w.snapshots.length, 0);

  await server.restart();
  await server.register(provider('10.0.0.2'));
  await until('the first sync', () => w.watcher.status().state === 'synced' && instance(w, IFACE_HOST, '10.0.0.2'));
});

test('namespaces, groups, the service/exclude patterns and paging select what is read', async (t) => {
  const server = await Rnacos.start();
  t.after(() => server.close());
  for (let i = 0; i < 7; i++) {
    await server.register({ serviceName: `providers:demo.S${i}:1.0.0:`, ip: '10.0.0.1', port: 20880 + i, metadata: { protocol: 'dubbo' } });
  }
  await server.register({ serviceName: IFACE, group: 'ORDERS', namespace: 'dev', ip: '10.0.0.9', port: 20882, metadata: dubboInterfaceMetadata('prov-all') });
  const w = watch(server, '&namespace=public,dev&group=DEFAULT_GROUP,ORDERS&pageSize=2&exclude=*S3*');
  t.after(() => w.watcher.stop());
  const snap = await until('seven services', () => (w.snapshots.at(-1)?.services.length === 7 ? w.snapshots.at(-1) : undefined));
  assert.deepEqual(
    snap.services.map((s) => s.host),
    ['demo.greetingservice-g1-1-0-0.orders.dev', 'demo.s0-1-0-0', 'demo.s1-1-0-0', 'demo.s2-1-0-0', 'demo.s4-1-0-0', 'demo.s5-1-0-0', 'demo.s6-1-0-0'],
  );
});
