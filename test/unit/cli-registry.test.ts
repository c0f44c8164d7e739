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
