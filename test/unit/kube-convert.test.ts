import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { layerSpecs } from '../../src/config/options.js';
import { DEFAULT_INPUT_LIMITS } from '../../src/input/limits.js';
import { readResources } from '../../src/input/read.js';
import { loadKubeConfig } from '../../src/store/kubernetes/config.js';
import { depthOver, objectName, toDocument } from '../../src/store/kubernetes/convert.js';
import { collectionPath, meshConfigKind, selectorOf, WATCHED_KINDS } from '../../src/store/kubernetes/kinds.js';
import { meshDefaults } from '../../src/store/kubernetes/mesh-config.js';

const L = DEFAULT_INPUT_LIMITS;

test('a core object without apiVersion and kind (a list item) gets those of the kind it was listed as', () => {
  const r = toDocument('Service', 'v1', { metadata: { name: 's', namespace: 'a', resourceVersion: '1' }, spec: { ports: [{ port: 80 }] }, status: {} }, L);
  assert.ok('document' in r);
  assert.deepEqual(r.document, { source: 'kubernetes Service a/s', value: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'a' }, spec: { ports: [{ port: 80 }] } } });
});

test('an object deeper than the depth limit is refused with MM_INPUT_TOO_DEEP naming it', () => {
  let deep: unknown = 'x';
  for (let i = 0; i < 10; i++) deep = { d: deep };
  const r = toDocument('MetaRouter', 'metaprotocol.aeraki.io/v1alpha1', { metadata: { name: 'm', namespace: 'n' }, spec: deep }, { maxFileBytes: L.maxFileBytes, maxDepth: 8 });
  assert.ok('refused' in r);
  assert.equal(r.refused.code, 'MM_INPUT_TOO_DEEP');
  assert.equal(r.refused.object, 'MetaRouter n/m');
});

test('depthOver counts nesting as the YAML reader does: the root collection is level 0', () => {
  assert.equal(depthOver({ a: { b: 1 } }, 2), false);
  assert.equal(depthOver({ a: { b: {} } }, 2), true);
  assert.equal(depthOver('scalar', 0), false);
});

test('objectName is namespace/name, or undefined without a name', () => {
  assert.equal(objectName({ metadata: { name: 'a', namespace: 'b' } }), 'b/a');
  assert.equal(objectName({ metadata: { name: 'istio' } }), '/istio');
  assert.equal(objectName({ metadata: {} }), undefined);
  assert.equal(objectName(null), undefined);
});

test('every kind is watched at its collection in every namespace; the mesh config only as one named object', () => {
  assert.deepEqual(WATCHED_KINDS.map((k) => collectionPath(k, k.versions[0]!)), [
    '/apis/networking.istio.io/v1/serviceentries',
    '/apis/networking.istio.io/v1/destinationrules',
    '/apis/networking.istio.io/v1/gateways',
    '/api/v1/services',
    '/apis/metaprotocol.aeraki.io/v1alpha1/metarouters',
    '/apis/metaprotocol.aeraki.io/v1alpha1/applicationprotocols',
  ]);
  const mesh = meshConfigKind({ namespace: 'istio-system', name: 'istio-1-31' });
  assert.equal(collectionPath(mesh, 'v1'), '/api/v1/namespaces/istio-system/configmaps');
  assert.deepEqual(selectorOf(mesh), { fieldSelector: 'metadata.name=istio-1-31' });
});

test('the mesh config values metamesh mirrors, and the ones it refuses', () => {
  const cm = (mesh: string) => ({ data: { mesh } });
  const ok = meshDefaults(cm('trustDomain: td.example\nrootNamespace: mesh-root\naccessLogEncoding: JSON\naccessLogFormat: \'{"a":"%PROTOCOL%"}\'\nenableTracing: true\ndefaultConfig: {tracing: {sampling: 12.5}, discoveryAddress: istiod:15012}\nignored: 1\n'), 'ConfigMap istio-system/istio', L);
  assert.deepEqual(ok.diagnostics, []);
  assert.deepEqual(ok.spec, { trustDomain: 'td.example', rootNamespace: 'mesh-root', mesh: { accessLogEncoding: 'JSON', accessLogFormat: '{"a":"%PROTOCOL%"}', enableTracing: true, tracingSampling: 12.5 } });
  const bad = meshDefaults(cm('trustDomain: Not_A_Domain\naccessLogEncoding: XML\nenableTracing: "yes"\ndefaultConfig: {tracing: {sampling: 200}}\naccessLogFile: /dev/stdout\n'), 'ConfigMap istio-system/istio', L);
  assert.deepEqual(bad.spec, { mesh: { accessLogFile: '/dev/stdout' } });
  assert.deepEqual(bad.diagnostics.map((d) => d.code), ['MM_OPTIONS_INVALID', 'MM_OPTIONS_INVALID', 'MM_OPTIONS_INVALID', 'MM_OPTIONS_INVALID']);
  assert.match(bad.diagnostics[0]!.message, /^the mesh config's trustDomain must be a DNS name/);
  const syntax = meshDefaults(cm('trustDomain: [unclosed\n'), 'ConfigMap istio-system/istio', L);
  assert.equal(syntax.spec, undefined);
  assert.deepEqual(syntax.diagnostics.map((d) => d.code), ['MM_INPUT_YAML_SYNTAX']);
  assert.deepEqual(meshDefaults({ data: {} }, 'x', L), { spec: undefined, diagnostics: [] });
});

test('a MetameshOptions document wins over the mesh config field by field', () => {
  const doc = { source: 'o.yaml#1', value: { apiVersion: 'metamesh.io/v1alpha1', kind: 'MetameshOptions', metadata: { name: 'm' }, spec: { mesh: { enableTracing: false } } } };
  const r = readResources([doc], undefined, { trustDomain: 'td.example', mesh: { enableTracing: true, accessLogFile: '/dev/stdout' } });
  assert.equal(r.config.options.trustDomain, 'td.example');
  assert.equal(r.config.options.mesh.enableTracing, false);
  assert.equal(r.config.options.mesh.accessLogFile, '/dev/stdout');
  assert.deepEqual(layerSpecs({ a: { b: 1, c: 2 }, d: [1] }, { a: { b: 3 }, d: [2] }), { a: { b: 3, c: 2 }, d: [2] });
  assert.equal(layerSpecs(undefined, 'x'), 'x');
});

test('the Kubernetes configuration: --kubeconfig, then $KUBECONFIG, then the pod\'s service account, then ~/.kube/config, else an error', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-kc-'));
  try {
    const file = (name: string, server: string) => {
      const f = path.join(dir, name);
      writeFileSync(f, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${server}"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
      return f;
    };
    const a = file('a', 'https://a.example:6443');
    const b = file('b', 'https://b.example:6443');
    const home = path.join(dir, 'home');
    const env = (vars: Record<string, string>, exists: (f: string) => boolean = () => true) => ({ env: vars, home, exists: (f: string) => (f.startsWith(dir) ? existsSync(f) : exists(f)) });
    const server = (r: ReturnType<typeof loadKubeConfig>) => ('error' in r ? r.error : r.kc.getCurrentCluster()!.server);
    assert.equal(server(loadKubeConfig(a, env({ KUBECONFIG: b }))), 'https://a.example:6443');
    // Merged as kubectl merges: the first file that defines a name wins.
    assert.equal(server(loadKubeConfig(undefined, env({ KUBECONFIG: `${b}${path.delimiter}${a}` }))), 'https://b.example:6443');
    assert.match(server(loadKubeConfig(path.join(dir, 'missing'), env({}))), /--kubeconfig .*missing: no such file/);
    assert.match(server(loadKubeConfig(undefined, env({}, () => false))), /^no Kubernetes configuration found/);
    const broken = path.join(dir, 'broken');
    writeFileSync(broken, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n');
    assert.match(server(loadKubeConfig(broken, env({}))), /has no current cluster with a server/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
