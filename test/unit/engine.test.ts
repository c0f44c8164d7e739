import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readResources, parseYaml } from '../../src/input/read.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { build, createEngine } from '../../src/pipeline/build.js';
import type { MetaRouter } from '../../src/model/resources.js';

const builtins = loadBuiltinProtocols();

function services(n: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    docs.push(`apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: svc${i}, namespace: ns}
spec:
  hosts: [svc${i}.example.com]
  addresses: [10.0.0.${i + 1}]
  ports: [{number: 20880, name: tcp-metaprotocol-dubbo}]
  workloadSelector: {labels: {app: svc${i}}}
---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: svc${i}, namespace: ns}
spec:
  hosts: [svc${i}.example.com]
  routes:
  - name: r
    match: {attributes: {method: {exact: a}}}
    route: [{destination: {host: svc${i}.example.com, subset: v1}}]
`);
  }
  return docs.join('---\n');
}

function configOf(yaml: string) {
  return readResources(parseYaml(yaml, 't.yaml').documents).config;
}

test('changing one MetaRouter recomputes one host and reports only its route table', () => {
  const config = configOf(services(20));
  const engine = createEngine(config, builtins);
  const changed: MetaRouter = structuredClone(config.metaRouters.find((m) => m.metadata.name === 'svc7')!);
  changed.spec.routes![0]!.route![0]!.destination.subset = 'v2';
  engine.apply([{ op: 'upsert', resource: changed }]);
  const delta = engine.flush();
  assert.equal(delta.hostsRecomputed, 1);
  assert.deepEqual([...delta.changedRoutes], ['svc7.example.com_20880']);
  assert.deepEqual([...delta.removedRoutes], []);
  // …and the result equals a full rebuild of the same resources.
  const final = { ...config, metaRouters: config.metaRouters.map((m) => (m.metadata.name === 'svc7' ? changed : m)) };
  assert.equal(JSON.stringify(engine.output()), JSON.stringify(build(final, builtins)));
});

test('re-applying an unchanged MetaRouter reports no changed route', () => {
  const config = configOf(services(3));
  const engine = createEngine(config, builtins);
  engine.apply([{ op: 'upsert', resource: structuredClone(config.metaRouters[1]!) }]);
  const delta = engine.flush();
  assert.equal(delta.changedRoutes.size, 0);
});

test('deleting a service withdraws its route table and its EnvoyFilters', () => {
  const config = configOf(services(3));
  const engine = createEngine(config, builtins);
  engine.apply([{ op: 'delete', kind: 'ServiceEntry', namespace: 'ns', name: 'svc1' }]);
  const delta = engine.flush();
  assert.deepEqual([...delta.removedRoutes], ['svc1.example.com_20880']);
  const out = engine.output();
  assert.ok(!out.envoyFilters.some((ef) => ef.metadata.name.includes('svc1.example.com')));
  assert.ok(out.diagnostics.some((d) => d.code === 'MM_ROUTER_NO_SERVICE' && d.object === 'MetaRouter ns/svc1'));
});

test('a DestinationRule change recomputes the hosts whose routes point at it', () => {
  const config = configOf(services(3));
  // svc0 routes to svc1's subset v1: its table depends on svc1's DestinationRule.
  config.metaRouters.find((m) => m.metadata.name === 'svc0')!.spec.routes![0]!.route![0]!.destination.host = 'svc1.example.com';
  const engine = createEngine(config, builtins);
  engine.apply([
    {
      op: 'upsert',
      resource: {
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'DestinationRule',
        metadata: { name: 'svc1', namespace: 'ns' },
        spec: { host: 'svc1.example.com', subsets: [{ name: 'v1', trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'userId' } } } }] },
      },
    },
  ]);
  const delta = engine.flush();
  assert.deepEqual([...delta.changedRoutes].sort(), ['svc0.example.com_20880', 'svc1.example.com_20880']);
  assert.equal(delta.hostsRecomputed, 2);
  const svc0 = engine.output().routes.find((r) => r.name === 'svc0.example.com_20880')!;
  assert.match(JSON.stringify(svc0), /"headerName":"userId"/);
});

test('a plain ServiceEntry taking an allocated virtual IP moves the allocation, as a full rebuild would', () => {
  const config = configOf(`apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: novip, namespace: ns}
spec:
  hosts: [novip.example.com]
  ports: [{number: 20880, name: tcp-metaprotocol-dubbo}]
  resolution: STATIC
`);
  const engine = createEngine(config, builtins);
  const vip = engine.output().serviceEntries[0]!.metadata.annotations!['metamesh.io/allocated-address']!;
  const plain = configOf(`apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: plain-http, namespace: other}
spec:
  hosts: [web.example.com]
  addresses: [${vip}]
  ports: [{number: 80, name: http}]
`).serviceEntries[0]!;
  engine.apply([{ op: 'upsert', resource: plain }]);
  engine.flush();
  const moved = engine.output().serviceEntries[0]!.metadata.annotations!['metamesh.io/allocated-address'];
  assert.notEqual(moved, vip);
  assert.equal(JSON.stringify(engine.output()), JSON.stringify(build({ ...config, serviceEntries: [...config.serviceEntries, plain] }, builtins)));
});

test('ServiceEntries needing a virtual IP: endpoint edits, address edits, deletes and re-adds keep the output equal to a full rebuild', () => {
  // A small block so that collisions and in-block addresses happen.
  const options = `apiVersion: metamesh.io/v1alpha1
kind: MetameshOptions
metadata: {name: options, namespace: metamesh-system}
spec: {vipCidr: 240.240.0.0/27}
`;
  const se = (i: number, endpoints: number, address?: string) => `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: s${i}, namespace: ns}
spec:
  hosts: [s${i}.example.com]
${address ? `  addresses: [${address}]\n` : ''}  ports: [{number: 20880, name: tcp-metaprotocol-dubbo}]
  resolution: STATIC
  endpoints: [${Array.from({ length: endpoints }, (_, k) => `{address: 10.1.${i}.${k + 1}}`).join(', ')}]
`;
  const current = new Map<number, string>();
  for (let i = 0; i < 12; i++) current.set(i, se(i, 1));
  const all = () => configOf([options, ...current.values()].join('---\n'));
  const engine = createEngine(all(), builtins);
  const vips = engine.output().serviceEntries.map((x) => x.metadata.annotations?.['metamesh.io/allocated-address'] ?? '');
  assert.ok(vips.length === 12 && vips.every((v) => /^240\.240\.0\.([1-9]|[12]\d|3[01])$/.test(v)), vips.join(' '));
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  for (let step = 0; step < 60; step++) {
    const i = rnd(14);
    const kind = rnd(4);
    if (kind === 3 && current.has(i)) {
      current.delete(i);
      engine.apply([{ op: 'delete', kind: 'ServiceEntry', namespace: 'ns', name: `s${i}` }]);
    } else {
      // Endpoint edits mostly; sometimes an address inside the block (taking a VIP's slot) or outside it.
      const address = kind === 1 ? `240.240.0.${1 + rnd(30)}` : kind === 2 ? '10.9.9.9' : undefined;
      current.set(i, se(i, 1 + rnd(3), address));
      engine.apply([{ op: 'upsert', resource: configOf(current.get(i)!).serviceEntries[0]! }]);
    }
    engine.flush();
    assert.equal(JSON.stringify(engine.output()), JSON.stringify(build(all(), builtins)), `after step ${step}`);
  }
});

test('changing the domain moves a DestinationRule with a short host to its new host, as a full rebuild does', () => {
  const yaml = (domain: string) => `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: foo, namespace: ns}
spec:
  hosts: [foo.ns.svc.${domain}]
  addresses: [10.0.0.9]
  ports: [{number: 20880, name: tcp-metaprotocol-dubbo}]
  resolution: STATIC
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: foo, namespace: ns}
spec:
  host: foo
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: userId}}}
`;
  const before = configOf(yaml('a.local'));
  const engine = createEngine({ ...before, options: { ...before.options, domain: 'a.local' } }, builtins);
  const after = configOf(yaml('a.local'));
  const options = { ...after.options, domain: 'b.local' };
  engine.setOptions(options);
  engine.flush();
  assert.equal(JSON.stringify(engine.output()), JSON.stringify(build({ ...after, options }, builtins)));
  assert.ok(!JSON.stringify(engine.output().routes).includes('userId'), 'the rule now names foo.ns.svc.b.local, which no service defines');
});
