/**
 * `metamesh explain` offline on the README's examples (examples/): the sentences a person reads and
 * the exit codes, 0 when everything asked about takes effect, 1 when a rule does not (a shadowed
 * MetaRouter, a misspelt host, an unknown name), 2 for usage errors.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Explanation } from '../../src/model/explanation.js';
import { runCli, tmpTree } from '../support/cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const examples = path.join(root, 'examples');
const DUBBO = 'org.apache.dubbo.samples.basic.api.demoservice';

/** examples/ copied into a fresh directory with `extra` files added. */
function examplesWith(extra: Record<string, string>): string {
  const dir = tmpTree(extra);
  cpSync(examples, dir, { recursive: true });
  return dir;
}

test('the Dubbo example host: service, protocol and why, VIP, MetaRouter, subsets, EnvoyFilters and routes in order; exit 0', async () => {
  const r = await runCli('explain', '-f', examples, DUBBO);
  assert.equal(r.code, 0, r.out + r.err);
  assert.equal(r.err, '');
  for (const sentence of [
    `${DUBBO} speaks dubbo on port 20880, routed by MetaRouter dubbo/demoservice; everything written for it takes effect as written.`,
    `ServiceEntry dubbo/demoservice defines ${DUBBO}.`,
    'Port 20880 ("tcp-metaprotocol-dubbo" of ServiceEntry dubbo/demoservice) speaks dubbo, detected from the port name "tcp-metaprotocol-dubbo"; codec aeraki.meta_protocol.codec.dubbo (built-in).',
    `Clients reach ${DUBBO} at 240.240.0.10; sidecars intercept 240.240.0.10_20880.`,
    `MetaRouter dubbo/demoservice applies to the sidecars calling ${DUBBO}.`,
    `DestinationRule dubbo/demoservice applies to ${DUBBO}: subsets v1 (version=v1) and v2 (version=v2; consistent hash on userId).`,
    `(outbound) puts the MetaProtocol Proxy (dubbo) on listener 240.240.0.10_20880 of the sidecars labelled metamesh.io/proxy=metaprotocol in every namespace`,
    'of the workloads labelled app=dubbo-sample-provider, metamesh.io/proxy=metaprotocol in namespace dubbo, enforcing the local rate limit.',
    `Route table ${DUBBO}_20880 (RDS, served to the sidecars calling ${DUBBO}:20880) has 2 routes, tried in order; the first that matches a request wins.`,
    `Route 1 "say-hello-canary": when env starts with "gray" and method is "sayHello", to subset v2 of ${DUBBO}:20880; consistent hash on userId; sets request routed-by=metamesh.`,
    `Route 2 "split": every request, split 20% to subset v1 of ${DUBBO}:20880 and 80% to subset v2 of ${DUBBO}:20880; consistent hash on userId; mirrors 50% of requests to subset v2 of ${DUBBO}:20880.`,
    'Local rate limit of MetaRouter dubbo/demoservice, enforced by each server-side sidecar: every request: at most 100 tokens, 100 added every 1s; when method is "sayHello": at most 10 tokens, 10 added every 1s.',
    'None about these objects.',
    'In effect as written.',
  ]) {
    assert.ok(r.out.includes(sentence), `missing: ${sentence}\n---\n${r.out}`);
  }
  // Sections in their fixed order.
  const order = ['Service:', 'MetaRouter:', 'DestinationRules:', 'EnvoyFilters:', 'Routes:', 'Diagnostics:'].map((t) => r.out.indexOf(`\n${t}\n`));
  assert.ok(order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1]!)), `sections out of order: ${order.join(',')}`);
});

test('the Thrift example by its short name: appProtocol-free detection from the port name, the gateway listener and its route table; exit 0', async () => {
  const r = await runCli('explain', '-f', examples, 'thrift-sample-server.meta-thrift');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /The query "thrift-sample-server.meta-thrift" is read as the host thrift-sample-server\.meta-thrift\.svc\.cluster\.local\./);
  assert.match(r.out, /Port 9090 \("tcp-metaprotocol-thrift-hello" of Service meta-thrift\/thrift-sample-server\) speaks thrift, detected from the port name/);
  assert.match(r.out, /Gateway istio-system\/ingress port 9090 \(thrift, on the gateway workloads labelled istio=ingressgateway\) carries MetaRouter meta-thrift\/thrift-sample-server/);
  assert.match(r.out, /Route table gateway\/istio-system\/ingress\/thrift-sample-server\.meta-thrift\.svc\.cluster\.local_9090 \(RDS, served to Gateway istio-system\/ingress port 9090\)/);
  assert.match(r.out, /Global rate limit of MetaRouter meta-thrift\/thrift-sample-server: requests where method is "sayHello" ask rate-limit service/);
});

test('the custom-protocol example: the ApplicationProtocol behind the codec and the allocated virtual IP, with its note; exit 0', async () => {
  const r = await runCli('explain', '-f', examples, 'video-server.video.svc.cluster.local');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /codec aeraki\.meta_protocol\.codec\.videopacket \(ApplicationProtocol istio-system\/videopacket\)/);
  assert.match(r.out, /has no spec\.addresses, so metamesh gave it the virtual IP 240\.240\.\d+\.\d+/);
  assert.match(r.out, /No MetaRouter applies to the sidecars calling video-server\.video\.svc\.cluster\.local, so each of its route tables holds one default route/);
  assert.match(r.out, /info MM_SERVICE_VIP_ALLOCATED on ServiceEntry video\/video-server: .* See docs\/errors\.md#mm_service_vip_allocated\./);
});

test('the example MetaRouters are in effect: the Dubbo one for sidecars, the Thrift one for sidecars and the gateway', async () => {
  const dubbo = await runCli('explain', '-f', examples, 'dubbo/demoservice');
  assert.equal(dubbo.code, 0, dubbo.out);
  assert.match(dubbo.out, new RegExp(`^MetaRouter dubbo/demoservice is in effect for the sidecars calling ${DUBBO.replaceAll('.', '\\.')} as written\\.`));
  const thrift = await runCli('explain', '-f', examples, 'meta-thrift/thrift-sample-server');
  assert.equal(thrift.code, 0, thrift.out);
  assert.match(thrift.out, /is in effect for the sidecars calling thrift-sample-server\.meta-thrift\.svc\.cluster\.local and Gateway istio-system\/ingress port 9090/);
  assert.match(thrift.out, /names the host "thrift-sample-server", which in namespace meta-thrift means the service host thrift-sample-server\.meta-thrift\.svc\.cluster\.local\./);
});

test('a second MetaRouter for the Dubbo host is shadowed by the example one: explain says by which and why, and exits 1', async () => {
  const dir = examplesWith({
    'canary.yaml': `apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: canary, namespace: dubbo, creationTimestamp: "2025-03-01T00:00:00Z"}
spec:
  hosts: [${DUBBO}]
  routes:
  - name: all-to-v2
    route: [{destination: {host: ${DUBBO}, subset: v2}}]
`,
  });
  const r = await runCli('explain', '-f', dir, 'dubbo/canary');
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, new RegExp(`^MetaRouter dubbo/canary is not in effect: it is shadowed by MetaRouter dubbo/demoservice for ${DUBBO.replaceAll('.', '\\.')}\\.`));
  assert.match(r.out, /is shadowed by MetaRouter dubbo\/demoservice, which is older \(it has no creation time, which counts as oldest; MetaRouter dubbo\/canary was created 2025-03-01T00:00:00Z\)/);
  assert.match(r.out, /warning MM_ROUTER_CONFLICT on MetaRouter dubbo\/canary \(not in effect\): .* See docs\/errors\.md#mm_router_conflict\./);
  assert.match(r.out, /Not in effect as written\.\n$/);
  // The host's explanation names the shadowed MetaRouter too, and so exits 1 as well.
  const host = await runCli('explain', '-f', dir, DUBBO);
  assert.equal(host.code, 1);
  assert.match(host.out, /MetaRouter dubbo\/canary also targets .* but is shadowed by MetaRouter dubbo\/demoservice/);
});

test('a MetaRouter whose host is misspelt is in effect nowhere: the nearest existing host is suggested, exit 1', async () => {
  const dir = examplesWith({
    'typo.yaml': `apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: typo, namespace: dubbo}
spec:
  hosts: [org.apache.dubbo.samples.basic.api.demoservise]
  routes:
  - name: all
    route: [{destination: {host: org.apache.dubbo.samples.basic.api.demoservise}}]
`,
  });
  const r = await runCli('explain', '-f', dir, 'dubbo/typo');
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, new RegExp(`Did you mean ${DUBBO.replaceAll('.', '\\.')}\\?`));
  assert.match(r.out, /MM_ROUTER_NO_SERVICE/);
});

test('an unknown host exits 1 with a sentence listing close matches; an unknown MetaRouter lists the known ones', async () => {
  const host = await runCli('explain', '-f', examples, 'org.apache.dubbo.samples.basic.api.demoservic');
  assert.equal(host.code, 1);
  assert.equal(host.out, `No service or MetaRouter names the host "org.apache.dubbo.samples.basic.api.demoservic", so nothing is configured for it. Close matches: ${DUBBO}.\n\nNot in effect as written.\n`);
  const router = await runCli('explain', '-f', examples, 'dubbo/nope');
  assert.equal(router.code, 1);
  assert.match(router.out, /No MetaRouter dubbo\/nope was read, .* the MetaRouters are dubbo\/demoservice, meta-thrift\/thrift-sample-server\./);
});

test('-o json prints the explanation as data, the same as the text says', async () => {
  const r = await runCli('explain', '-f', examples, '-o', 'json', DUBBO);
  assert.equal(r.code, 0);
  const e = JSON.parse(r.out) as Explanation;
  assert.deepEqual(e.subject, { kind: 'host', host: DUBBO });
  assert.equal(e.inEffect, true);
  assert.deepEqual(e.routeConfigurations, [`${DUBBO}_20880`]);
  const text = await runCli('explain', '-f', examples, DUBBO);
  for (const f of e.facts) assert.ok(text.out.includes(f.sentence), f.sentence);
});

test('explain reads --registry like generate', async () => {
  const snapshot = `services:
  - key: thrift:/demo
    protocol: thrift
    host: echo.demo.example.com
    instances:
      - {address: 10.1.0.5, port: 9090, labels: {version: v1}, weight: 100, healthy: true, enabled: true}
`;
  const dir = tmpTree({ 'registry.yaml': snapshot });
  const r = await runCli('explain', '--registry', `file://${path.join(dir, 'registry.yaml')}`, 'echo.demo.example.com');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /echo\.demo\.example\.com speaks thrift on port 9090/);
});

test('usage errors exit 2 and name the problem', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['explain', '-f', examples], /name what to explain: a host or namespace\/metarouter/],
    [['explain', '-f', examples, 'a', 'b'], /explain takes one host or namespace\/metarouter, not 2/],
    [['explain', 'a.b'], /give at least one -f <file-or-dir> or --registry <url>, or --server <url>/],
    [['explain', '--server', 'http://127.0.0.1:8080', '-f', examples, 'a.b'], /--server asks a running metamesh serve, which reads its own files; drop -f/],
    [['explain', '--server', '127.0.0.1:8080', 'a.b'], /--server must be the HTTP address of metamesh serve/],
    [['explain', '-f', examples, '--http-token-file', '/x', 'a.b'], /--http-token-file goes with --server/],
    [['explain', '-f', examples, '--strict', 'a.b'], /--strict is not a flag of explain \(it is a flag of validate\)/],
  ];
  for (const [argv, reason] of cases) {
    const r = await runCli(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, reason);
    assert.match(r.err, /Run 'metamesh explain --help' for usage\./);
  }
});

test('the README shows exactly what explain prints for the Dubbo example host', async () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const command = `$ npx metamesh explain -f examples/ ${DUBBO}\n`;
  const start = readme.indexOf(command);
  assert.ok(start > 0, 'the README shows the example');
  const shown = readme.slice(start + command.length, readme.indexOf('```', start));
  const r = await runCli('explain', '-f', examples, DUBBO);
  assert.equal(shown, r.out);
});

test('explain --help names the operand, the flags and the exit codes', async () => {
  const r = await runCli('explain', '--help');
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: metamesh explain .* <host \| namespace\/metarouter>\n/);
  assert.match(r.out, /--server <url>/);
  assert.match(r.out, /\n {2}1 {2}something asked about does not take effect as written/);
  assert.ok(readFileSync(path.join(root, 'README.md'), 'utf8').includes('metamesh explain'), 'the README documents explain');
});
