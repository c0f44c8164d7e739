/**
 * `metamesh generate -o manifests`: stdout is exactly the Kubernetes objects to apply, as a
 * multi-document YAML stream kubectl reads; diagnostics go to stderr.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { manifestStream } from '../../src/pipeline/document.js';
import { DUBBO_SERVICE, metaRouter, runCli, tmpTree } from '../support/cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const examples = path.join(root, 'examples');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: object;
}

function documentsOf(stream: string): K8sObject[] {
  return parseAllDocuments(stream, { version: '1.1' }).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS() as K8sObject;
  });
}

test('-o manifests prints the ServiceEntries, EnvoyFilters and VirtualServices of the document, in that order, and nothing else', async () => {
  const m = await runCli('generate', '-o', 'manifests', '-f', examples);
  const j = await runCli('generate', '-o', 'json', '-f', examples);
  assert.equal(m.code, 0, m.err);
  const doc = JSON.parse(j.out) as Record<string, K8sObject[]>;
  const objects = documentsOf(m.out);
  assert.deepEqual(objects, [...doc.serviceEntries!, ...doc.envoyFilters!, ...doc.virtualServices!]);
  assert.ok(objects.some((o) => o.kind === 'ServiceEntry') && objects.some((o) => o.kind === 'VirtualService'));
  assert.ok(m.out.startsWith('---\napiVersion: '));
  assert.equal(m.out.split('\n').filter((l) => l === '---').length, objects.length);
  assert.doesNotMatch(m.out, /^(routes|diagnostics|serviceEntries):/m);
});

test('each manifest is a complete namespaced Kubernetes object; the allocated virtual IP is in the ServiceEntry', async () => {
  const objects = documentsOf((await runCli('generate', '-o', 'manifests', '-f', examples)).out);
  for (const o of objects) {
    assert.match(o.apiVersion, /^networking\.istio\.io\/v1(alpha3|beta1)?$/);
    assert.ok(['ServiceEntry', 'EnvoyFilter', 'VirtualService'].includes(o.kind), o.kind);
    assert.ok(o.metadata.name && o.metadata.namespace, JSON.stringify(o.metadata));
    assert.equal(typeof o.spec, 'object');
  }
  const se = objects.find((o) => o.kind === 'ServiceEntry') as K8sObject & { spec: { addresses: string[] } };
  assert.match(se.spec.addresses[0]!, /^240\.240\.\d+\.\d+$/);
});

test('-o manifests writes the diagnostics to stderr in the validate form, never to stdout', async () => {
  const dir = tmpTree({ 'a.yaml': `${DUBBO_SERVICE}---\n${metaRouter('demo.dubbo.example', 'v3')}` });
  const r = await runCli('generate', '-o', 'manifests', '-f', dir);
  assert.equal(r.code, 1);
  assert.match(r.err, /^warning MM_ROUTER_UNKNOWN_SUBSET  MetaRouter dubbo\/demo: .*\n1 file\(s\) checked: 0 error\(s\), 1 warning\(s\)/);
  assert.doesNotMatch(r.out, /MM_/);
  assert.ok(documentsOf(r.out).length > 0);
});

test('-o manifests is the same bytes whatever the order of the input files', async () => {
  const dir = tmpTree({ 'a.yaml': DUBBO_SERVICE, 'b.yaml': metaRouter('demo.dubbo.example', 'v2') });
  const ab = await runCli('generate', '-o', 'manifests', '-f', path.join(dir, 'a.yaml'), '-f', path.join(dir, 'b.yaml'));
  const ba = await runCli('generate', '-o', 'manifests', '-f', path.join(dir, 'b.yaml'), '-f', path.join(dir, 'a.yaml'));
  assert.equal(ab.code, 0, ab.err);
  assert.equal(ab.out, ba.out);
  assert.equal(ab.err, '');
});

test('strings YAML 1.1 would read as booleans or numbers are quoted, so kubectl keeps them strings', () => {
  const stream = manifestStream([
    { apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: { name: 'x', namespace: 'y', labels: { canary: 'on', flag: 'yes', n: 'n' } }, spec: {} },
  ]);
  assert.match(stream, /canary: "on"/);
  assert.match(stream, /flag: "yes"/);
  assert.match(stream, /"n": "n"/);
  assert.match(stream, /namespace: "y"/);
  assert.doesNotMatch(stream, /^%YAML/m);
  const [o] = documentsOf(stream) as unknown as { metadata: { labels: Record<string, unknown> } }[];
  assert.deepEqual(o!.metadata.labels, { canary: 'on', flag: 'yes', n: 'n' });
});

test('no objects give an empty stream', () => {
  assert.equal(manifestStream([]), '');
});
