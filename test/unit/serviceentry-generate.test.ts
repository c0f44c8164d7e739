/**
 * ServiceEntries generated from the catalog: names, namespaces, ports, labels, and that they are
 * read back by the input stage exactly like a user's ServiceEntry.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { CatalogInstance, CatalogService } from '../../src/catalog/model.js';
import { parseYaml, readResources } from '../../src/input/read.js';
import { DEFAULT_SERVICEENTRY_OPTIONS, generateServiceEntries, serviceEntryName } from '../../src/serviceentry/generate.js';
import { fixLabels } from '../../src/serviceentry/labels.js';
import { validateServiceEntry } from '../../src/validate/serviceentry.js';

const ZK = 'zookeeper://127.0.0.1:2181/dubbo';

function inst(address: string, port = 20880, over: Partial<CatalogInstance> = {}): CatalogInstance {
  return { address, port, labels: {}, weight: 100, healthy: true, enabled: true, registry: ZK, ...over };
}
function service(host: string, instances: CatalogInstance[], over: Partial<CatalogService> = {}): CatalogService {
  return { host, protocol: 'dubbo', registries: [ZK], instances, ...over };
}

describe('ServiceEntry generation', () => {
  it('a host that is a valid object name is the name; longer hosts get distinct hashed names within 253 characters', () => {
    assert.equal(serviceEntryName('demo.greetingservice-g1-1-0-0'), 'demo.greetingservice-g1-1-0-0');
    const a = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`;
    const b = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'e'.repeat(63)}`;
    const [na, nb] = [serviceEntryName(a), serviceEntryName(b)];
    assert.notEqual(na, nb);
    for (const n of [na, nb]) {
      assert.ok(n.length <= 253, n);
      assert.ok(n.split('.').every((l) => l.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(l)), n);
    }
  });

  it('the declared port is the one most instances use, ties to the lowest, and every endpoint names its own port', () => {
    const { serviceEntries } = generateServiceEntries([service('demo.x', [inst('10.0.0.1', 20881), inst('10.0.0.2', 20880), inst('10.0.0.3', 20881), inst('10.0.0.4', 20880)])], DEFAULT_SERVICEENTRY_OPTIONS);
    const se = serviceEntries[0]!;
    assert.deepEqual(se.spec.ports, [{ number: 20880, name: 'tcp-metaprotocol-dubbo', protocol: 'TCP' }]);
    assert.deepEqual(se.spec.endpoints!.map((e) => e.ports), [20881, 20880, 20881, 20880].map((p) => ({ 'tcp-metaprotocol-dubbo': p })));
  });

  it('only enabled, healthy instances with a weight above 0 become endpoints', () => {
    const { serviceEntries } = generateServiceEntries(
      [service('demo.x', [inst('10.0.0.1'), inst('10.0.0.2', 20880, { weight: 0 }), inst('10.0.0.3', 20880, { healthy: false }), inst('10.0.0.4', 20880, { enabled: false })])],
      DEFAULT_SERVICEENTRY_OPTIONS,
    );
    assert.deepEqual(serviceEntries[0]!.spec.endpoints!.map((e) => e.address), ['10.0.0.1']);
  });

  it('the namespace is the service\'s own, else the first matching rule, else the default', () => {
    const options = { defaultNamespace: 'dubbo', namespaceRules: [{ application: 'billing', namespace: 'bill' }, { interfacePrefix: 'org.', namespace: 'org' }, { application: 'billing', interfacePrefix: 'org.', namespace: 'never' }] };
    const { serviceEntries } = generateServiceEntries(
      [
        service('a.own', [inst('10.0.0.1')], { namespace: 'mine', application: 'billing' }),
        service('b.rule', [inst('10.0.0.1')], { application: 'billing', interface: 'org.B' }),
        service('c.prefix', [inst('10.0.0.1')], { interface: 'org.C' }),
        service('d.default', [inst('10.0.0.1')], { interface: 'com.D' }),
      ],
      options,
    );
    assert.deepEqual(serviceEntries.map((s) => `${s.metadata.namespace}/${s.metadata.name}`), ['bill/b.rule', 'dubbo/d.default', 'mine/a.own', 'org/c.prefix']);
  });

  it('a rule by registry gives that registry\'s services their namespace', () => {
    const options = { defaultNamespace: 'dubbo', namespaceRules: [{ registry: 'nacos://n:8848', namespace: 'from-nacos' }] };
    const { serviceEntries } = generateServiceEntries([service('a.zk', [inst('10.0.0.1')]), service('b.nacos', [inst('10.0.0.2')], { registries: ['nacos://n:8848', ZK] })], options);
    assert.deepEqual(serviceEntries.map((s) => `${s.metadata.namespace}/${s.metadata.name}`), ['dubbo/a.zk', 'from-nacos/b.nacos']);
  });

  it('registry labels become valid Kubernetes labels, and keys that collide keep the one that was valid', () => {
    const r = fixLabels({ methods: 'a,b', 'x y': '1', 'x-y': '2', 'Example.COM/k': 'v', long: 'v'.repeat(70), '???': 'gone', empty: '' });
    assert.deepEqual(r.labels, { 'example.com/k': 'v', empty: '', long: 'v'.repeat(63), methods: 'a-b', 'x-y': '2' });
    assert.equal(r.changes.length, 5);
  });

  it('generated ServiceEntries pass Istio validation and are read back by the input stage unchanged, without diagnostics', () => {
    const { serviceEntries } = generateServiceEntries(
      [service('demo.greeter', [inst('10.0.0.1', 20880, { labels: { methods: 'a,b', version: '1.0.0' } }), inst('fd00::1')], { interface: 'demo.Greeter', application: 'prov' })],
      DEFAULT_SERVICEENTRY_OPTIONS,
    );
    for (const se of serviceEntries) assert.deepEqual(validateServiceEntry(se), []);
    const parsed = parseYaml(serviceEntries.map((se) => stringify(se)).join('---\n'), 'generated.yaml');
    const read = readResources(parsed.documents);
    assert.deepEqual([...parsed.diagnostics, ...read.diagnostics], []);
    assert.deepEqual(read.config.serviceEntries, serviceEntries);
  });
});
