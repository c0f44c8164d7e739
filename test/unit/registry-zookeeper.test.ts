/**
 * The ZooKeeper parsers, rule by rule (the verbatim Dubbo registrations are golden cases in
 * test/golden/registry-zookeeper). Pure functions on ZkTrees built here.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ZkTree } from '../../src/model/registry.js';
import { parseNodeName, parseUrl } from '../../src/registry/zookeeper/dubbo-url.js';
import { javaUrlDecode } from '../../src/registry/zookeeper/java-url.js';
import { dubboHost, serverSetHost } from '../../src/registry/zookeeper/naming.js';
import { parseZkTree } from '../../src/registry/zookeeper/parse.js';

/** What java.net.URLEncoder writes: encodeURIComponent plus ! ' ( ) ~ escaped, and + for a space. */
function javaEncode(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function tree(entries: Record<string, string>): ZkTree {
  return new Map(Object.entries(entries));
}

const REGISTRY = 'zookeeper://127.0.0.1:2181';

function provider(url: string, root = '/dubbo'): string {
  const iface = /\/([^/?]+)\?/.exec(url)![1]!;
  return `${root}/${javaEncode(iface)}/providers/${javaEncode(url)}`;
}

describe('Java URL decoding', () => {
  const table: Array<[string, string | undefined]> = [
    ['a+b', 'a b'],
    ['%2B', '+'],
    ['caf%C3%A9', 'café'],
    ['%E2%82%AC+%21%27%28%29%7E', "€ !'()~"],
    ['com.foo.Outer%24Inner', 'com.foo.Outer$Inner'],
    ['plain.Name', 'plain.Name'],
    ['%', undefined],
    ['%4', undefined],
    ['%ZZ', undefined],
    ['%C3%28', undefined],
    ['%C3', undefined],
  ];
  for (const [input, want] of table) {
    test(`decodes ${JSON.stringify(input)} to ${want === undefined ? 'nothing (invalid)' : JSON.stringify(want)}`, () => {
      assert.equal(javaUrlDecode(input), want);
    });
  }

  test('undoes what java.net.URLEncoder writes, for every printable ASCII character and some UTF-8', () => {
    let all = '';
    for (let c = 0x20; c < 0x7f; c++) all += String.fromCharCode(c);
    all += 'é€😀';
    assert.equal(javaUrlDecode(javaEncode(all)), all);
  });
});

describe('Dubbo URL parsing', () => {
  test('keeps every parameter, sorted, and splits the query on & and ; at the first =', () => {
    const r = parseUrl('dubbo://10.0.0.1:20880/com.foo.Bar?b=2&a=x=y;c&methods=a,b');
    assert.ok('url' in r);
    assert.deepEqual(r.url, { scheme: 'dubbo', host: '10.0.0.1', port: 20880, path: 'com.foo.Bar', params: { a: 'x=y', b: '2', c: '', methods: 'a,b' } });
    assert.deepEqual(Object.keys(r.url.params), ['a', 'b', 'c', 'methods']);
  });

  test('reads a default.-prefixed key (Dubbo 2.6) as the plain key when that is absent', () => {
    const r = parseUrl('dubbo://h:1/x?default.weight=5&default.timeout=1&timeout=2');
    assert.ok('url' in r);
    assert.equal(r.url.params.weight, '5');
    assert.equal(r.url.params.timeout, '2');
  });

  test('reads user info, an IPv6 literal and a URL without a port', () => {
    const a = parseUrl('tri://u:p@[::1]:50051/x');
    assert.ok('url' in a);
    assert.deepEqual([a.url.host, a.url.port], ['::1', 50051]);
    const b = parseUrl('override://0.0.0.0/x?weight=1');
    assert.ok('url' in b);
    assert.deepEqual([b.url.host, b.url.port], ['0.0.0.0', 0]);
  });

  test('takes __proto__ and constructor as ordinary parameters', () => {
    const r = parseUrl('dubbo://h:1/x?__proto__=a&constructor=b');
    assert.ok('url' in r);
    assert.equal(Object.getOwnPropertyDescriptor(r.url.params, '__proto__')?.value, 'a');
    assert.equal(r.url.params.constructor, 'b');
    assert.equal(Object.getPrototypeOf(r.url.params), Object.prototype);
  });

  test('accepts a raw (unencoded) URL as a node name, as Dubbo 3 does, and refuses a name that is no URL', () => {
    assert.ok('url' in parseNodeName('dubbo://h:1/x?a=b'));
    const bad = parseNodeName('just-a-name');
    assert.ok('error' in bad && bad.badEncoding === undefined);
    const enc = parseNodeName('dubbo%3A%2F%2Fh%3A1%2Fx%3Fa%3D%G0');
    assert.ok('error' in enc && enc.badEncoding === true);
  });
});

describe('host naming', () => {
  test("follows dubbo2istio's interface[-group][-version] naming, lower case", () => {
    assert.equal(dubboHost('org.apache.dubbo.samples.basic.api.ComplexService', 'product', '2.0.0'), 'org.apache.dubbo.samples.basic.api.complexservice-product-2-0-0');
    assert.equal(dubboHost('org.apache.dubbo.samples.basic.api.DemoService', undefined, undefined), 'org.apache.dubbo.samples.basic.api.demoservice');
  });

  test('replaces what a DNS name cannot hold ($ of an inner class, _) with -', () => {
    assert.equal(dubboHost('com.foo.Outer$Inner', 'my_group', undefined), 'com.foo.outer-inner-my-group');
  });

  test('names a ServerSet by its path, reversed', () => {
    assert.equal(serverSetHost('/aurora/www-data/prod/hello'), 'hello.prod.www-data.aurora');
  });
});

describe('Dubbo interface-level providers', () => {
  test('gives one service per interface, group and version, from providers under every configured root', () => {
    const s = parseZkTree(
      tree({
        [provider('dubbo://10.0.0.1:20880/a.S?application=x&group=g1&version=1.0&interface=a.S')]: '',
        [provider('dubbo://10.0.0.2:20880/a.S?application=x&group=g2&version=1.0&interface=a.S')]: '',
        [provider('dubbo://10.0.0.3:20880/a.S?application=x&interface=a.S', '/dev')]: '',
        [provider('dubbo://10.0.0.4:20880/a.S?application=x&interface=a.S', '/other')]: '',
      }),
      { registry: REGISTRY, roots: ['/dubbo', 'dev/'] },
    );
    assert.deepEqual(
      s.services.map((x) => [x.key, x.host, x.instances.map((i) => i.address)]),
      [
        ['dubbo:a.S::', 'a.s', ['10.0.0.3']],
        ['dubbo:a.S:g1:1.0', 'a.s-g1-1-0', ['10.0.0.1']],
        ['dubbo:a.S:g2:1.0', 'a.s-g2-1-0', ['10.0.0.2']],
      ],
    );
  });

  test('reads consumers, routers and configurators as no services, and config, mapping and metadata as no interfaces', () => {
    const s = parseZkTree(
      tree({
        [`/dubbo/a.S/consumers/${javaEncode('consumer://10.0.0.9/a.S?category=consumers')}`]: '',
        [`/dubbo/a.S/routers/${javaEncode('route://0.0.0.0/a.S?category=routers&rule=x')}`]: '',
        [`/dubbo/a.S/configurators/${javaEncode('override://0.0.0.0/a.S?weight=1')}`]: '',
        [`/dubbo/config/providers/${javaEncode('dubbo://10.0.0.1:1/config')}`]: '',
        [`/dubbo/metadata/providers/${javaEncode('dubbo://10.0.0.1:1/metadata')}`]: '',
      }),
      { registry: REGISTRY },
    );
    assert.deepEqual(s.services, []);
    assert.deepEqual(s.diagnostics, []);
  });

  test('keeps version, group, application and aeraki_meta_* as labels, and takes the namespace from aeraki_meta_app_namespace', () => {
    const s = parseZkTree(tree({ [provider('dubbo://10.0.0.1:20880/a.S?application=x&group=g&version=1&timeout=3000&aeraki_meta_app_namespace=ns1&aeraki_meta_locality=r%2Fz')]: '' }), { registry: REGISTRY });
    assert.equal(s.services[0]!.namespace, 'ns1');
    assert.deepEqual(s.services[0]!.instances[0]!.labels, { aeraki_meta_app_namespace: 'ns1', aeraki_meta_locality: 'r%2Fz', application: 'x', group: 'g', version: '1' });
  });

  test('needs no aeraki_meta_* parameter at all (unlike dubbo2istio)', () => {
    const s = parseZkTree(tree({ [provider('dubbo://10.0.0.1:20880/a.S?application=x')]: '' }), { registry: REGISTRY });
    assert.equal(s.services.length, 1);
    assert.equal(s.services[0]!.namespace, undefined);
  });

  test('honours the weight, disabled and enabled parameters of the provider URL itself', () => {
    const s = parseZkTree(
      tree({
        [provider('dubbo://10.0.0.1:20880/a.S?weight=0')]: '',
        [provider('dubbo://10.0.0.2:20880/a.S?disabled=true')]: '',
        [provider('dubbo://10.0.0.3:20880/a.S?enabled=false')]: '',
      }),
      { registry: REGISTRY },
    );
    assert.deepEqual(
      s.services[0]!.instances.map((i) => [i.address, i.weight, i.enabled]),
      [
        ['10.0.0.1', 0, true],
        ['10.0.0.2', 100, false],
        ['10.0.0.3', 100, false],
      ],
    );
  });

  test('applies an override only to the provider port it names; one with a host but no port targets consumers', () => {
    const s = parseZkTree(
      tree({
        [provider('dubbo://10.0.0.1:20880/a.S?application=x')]: '',
        [provider('dubbo://10.0.0.1:20881/a.S?application=x')]: '',
        [`/dubbo/a.S/configurators/${javaEncode('override://10.0.0.1:20881/a.S?category=configurators&weight=5')}`]: '',
        [`/dubbo/a.S/configurators/${javaEncode('override://10.0.0.1/a.S?category=configurators&weight=6')}`]: '',
      }),
      { registry: REGISTRY },
    );
    assert.deepEqual(s.services[0]!.instances.map((i) => [i.port, i.weight]), [
      [20880, 100],
      [20881, 5],
    ]);
  });

  test('clears every override when an empty:// URL is among them', () => {
    const s = parseZkTree(
      tree({
        [provider('dubbo://10.0.0.1:20880/a.S?application=x')]: '',
        [`/dubbo/a.S/configurators/${javaEncode('override://0.0.0.0/a.S?category=configurators&disabled=true')}`]: '',
        [`/dubbo/a.S/configurators/${javaEncode('empty://0.0.0.0/a.S?category=configurators')}`]: '',
      }),
      { registry: REGISTRY },
    );
    assert.equal(s.services[0]!.instances[0]!.enabled, true);
  });

  test('lets a higher priority override win among overrides of the same specificity', () => {
    const s = parseZkTree(
      tree({
        [provider('dubbo://10.0.0.1:20880/a.S?application=x')]: '',
        [`/dubbo/a.S/configurators/${javaEncode('override://0.0.0.0/a.S?priority=9&weight=9')}`]: '',
        [`/dubbo/a.S/configurators/${javaEncode('override://0.0.0.0/a.S?priority=1&weight=1')}`]: '',
      }),
      { registry: REGISTRY },
    );
    assert.equal(s.services[0]!.instances[0]!.weight, 9);
  });
});

describe('bounds', () => {
  test('does not parse 1 MB of node data: it is reported as oversized, not as bad JSON', () => {
    const big = `{${'x'.repeat(1024 * 1024)}`;
    const s = parseZkTree(tree({ '/ss/member_0000000001': big }), { registry: REGISTRY, serverSets: [{ path: '/ss' }] });
    assert.deepEqual(s.diagnostics.map((d) => d.code), ['MM_REGISTRY_OVERSIZED']);
    assert.deepEqual(s.services, []);
  });

  test('reads 100,000 provider children and keeps the first instances by address up to the limit, with one diagnostic', () => {
    const entries: Record<string, string> = {};
    for (let i = 0; i < 100_000; i++) entries[provider(`dubbo://10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:20880/a.S?application=x`)] = '';
    const s = parseZkTree(tree(entries), { registry: REGISTRY });
    assert.equal(s.services.length, 1);
    assert.equal(s.services[0]!.instances.length, 10_000);
    assert.deepEqual(s.diagnostics.map((d) => d.code), ['MM_REGISTRY_TOO_MANY']);
    assert.equal(s.services[0]!.instances[0]!.address, '10.0.0.0');
  });
});

describe('ServerSets', () => {
  for (const status of ['STARTING', 'WARNING', 'STOPPING', 'STOPPED', 'DEAD', 'UNKNOWN', undefined]) {
    test(`keeps a ${status ?? 'status-less'} member, not healthy but enabled`, () => {
      const member = JSON.stringify({ serviceEndpoint: { host: '10.0.0.1', port: 9090 }, additionalEndpoints: {}, ...(status ? { status } : {}) });
      const s = parseZkTree(tree({ '/ss/member_0000000001': member }), { registry: REGISTRY, serverSets: [{ path: '/ss' }] });
      assert.deepEqual([s.services[0]!.instances[0]!.healthy, s.services[0]!.instances[0]!.enabled], [false, true]);
    });
  }

  test('gives the default protocol thrift, or the configured one', () => {
    const member = JSON.stringify({ serviceEndpoint: { host: '10.0.0.1', port: 9090 }, status: 'ALIVE' });
    const t = tree({ '/a/member_1': member, '/b/member_1': member });
    const s = parseZkTree(t, { registry: REGISTRY, serverSets: [{ path: '/a' }, { path: '/b' }], serverSetProtocol: 'brpc' });
    assert.deepEqual(s.services.map((x) => x.protocol), ['brpc', 'brpc']);
    assert.equal(parseZkTree(t, { registry: REGISTRY, serverSets: [{ path: '/a' }] }).services[0]!.protocol, 'thrift');
  });
});

describe('Dubbo 3 application level', () => {
  const instance = (app: string, address: string, port: number, endpoints: string) =>
    JSON.stringify({ name: app, address, port, payload: { metadata: { 'dubbo.endpoints': endpoints, 'dubbo.metadata.revision': 'r', 'dubbo.metadata.storage-type': 'local' } } });

  test('takes the dubbo endpoint of an instance that also lists a Triple one, for both levels', () => {
    const t = tree({
      '/dubbo/mapping/a.S': 'app',
      '/services/app/10.0.0.1:50051': instance('app', '10.0.0.1', 50051, '[{"port":20880,"protocol":"dubbo"},{"port":50051,"protocol":"tri"}]'),
    });
    for (const level of ['interface', 'application'] as const) {
      const s = parseZkTree(t, { registry: REGISTRY, level });
      assert.deepEqual(s.services.map((x) => [x.key, x.instances.map((i) => i.port)]), [[level === 'interface' ? 'dubbo:a.S::' : 'dubbo-app:app', [20880]]]);
    }
  });

  test('groups interface-level providers by application at the application level', () => {
    const s = parseZkTree(
      tree({
        [provider('dubbo://10.0.0.1:20880/a.S?application=app&group=g')]: '',
        [provider('dubbo://10.0.0.1:20880/b.S?application=app')]: '',
        [provider('dubbo://10.0.0.2:20880/b.S?application=other')]: '',
      }),
      { registry: REGISTRY, level: 'application' },
    );
    assert.deepEqual(s.services.map((x) => [x.key, x.host, x.instances.map((i) => i.address)]), [
      ['dubbo-app:app', 'app', ['10.0.0.1']],
      ['dubbo-app:other', 'other', ['10.0.0.2']],
    ]);
  });

  test('skips instances of other frameworks sharing /services, and Dubbo instances with revision 0', () => {
    const s = parseZkTree(
      tree({
        '/services/spring/10.0.0.1:8080': JSON.stringify({ address: '10.0.0.1', port: 8080, payload: { metadata: { instance_status: 'UP' } } }),
        '/services/empty/10.0.0.2:20880': JSON.stringify({ address: '10.0.0.2', port: 20880, payload: { metadata: { 'dubbo.metadata.revision': '0' } } }),
      }),
      { registry: REGISTRY, level: 'application' },
    );
    assert.deepEqual(s.services, []);
    assert.deepEqual(s.diagnostics, []);
  });
});

test('a scheme or endpoint protocol named like an Object property (constructor, __proto__) maps to no protocol', () => {
  const s = parseZkTree(
    tree({
      [provider('constructor://10.0.0.1:20880/a.S?application=x')]: '',
      '/dubbo/mapping/b.S': 'app',
      '/services/app/10.0.0.2:20880': JSON.stringify({ address: '10.0.0.2', port: 20880, payload: { metadata: { 'dubbo.endpoints': '[{"port":20880,"protocol":"__proto__"},{"port":20881,"protocol":"toString"}]', 'dubbo.metadata.revision': 'r' } } }),
    }),
    { registry: REGISTRY },
  );
  assert.deepEqual(s.services, []);
  assert.deepEqual(s.diagnostics.map((d) => d.code), ['MM_REGISTRY_NOT_METAPROTOCOL', 'MM_REGISTRY_NOT_METAPROTOCOL']);
});

test('the snapshot does not depend on the order the tree lists its nodes in', () => {
  const entries = Object.entries({
    [provider('dubbo://10.0.0.2:20880/a.S?application=x')]: '',
    [provider('dubbo://10.0.0.1:20880/a.S?application=x')]: '',
    [provider('tri://10.0.0.3:50051/a.S?application=x')]: '',
    '/dubbo/b.S/providers/%ZZ': '',
  });
  const a = parseZkTree(new Map(entries), { registry: REGISTRY });
  const b = parseZkTree(new Map([...entries].reverse()), { registry: REGISTRY });
  assert.deepEqual(a, b);
  assert.deepEqual(a.services[0]!.instances.map((i) => i.address), ['10.0.0.1', '10.0.0.2']);
});
