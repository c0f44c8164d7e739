/**
 * `--registry file://…` through the CLI: a registry snapshot in a file becomes ServiceEntries that
 * flow through the pipeline like hand-written ones; a file that is not a snapshot fails the command
 * at once with a message naming it. (The ZooKeeper and Nacos registries have their own tests
 * against real servers.)
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, tmpTree } from '../support/cli.js';

const SNAPSHOT = `services:
  - key: thrift:/demo
    protocol: thrift
    host: echo.demo.example.com
    instances:
      - {address: 10.1.0.5, port: 9090, labels: {version: v1}, weight: 100, healthy: true, enabled: true}
      - {address: 10.1.0.6, port: 9090, labels: {version: v2}, weight: 100, healthy: false, enabled: true}
`;

test('generate --registry file:// turns the snapshot into a ServiceEntry with its usable endpoints, a VIP and the route table', async () => {
  const dir = tmpTree({ 'registry.yaml': SNAPSHOT });
  const r = await runCli('generate', '--registry', `file://${path.join(dir, 'registry.yaml')}`, '-o', 'json');
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { serviceEntries: { spec: { hosts: string[]; endpoints: { address: string }[]; addresses: string[] } }[]; routes: { name: string }[] };
  assert.deepEqual(doc.serviceEntries.map((se) => se.spec.hosts), [['echo.demo.example.com']]);
  assert.deepEqual(doc.serviceEntries[0]!.spec.endpoints.map((e) => e.address), ['10.1.0.5'], 'the unhealthy instance is not an endpoint');
  assert.equal(doc.serviceEntries[0]!.spec.addresses.length, 1, 'a virtual IP was allocated');
  assert.deepEqual(doc.routes.map((x) => x.name), ['echo.demo.example.com_9090']);
});

test('a registry file that is not a snapshot fails generate at once, naming the file', async () => {
  const dir = tmpTree({ 'bad.yaml': 'just: text\n' });
  const file = path.join(dir, 'bad.yaml');
  const r = await runCli('generate', '--registry', `file://${file}`);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, new RegExp(`^metamesh generate: registry cannot be read: file://${file.replaceAll('/', '\\/')} \\(failing: .*it has no services: list\\)`));
});

test('--registry with a URL metamesh cannot read is a usage error', async () => {
  const r = await runCli('generate', '--registry', 'redis://x:1');
  assert.equal(r.code, 2);
  assert.match(r.err, /^metamesh generate: --registry "redis:\/\/x:1" is not a registry URL/);
});

test('a registry file with incomplete records: defaults for the optional instance fields, MM_REGISTRY_BAD_RECORD for the rest, no crash', async () => {
  const dir = tmpTree({
    'registry.yaml': `services:
  - key: thrift:/demo
    protocol: thrift
    host: echo.demo.example.com
    instances:
      - {address: 10.1.0.5, port: 9090}
      - {address: 10.1.0.6}
      - {address: 10.1.0.7, port: 9090, labels: [a]}
      - just text
  - key: no-host
    protocol: thrift
    instances: []
`,
  });
  const r = await runCli('generate', '--registry', `file://${path.join(dir, 'registry.yaml')}`, '-o', 'json');
  assert.ok(r.code === 0 || r.code === 1, `${r.code}: ${r.err}`);
  const doc = JSON.parse(r.out) as { serviceEntries: { spec: { endpoints: { address: string; weight?: number }[] } }[]; diagnostics: { code: string; message: string }[] };
  assert.deepEqual(doc.serviceEntries.map((se) => se.spec.endpoints.map((e) => e.address)), [['10.1.0.5']]);
  const bad = doc.diagnostics.filter((d) => d.code === 'MM_REGISTRY_BAD_RECORD').map((d) => d.message);
  assert.equal(bad.length, 4, bad.join('\n'));
  assert.match(bad.join('\n'), /services\[0\]\.instances\[1\] of thrift:\/demo has no port/);
  assert.match(bad.join('\n'), /services\[1\] is not a service/);
});

const THREE = `services:
  - {key: a, protocol: dubbo, host: a.example.com, application: shop, interface: com.acme.Cart, instances: [{address: 10.1.0.1, port: 20880}]}
  - {key: b, protocol: dubbo, host: b.example.com, application: billing, interface: com.acme.pay.Invoice, instances: [{address: 10.1.0.2, port: 20880}]}
  - {key: c, protocol: dubbo, host: c.example.com, application: misc, interface: org.other.Thing, instances: [{address: 10.1.0.3, port: 20880}]}
  - {key: d, protocol: dubbo, host: d.example.com, application: shop, interface: com.acme.pay.Refund, namespace: own, instances: [{address: 10.1.0.4, port: 20880}]}
`;

test('--registry-namespace and --registry-namespace-rule place the generated ServiceEntries: the service\'s own namespace, then the first matching rule, then the default', async () => {
  const dir = tmpTree({ 'registry.yaml': THREE });
  const r = await runCli(
    'generate',
    '--registry', `file://${path.join(dir, 'registry.yaml')}`,
    '--registry-namespace', 'dubbo-apps',
    '--registry-namespace-rule', 'payments=interface:com.acme.pay.',
    '--registry-namespace-rule', 'shop=application:shop',
    '-o', 'json',
  );
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { serviceEntries: { metadata: { namespace: string }; spec: { hosts: string[] } }[] };
  const at = Object.fromEntries(doc.serviceEntries.map((se) => [se.spec.hosts[0], se.metadata.namespace]));
  assert.deepEqual(at, { 'a.example.com': 'shop', 'b.example.com': 'payments', 'c.example.com': 'dubbo-apps', 'd.example.com': 'own' });
  // Without the flags every one but the service that names its own is in `default`.
  const plain = await runCli('generate', '--registry', `file://${path.join(dir, 'registry.yaml')}`, '-o', 'json');
  const ns = (JSON.parse(plain.out) as typeof doc).serviceEntries.map((se) => se.metadata.namespace).sort();
  assert.deepEqual(ns, ['default', 'default', 'default', 'own']);
});

test('a --registry-namespace-rule or --registry-namespace that cannot be used is a usage error that shows the form', async () => {
  for (const [args, re] of [
    [['--registry-namespace-rule', 'payments'], /--registry-namespace-rule "payments": there is no "="; write <namespace>=application:<app> or <namespace>=interface:<prefix>/],
    [['--registry-namespace-rule', 'Pay=application:x'], /"Pay" is not a namespace name/],
    [['--registry-namespace-rule', 'pay=zone:x'], /"zone" is not application or interface/],
    [['--registry-namespace-rule', 'pay=application:'], /"application:" has no value/],
    [['--registry-namespace', 'Not_A_Label'], /--registry-namespace must be a namespace name/],
  ] as const) {
    const r = await runCli('generate', '--registry', 'file:///nonexistent.yaml', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
  }
});
