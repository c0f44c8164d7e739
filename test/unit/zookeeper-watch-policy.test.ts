/**
 * The ZooKeeper watcher's pure parts: which nodes are read and how, and the
 * mirror of the tree.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diag } from '../../src/model/diagnostics.js';
import { applyDefinitions } from '../../src/registry/zookeeper/definitions.js';
import { javaUrlDecode, javaUrlEncode } from '../../src/registry/zookeeper/java-url.js';
import { ZkMirror } from '../../src/registry/zookeeper/mirror.js';
import { impliedChildren, nodeRead, type NodeRead, type ZkRootKind } from '../../src/registry/zookeeper/policy.js';

const CASES: ReadonlyArray<[ZkRootKind, string, NodeRead]> = [
  ['dubbo', '', 'children'],
  ['dubbo', 'demo.A', 'name'],
  ['dubbo', 'demo.A/providers', 'children'],
  ['dubbo', 'demo.A/configurators', 'children'],
  ['dubbo', 'demo.A/consumers', 'skip'],
  ['dubbo', 'demo.A/routers', 'skip'],
  ['dubbo', 'demo.A/providers/dubbo%3A%2F%2F10.0.0.1%3A20880%2Fdemo.A', 'name'],
  ['dubbo', 'config', 'skip'],
  ['dubbo', 'mapping', 'children'],
  ['dubbo', 'mapping/demo.A', 'data'],
  ['dubbo', 'metadata', 'children'],
  ['dubbo', 'metadata/app-a', 'children'],
  ['dubbo', 'metadata/app-a/6be04ab1936affe601473b7f5f6673b3', 'dataOnce'],
  ['dubbo', 'metadata/app-a/not-a-revision', 'skip'],
  // Service definitions: the interface directory is known by name; below it nothing is watched
  // (definition-sync.ts reads them without watches).
  ['dubbo', 'metadata/demo.A', 'name'],
  ['dubbo', 'metadata/demo.A/1.0.0', 'skip'],
  ['dubbo', 'metadata/demo.A/1.0.0/g1', 'skip'],
  ['dubbo', 'metadata/demo.A/1.0.0/g1/provider', 'skip'],
  ['dubbo', 'metadata/demo.A/1.0.0/g1/provider/app-a', 'skip'],
  ['dubbo', 'metadata/demo.A/provider/app-a', 'skip'],
  ['dubbo', 'metadata/demo.A/consumer/app-b', 'skip'],
  ['services', '', 'children'],
  ['services', 'app-a', 'children'],
  ['services', 'app-a/10.0.0.1:20880', 'data'],
  ['services', 'app-a/10.0.0.1:20880/x', 'skip'],
  ['serverset', 'www/prod/hello', 'children'],
  ['serverset', 'www/prod/hello/member_0000000001', 'dataOnce'],
];

for (const [kind, rel, want] of CASES) {
  test(`below a ${kind} root, "${rel || '(the root)'}" is read as ${want}`, () => {
    assert.equal(nodeRead(kind, rel ? rel.split('/') : []), want);
  });
}

test('a Dubbo interface implies its providers and configurators; nothing else implies children', () => {
  assert.deepEqual(impliedChildren('dubbo', ['demo.A']), ['configurators', 'providers']);
  assert.deepEqual(impliedChildren('dubbo', ['mapping']), []);
  assert.deepEqual(impliedChildren('services', ['app']), []);
});

test('the mirror drops a subtree with its node, reports new children only, and counts changes', () => {
  const m = new ZkMirror();
  m.put('/r', '');
  assert.deepEqual(m.setChildren('/r', ['a', 'b']), ['a', 'b']);
  m.put('/r/a', 'A');
  m.put('/r/a/x', 'X');
  m.put('/r/b', 'B');
  const v = m.version;
  m.put('/r/b', 'B');
  assert.equal(m.version, v, 'an unchanged put is no change');
  assert.deepEqual(m.setChildren('/r', ['b', 'c']), ['c']);
  assert.deepEqual([...m.tree()], [['/r', ''], ['/r/b', 'B']]);
  m.skip('/r/b', diag('MM_ZK_NODE_TOO_LARGE', 'ZooKeeper zk /r/b', 'too large'));
  assert.equal(m.diagnostics().length, 1);
  m.put('/r/b', 'B2');
  assert.deepEqual(m.diagnostics(), [], 'a node read again is no longer skipped');
  m.drop('/r');
  assert.deepEqual([...m.tree()], []);
});

test('a read of service definitions is put into the mirror in one step: new ones added, known ones kept, gone ones dropped', () => {
  const m = new ZkMirror();
  m.setChildren('/d/metadata', []);
  m.putLeaf('/d/metadata', 'demo.A');
  const base = '/d/metadata/demo.A';
  const read = (provider: readonly string[], data: [string, string][], versions = ['1.0.0']) => ({
    dirs: [[base, versions], ...(versions.length ? [[`${base}/1.0.0`, ['provider']], [`${base}/1.0.0/provider`, provider]] : [])] as [string, string[]][],
    data,
    skipped: [],
    providers: new Set(provider),
  });
  assert.equal(applyDefinitions(m, read(['a'], [[`${base}/1.0.0/provider/a`, 'A']])), true);
  assert.deepEqual(m.childrenOf(`${base}/1.0.0/provider`), ['a']);
  assert.equal(m.get(`${base}/1.0.0/provider/a`), 'A');
  // A later read that did not read a's data again (it was known) keeps it, and adds b.
  assert.equal(applyDefinitions(m, read(['a', 'b'], [[`${base}/1.0.0/provider/b`, 'B']])), true);
  assert.deepEqual(m.childrenOf(`${base}/1.0.0/provider`), ['a', 'b']);
  assert.equal(m.get(`${base}/1.0.0/provider/a`), 'A');
  assert.equal(applyDefinitions(m, read(['a', 'b'], [])), false, 'the same again is no change');
  // Removed by hand: the version directory is listed empty, so what was below it goes.
  assert.equal(applyDefinitions(m, read([], [], [])), true);
  assert.deepEqual(m.childrenOf(base), []);
  assert.equal(m.has(`${base}/1.0.0/provider/a`), false);
  assert.deepEqual(m.childrenOf('/d/metadata'), ['demo.A']);
});

test('javaUrlEncode writes what java.net.URLEncoder does, and javaUrlDecode reads it back', () => {
  assert.equal(javaUrlEncode('demo.Outer$Inner'), 'demo.Outer%24Inner');
  assert.equal(javaUrlEncode("a b~!'()*-_.é"), 'a+b%7E%21%27%28%29*-_.%C3%A9');
  for (const s of ['demo.A', 'demo.Outer$Inner', 'a b+c', 'x/y:z']) assert.equal(javaUrlDecode(javaUrlEncode(s)), s);
});
