/**
 * The input stage drops ServiceEntries and DestinationRules that Istio would reject, so no later
 * stage sees them, and every example manifest is valid Istio input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInputs } from '../../src/cli/files.js';
import { parseYaml, readResources } from '../../src/input/read.js';
import { build } from '../../src/pipeline/build.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const builtins = loadBuiltinProtocols();

function read(yaml: string) {
  const parsed = parseYaml(yaml, 'test.yaml');
  assert.deepEqual(parsed.diagnostics, []);
  return readResources(parsed.documents);
}

const seNames = (yaml: string) => read(yaml).config.serviceEntries.map((s) => s.metadata.name).sort();
const codesOf = (yaml: string, object: string) => read(yaml).diagnostics.filter((d) => d.object === object).map((d) => d.code);

// ServiceEntries Istio's own CRD validation tests accept and refuse (restated here, one document each).
const ISTIO_VALID = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: full, namespace: default}
spec:
  hosts: ["example.com"]
  workloadSelector: {labels: {foo: bar}}
  addresses: [1.2.3.4, "001:db8::"]
  exportTo: [foo, .]
  location: MESH_EXTERNAL
  ports: [{name: foo, protocol: HTTP, number: 1234, targetPort: 2345}]
  subjectAltNames: [sa]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: static-endpoints}
spec:
  hosts: ["example.com"]
  endpoints: [{address: "sub.example.com"}]
  ports: [{name: foo, protocol: HTTP, number: 1234, targetPort: 2345}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: empty-selector}
spec: {workloadSelector: {}, hosts: ["example.com"]}
---
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: partial-wildcard}
spec: {hosts: ["*x"]}
---
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: none-cidr}
spec: {hosts: ["example.com"], addresses: [1.1.1.1/32]}
`;

const ISTIO_INVALID: Record<string, string> = {
  'no-spec': '',
  'missing-host': 'spec: {}',
  'bad-selector-value': 'spec: {hosts: ["example.com"], workloadSelector: {labels: {val: "*"}}}',
  'selector-and-endpoints': 'spec: {hosts: ["example.com"], workloadSelector: {}, endpoints: [{address: "1.2.3.4"}]}',
  'bad-host-wildcard': 'spec: {hosts: ["*"]}',
  'bad-cidr-resolution': 'spec: {hosts: ["example.com"], addresses: [1.2.3.4/16], resolution: DNS}',
  'duplicate-ports-name': 'spec: {hosts: ["example.com"], ports: [{name: a, number: 1}, {name: a, number: 12}]}',
  'duplicate-ports-number': 'spec: {hosts: ["example.com"], ports: [{name: a, number: 1}, {name: b, number: 1}]}',
  'bad-port': 'spec: {hosts: ["example.com"], ports: [{name: a, number: 99999}]}',
  'bad-port-target': 'spec: {hosts: ["example.com"], ports: [{name: a, number: 1, targetPort: 99999}]}',
  'none-with-endpoints': 'spec: {hosts: ["example.com"], endpoints: [{address: "1.2.3.4"}], resolution: NONE}',
  'dns-rr-with-multiple-endpoints': 'spec: {hosts: ["example.com"], resolution: DNS_ROUND_ROBIN, endpoints: [{address: "sub1.example.com"}, {address: "sub2.example.com"}]}',
};

test("the ServiceEntries Istio's CRD tests accept are kept, without errors", () => {
  const r = read(ISTIO_VALID);
  assert.deepEqual(r.config.serviceEntries.map((s) => s.metadata.name).sort(), ['empty-selector', 'full', 'none-cidr', 'partial-wildcard', 'static-endpoints']);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
});

for (const [name, body] of Object.entries(ISTIO_INVALID)) {
  test(`the ServiceEntry "${name}" that Istio's CRD tests refuse is dropped with MM_SERVICEENTRY_INVALID`, () => {
    const yaml = `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ${name}}\n${body}\n`;
    assert.deepEqual(seNames(yaml), []);
    assert.ok(codesOf(yaml, `ServiceEntry default/${name}`).includes('MM_SERVICEENTRY_INVALID'));
  });
}

// The quick-start Dubbo ServiceEntry as it was: spec.workloadSelector and spec.endpoints together.
const OLD_DUBBO_EXAMPLE = `
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: demoservice, namespace: dubbo}
spec:
  hosts: [org.apache.dubbo.samples.basic.api.demoservice]
  addresses: [240.240.0.10]
  ports: [{number: 20880, name: tcp-metaprotocol-dubbo, protocol: TCP}]
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector: {labels: {app: dubbo-sample-provider}}
  endpoints: [{address: 10.0.1.11, labels: {version: v1}}, {address: 10.0.1.12, labels: {version: v2}}]
---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: demoservice, namespace: dubbo}
spec:
  hosts: [org.apache.dubbo.samples.basic.api.demoservice]
  routes: [{name: all, route: [{destination: {host: org.apache.dubbo.samples.basic.api.demoservice}}]}]
`;

test('a ServiceEntry with both workloadSelector and endpoints is rejected and nothing is generated for it', () => {
  const r = read(OLD_DUBBO_EXAMPLE);
  assert.deepEqual(r.config.serviceEntries, []);
  const [d] = r.diagnostics.filter((x) => x.code === 'MM_SERVICEENTRY_INVALID');
  assert.equal(d?.object, 'ServiceEntry dubbo/demoservice');
  assert.match(d.message, /^spec\.workloadSelector and spec\.endpoints are both set/);
  assert.match(d.message, /generates nothing for it/);
  const out = build(r.config, builtins, r.diagnostics);
  assert.deepEqual(out.routes, []);
  assert.equal(out.envoyFilters.filter((f) => f.metadata.labels?.['metamesh.io/role'] !== 'xds-cluster').length, 0);
  assert.ok(out.diagnostics.some((x) => x.code === 'MM_ROUTER_NO_SERVICE' && x.object === 'MetaRouter dubbo/demoservice'));
});

test('a DestinationRule Istio would reject is dropped, so its subsets are unknown to MetaRouters', () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: demo, namespace: ns}
spec:
  hosts: [demo.example.com]
  addresses: [240.240.0.9]
  ports: [{number: 20880, name: tcp-metaprotocol-dubbo, protocol: TCP}]
  resolution: STATIC
  workloadSelector: {labels: {app: demo}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: demo, namespace: ns}
spec:
  host: demo.example.com
  subsets: [{name: v1, labels: {version: v1}}]
  trafficPolicy: {loadBalancer: {simple: RANDOM, consistentHash: {httpHeaderName: userId}}}
---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: demo, namespace: ns}
spec:
  hosts: [demo.example.com]
  routes: [{name: v1, route: [{destination: {host: demo.example.com, subset: v1}}]}]
`;
  const r = read(yaml);
  assert.deepEqual(r.config.destinationRules, []);
  assert.deepEqual(codesOf(yaml, 'DestinationRule ns/demo'), ['MM_DESTINATIONRULE_INVALID']);
  const out = build(r.config, builtins, r.diagnostics);
  assert.ok(out.diagnostics.some((x) => x.code === 'MM_ROUTER_UNKNOWN_SUBSET' && x.object === 'MetaRouter ns/demo'));
});

test('a ServiceEntry with a field of the wrong type is dropped, as the API server would refuse it', () => {
  const yaml = 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: typed, namespace: ns}\nspec: {hosts: [a.example.com], exportTo: "*"}\n';
  assert.deepEqual(seNames(yaml), []);
  assert.deepEqual(codesOf(yaml, 'ServiceEntry ns/typed').sort(), ['MM_INPUT_FIELD_TYPE', 'MM_SERVICEENTRY_INVALID']);
});

test('a warning from Istio keeps the ServiceEntry', () => {
  const yaml = 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: warned, namespace: ns}\nspec: {hosts: [a.example.com], workloadSelector: {}}\n';
  assert.deepEqual(seNames(yaml), ['warned']);
  assert.ok(codesOf(yaml, 'ServiceEntry ns/warned').includes('MM_SERVICEENTRY_WARNING'));
});

test('every example manifest is valid Istio input: no error diagnostic from reading or building', () => {
  const loaded = loadInputs([path.join(ROOT, 'examples')]);
  assert.ok(loaded.files.length >= 4, `examples found: ${loaded.files.join(', ')}`);
  const r = readResources(loaded.documents);
  const out = build(r.config, builtins, [...loaded.diagnostics, ...r.diagnostics]);
  assert.deepEqual(out.diagnostics.filter((d) => d.severity === 'error' || d.code === 'MM_SERVICEENTRY_WARNING'), []);
  // The Dubbo example keeps its endpoints (the subsets) and still gets an inbound patch from the annotation.
  const dubbo = r.config.serviceEntries.find((s) => s.metadata.name === 'demoservice');
  assert.equal(dubbo?.spec.endpoints?.length, 2);
  const inbound = out.envoyFilters.find((f) => f.metadata.namespace === 'dubbo' && f.metadata.labels?.['metamesh.io/role'] === 'inbound');
  const selector = (inbound?.spec as { workloadSelector?: { labels?: Record<string, string> } }).workloadSelector;
  assert.equal(selector?.labels?.app, 'dubbo-sample-provider');
});
