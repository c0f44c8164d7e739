import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRegistry, redact, zkAddressOf } from '../../src/registry/config.js';
import { serviceEntryOptions } from '../../src/registry/namespaces.js';
import { generateServiceEntries } from '../../src/serviceentry/generate.js';

test('a bare zookeeper URL reads /dubbo per interface', () => {
  assert.deepEqual(parseRegistry('zookeeper://127.0.0.1:2181'), {
    kind: 'zookeeper', name: 'zookeeper://127.0.0.1:2181', connect: '127.0.0.1:2181', chroot: '', roots: ['/dubbo'], services: ['/services'], serverSets: [], level: 'interface', serverSetProtocol: 'thrift',
  });
});

test('roots, ServerSets, level, namespace, several hosts and a chroot are read; the password is never in the name', () => {
  const c = parseRegistry('zookeeper://ops:s3cret@zk1:2181,zk2:2181/mesh?root=/dubbo&root=/services&serverset=/aurora/jobs&level=application&namespace=dubbo');
  assert.ok('kind' in c && c.kind === 'zookeeper');
  assert.equal(c.connect, 'zk1:2181,zk2:2181/mesh');
  assert.equal(c.chroot, '/mesh');
  assert.deepEqual(c.auth, { user: 'ops', password: 's3cret' });
  assert.deepEqual([c.roots, c.serverSets, c.level, c.namespace], [['/dubbo', '/services'], ['/aurora/jobs'], 'application', 'dubbo']);
  assert.ok(!c.name.includes('s3cret'), c.name);
});

test('a ServerSet-only registry does not read /dubbo or /services', () => {
  const c = parseRegistry('zookeeper://zk:2181?serverset=/twitter/service/echo');
  assert.ok('kind' in c && c.kind === 'zookeeper');
  assert.deepEqual([c.roots, c.services], [[], []]);
});

test('the watcher mirrors every root with its kind, and gets the digest credentials', () => {
  const c = parseRegistry('zookeeper://u:p@zk:2181/x?root=/dubbo&services=/svc&serverset=/aurora');
  assert.ok('kind' in c && c.kind === 'zookeeper');
  assert.deepEqual(zkAddressOf(c), {
    connect: 'zk:2181/x',
    digest: 'u:p',
    roots: [{ path: '/dubbo', kind: 'dubbo' }, { path: '/svc', kind: 'services' }, { path: '/aurora', kind: 'serverset' }],
  });
});

test('nacos and file registries, with defaults', () => {
  const n = parseRegistry('nacos://127.0.0.1:8848');
  assert.ok('kind' in n && n.kind === 'nacos');
  assert.equal(n.watch.server, 'http://127.0.0.1:8848');
  assert.deepEqual([n.watch.namespaces, n.watch.groups], [['public'], ['DEFAULT_GROUP']]);
  assert.deepEqual(parseRegistry('file:///etc/metamesh/registry.yaml'), { kind: 'file', name: 'file:///etc/metamesh/registry.yaml', path: '/etc/metamesh/registry.yaml' });
});

for (const [value, reason] of [
  ['redis://x:1', /not a registry URL/],
  ['zookeeper://', /give host:port/],
  ['zookeeper://zk', /give host:port/],
  ['zookeeper://zk:99999', /give host:port/],
  ['zookeeper://zk:2181?root=dubbo', /not a ZooKeeper path/],
  ['zookeeper://zk:2181?level=pod', /level must be interface or application/],
  ['zookeeper://zk:2181?rooot=/dubbo', /unknown parameter rooot/],
  ['zookeeper://u@zk:2181', /user:password@/],
  ['nacos://n:8848?bogus=1', /bogus/],
  ['file://', /needs a path/],
] as const) {
  test(`${value} is refused with a reason`, () => {
    const r = parseRegistry(value);
    assert.ok('error' in r, JSON.stringify(r));
    assert.match(r.error, reason);
  });
}

test('redact hides a password and leaves other URLs alone', () => {
  assert.equal(redact('zookeeper://u:p@zk:2181/x'), 'zookeeper://u:***@zk:2181/x');
  assert.equal(redact('nacos://n:8848'), 'nacos://n:8848');
});

test('a ZooKeeper URL\'s namespace= places that registry\'s ServiceEntries, after the explicit rules and before the default', async () => {
  const zk = parseRegistry('zookeeper://127.0.0.1:2181?namespace=dubbo');
  const other = parseRegistry('zookeeper://127.0.0.1:2182');
  assert.ok(!('error' in zk) && !('error' in other));
  const options = serviceEntryOptions('fallback', ['shop=application:shop'], [zk, other]);
  assert.ok(!('error' in options));
  const svc = (host: string, registry: string, application: string) => ({ host, protocol: 'dubbo', application, registries: [registry], instances: [{ address: '10.0.0.1', port: 20880, labels: {}, weight: 100, healthy: true, enabled: true, registry }] });
  const out = generateServiceEntries([svc('a.example.com', zk.name, 'misc'), svc('b.example.com', zk.name, 'shop'), svc('c.example.com', other.name, 'misc')], options);
  const at = Object.fromEntries(out.serviceEntries.map((se) => [se.spec.hosts[0], se.metadata.namespace]));
  assert.deepEqual(at, { 'a.example.com': 'dubbo', 'b.example.com': 'shop', 'c.example.com': 'fallback' });
});
