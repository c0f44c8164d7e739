/**
 * The explain stage's parts that the golden cases do not reach: the nearest-name helper, the
 * proxies' states from the xDS stream state (every state, the listing bound), the /debug/explain
 * handler's refusals, and Engine.state() after incremental changes equal to a fresh build.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeMatches, editDistance } from '../../src/util/nearest.js';
import { withProxies, MAX_PROXIES_LISTED } from '../../src/explain/proxies.js';
import { explain } from '../../src/explain/explain.js';
import { explainEndpoint, MAX_QUERY_LENGTH } from '../../src/runtime/explain-endpoint.js';
import type { Explanation } from '../../src/model/explanation.js';
import type { StreamInfo } from '../../src/xds/session.js';
import { createEngine } from '../../src/pipeline/build.js';
import { loadInputs } from '../../src/cli/files.js';
import { readResources } from '../../src/input/read.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { root, DUBBO } from '../support/xds.js';
import path from 'node:path';

const builtins = loadBuiltinProtocols();

test('edit distance is exact within the bound and bound + 1 beyond it', () => {
  assert.equal(editDistance('kitten', 'sitting', 5), 3);
  assert.equal(editDistance('abc', 'abc', 0), 0);
  assert.equal(editDistance('abc', 'xyz', 1), 2);
  assert.equal(editDistance('a', 'abcdef', 2), 3);
});

test('close matches: near misses first, then names whose parts the query matches; the query itself never', () => {
  const hosts = ['orders.shop.svc.cluster.local', 'orders.shop-canary.svc.cluster.local', 'payments.shop.svc.cluster.local', 'org.apache.dubbo.samples.basic.api.demoservice'];
  assert.deepEqual(closeMatches('orders.shop.svc.cluster.locl', hosts), ['orders.shop.svc.cluster.local', 'orders.shop-canary.svc.cluster.local']);
  assert.deepEqual(closeMatches('demoservic', hosts), ['org.apache.dubbo.samples.basic.api.demoservice']);
  assert.deepEqual(closeMatches('orders.shop.svc.cluster.local', hosts.slice(0, 1)), []);
  assert.deepEqual(closeMatches('zzz', hosts), []);
  assert.equal(closeMatches('a', Array.from({ length: 50 }, (_, i) => `a${i}`)).length, 5, 'at most five');
});

const TABLE = 'svc.ns.svc.cluster.local_9090';

function explanation(tables: string[] = [TABLE]): Explanation {
  return { query: 'svc.ns', subject: { kind: 'host', host: 'svc.ns.svc.cluster.local' }, inEffect: true, summary: 'In effect.', facts: [], diagnostics: [], routeConfigurations: tables, closeMatches: [] };
}

function stream(id: number, over: Partial<StreamInfo>): StreamInfo {
  return { id, service: 'ads', mode: 'sotw', peer: `127.0.0.1:${4000 + id}`, nodeId: `node-${id}`, connectedAt: '2026-01-01T00:00:00.000Z', typeUrl: 'rds', subscribed: [TABLE], ackedVersions: {}, nackCount: 0, lastNackMessage: undefined, ...over };
}

test('each proxy state: acked, nacked (with the message), sent, outdated, none, missing; a NACK makes it not in effect', () => {
  const streams = [
    stream(1, { ackedVersions: { [TABLE]: 'v2' } }),
    stream(2, { ackedVersions: { [TABLE]: 'v1' }, rejectedVersions: { [TABLE]: 'v2' }, nackCount: 1, lastNackMessage: 'bad codec' }),
    stream(3, { ackedVersions: { [TABLE]: 'v1' }, sentVersions: { [TABLE]: 'v2' } }),
    stream(4, { ackedVersions: { [TABLE]: 'v1' } }),
    stream(5, {}),
    stream(6, { subscribed: ['other_1'] }),
  ];
  const e = withProxies(explanation(), streams, (n) => (n === TABLE ? 'v2' : undefined));
  assert.deepEqual(e.proxies!.map((p) => [p.nodeId, p.state]), [['node-1', 'acked'], ['node-2', 'nacked'], ['node-3', 'sent'], ['node-4', 'outdated'], ['node-5', 'none']]);
  assert.equal(e.inEffect, false);
  assert.match(e.summary, /^In effect\. 1 proxy rejected \(NACKed\) the current version of its route table\.$/);
  assert.match(e.facts[1]!.sentence, /^Proxy node-2 \(xDS stream 2\) NACKed the current version v2 of .* with "bad codec"; it still runs version v1/);
  const gone = withProxies(explanation(), [stream(1, { ackedVersions: { [TABLE]: 'v2' } })], () => undefined);
  assert.equal(gone.proxies![0]!.state, 'missing');
  assert.equal(gone.inEffect, true);
});

test('no subscriber is said plainly; past the listing bound the rest are counted', () => {
  assert.deepEqual(withProxies(explanation(), [], () => 'v1').facts.map((f) => f.sentence), [`No connected proxy subscribes to ${TABLE}.`]);
  assert.deepEqual(withProxies(explanation([]), [], () => 'v1').facts, [], 'nothing to say without route tables');
  const many = Array.from({ length: MAX_PROXIES_LISTED + 3 }, (_, i) => stream(i + 1, { ackedVersions: { [TABLE]: 'v1' } }));
  const e = withProxies(explanation(), many, () => 'v1');
  assert.equal(e.proxies!.length, MAX_PROXIES_LISTED);
  assert.equal(e.facts.at(-1)!.sentence, '3 more subscriptions to these tables are not listed.');
});

test('/debug/explain refuses a missing, empty or overlong q with 400 and answers a query with the explanation', () => {
  const config = readResources(loadInputs([path.join(root, 'examples')]).documents).config;
  const engine = createEngine(config, builtins);
  const endpoint = explainEndpoint({ engine, xds: { streams: () => [] }, cache: { get: () => ({ version: 'v1' }) } });
  assert.equal(endpoint.debug, true, 'behind the debug rules');
  for (const q of ['', 'q=', 'q=%20', `q=${'a'.repeat(MAX_QUERY_LENGTH + 1)}`]) assert.equal(endpoint.handle(new URLSearchParams(q)).status, 400, q.slice(0, 10));
  const reply = endpoint.handle(new URLSearchParams({ q: DUBBO.replace(/_20880$/, '') }));
  assert.equal(reply.status, 200);
  const e = (reply as { json: Explanation }).json;
  assert.equal(e.inEffect, true);
  assert.deepEqual(e.proxies, []);
});

test('Engine.state() after incremental changes equals the state of a fresh build of the same resources', () => {
  const config = readResources(loadInputs([path.join(root, 'examples')]).documents).config;
  const engine = createEngine({ ...config, metaRouters: [] }, builtins);
  engine.apply(config.metaRouters.map((resource) => ({ op: 'upsert' as const, resource })));
  const dr = config.destinationRules[0]!;
  engine.apply([{ op: 'delete', kind: 'DestinationRule', namespace: dr.metadata.namespace, name: dr.metadata.name }]);
  engine.flush();
  const fresh = createEngine({ ...config, destinationRules: config.destinationRules.slice(1) }, builtins);
  assert.equal(JSON.stringify(engine.state()), JSON.stringify(fresh.state()));
  for (const q of [DUBBO.replace(/_20880$/, ''), 'dubbo/demoservice', 'meta-thrift/thrift-sample-server']) {
    assert.deepEqual(explain(q, engine.state()), explain(q, fresh.state()), q);
  }
});
