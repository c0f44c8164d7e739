/**
 * Which service a host name means. Istio takes ServiceEntry hosts literally; Aeraki matched MetaRouter
 * hosts by exact string; metamesh resolves a MetaRouter's short name to a service host of that exact
 * name when one exists, else in the MetaRouter's namespace like a VirtualService host. The engine
 * must keep that right incrementally: a service appearing or disappearing under the literal name
 * moves the MetaRouter.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseYaml, readResources } from '../../src/input/read.js';
import type * as R from '../../src/model/resources.js';
import { build, createEngine } from '../../src/pipeline/build.js';
import type { Change, PipelineOutput } from '../../src/pipeline/types.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { candidateHosts, serviceHost } from '../../src/resolve/names.js';
import { mulberry32 } from '../support/random.js';

const builtins = loadBuiltinProtocols();

function resources(text: string): R.Resource<string, unknown>[] {
  const { config } = readResources(parseYaml(text, 't.yaml').documents);
  return [...config.serviceEntries, ...config.services, ...config.destinationRules, ...config.metaRouters];
}

function configWith(list: Iterable<R.Resource<string, unknown>>) {
  const { config } = readResources([]);
  for (const r of list) {
    if (r.kind === 'ServiceEntry') config.serviceEntries.push(r as R.ServiceEntry);
    if (r.kind === 'Service') config.services.push(r as R.KubeService);
    if (r.kind === 'DestinationRule') config.destinationRules.push(r as R.DestinationRule);
    if (r.kind === 'MetaRouter') config.metaRouters.push(r as R.MetaRouter);
  }
  return config;
}

const SE_SHORT = `apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: brpc-echo-server, namespace: meta-brpc}
spec:
  hosts: [brpc-echo-server]
  addresses: [240.240.0.8]
  ports: [{number: 8000, name: tcp-metaprotocol-brpc, protocol: TCP}]
  workloadSelector: {labels: {app: brpc-echo-server}}
  resolution: STATIC
`;
const K8S_SVC = `apiVersion: v1
kind: Service
metadata: {name: brpc-echo-server, namespace: meta-brpc}
spec:
  clusterIP: 10.96.0.8
  selector: {app: brpc-echo-server}
  ports: [{name: tcp-metaprotocol-brpc, port: 8000}]
`;
const MR_SHORT = `apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: short, namespace: meta-brpc}
spec:
  hosts: [brpc-echo-server]
  routes:
  - name: split
    route:
    - {destination: {host: brpc-echo-server, subset: v1}, weight: 20}
    - {destination: {host: brpc-echo-server, subset: v2}, weight: 80}
`;
const DR_FQDN = `apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: brpc-echo-server, namespace: meta-brpc}
spec:
  host: brpc-echo-server
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
`;
const FQDN = 'brpc-echo-server.meta-brpc.svc.cluster.local';

function route(out: PipelineOutput, name: string) {
  return out.routes.find((r) => r.name === name) as { virtualHosts: { routes: { name: string; route: Record<string, unknown> }[] }[] } | undefined;
}

describe('host names', () => {
  it('a short name has two candidates, the literal one first; a name with a dot has one', () => {
    assert.deepEqual(candidateHosts('Foo', 'ns', 'cluster.local'), ['foo', 'foo.ns.svc.cluster.local']);
    assert.deepEqual(candidateHosts('foo.example.com', 'ns', 'cluster.local'), ['foo.example.com']);
    assert.equal(serviceHost('foo', 'ns', 'cluster.local', (h) => h === 'foo'), 'foo');
    assert.equal(serviceHost('foo', 'ns', 'cluster.local', () => false), 'foo.ns.svc.cluster.local');
  });

  it('a ServiceEntry short host is taken literally: its route table, clusters and listener use the name as written (Aeraki bRPC demo)', () => {
    const out = build(configWith(resources([SE_SHORT, MR_SHORT].join('---\n'))), builtins);
    const rc = route(out, 'brpc-echo-server_8000');
    assert.ok(rc, `route names: ${out.routes.map((r) => r.name).join(', ')}`);
    assert.equal(route(out, `${FQDN}_8000`), undefined);
    const r = rc.virtualHosts[0]!.routes[0]!;
    assert.equal(r.name, 'split', 'the MetaRouter written with the short name applies to the literal host');
    assert.deepEqual(
      (r.route.weightedClusters as { clusters: { name: string }[] }).clusters.map((c) => c.name),
      ['outbound|8000|v1|brpc-echo-server', 'outbound|8000|v2|brpc-echo-server'],
    );
    const outbound = out.envoyFilters.find((ef) => ef.metadata.labels?.['metamesh.io/role'] === 'outbound')!;
    assert.match(JSON.stringify(outbound.spec), /"brpc-echo-server_8000"/);
    assert.match(JSON.stringify(outbound.spec), /"outbound\|8000\|\|brpc-echo-server"/);
  });

  it('a DestinationRule short host is expanded as Istio does, so it does not give the literal host subsets (MM_ROUTER_UNKNOWN_SUBSET says so)', () => {
    const out = build(configWith(resources([SE_SHORT, MR_SHORT, DR_FQDN].join('---\n'))), builtins);
    const unknown = out.diagnostics.filter((d) => d.code === 'MM_ROUTER_UNKNOWN_SUBSET');
    assert.equal(unknown.length, 2, JSON.stringify(out.diagnostics));
    assert.match(unknown[0]!.message, /of brpc-echo-server, but no DestinationRule/);
  });

  it('without a service of that literal name, the short name means the Kubernetes Service in the MetaRouter namespace', () => {
    const out = build(configWith(resources([K8S_SVC, MR_SHORT, DR_FQDN].join('---\n'))), builtins);
    const rc = route(out, `${FQDN}_8000`)!;
    assert.equal(rc.virtualHosts[0]!.routes[0]!.name, 'split');
    assert.ok(!out.diagnostics.some((d) => d.code === 'MM_ROUTER_UNKNOWN_SUBSET' || d.code === 'MM_ROUTER_NO_SERVICE'), JSON.stringify(out.diagnostics));
  });

  it('the engine moves a MetaRouter when a service with its literal short name comes and goes, and equals a full rebuild each time', () => {
    const [svc, mr, dr] = resources([K8S_SVC, MR_SHORT, DR_FQDN].join('---\n'));
    const [se] = resources(SE_SHORT);
    const engine = createEngine(configWith([svc!, mr!, dr!]), builtins);
    const steps: { change: Change; now: R.Resource<string, unknown>[]; routedHost: string }[] = [
      { change: { op: 'upsert', resource: se! }, now: [svc!, mr!, dr!, se!], routedHost: 'brpc-echo-server' },
      { change: { op: 'delete', kind: 'ServiceEntry', namespace: 'meta-brpc', name: 'brpc-echo-server' }, now: [svc!, mr!, dr!], routedHost: FQDN },
    ];
    for (const s of steps) {
      engine.apply([s.change]);
      const delta = engine.flush();
      const out = engine.output();
      assert.equal(JSON.stringify(out), JSON.stringify(build(configWith(s.now), builtins)));
      assert.equal(route(out, `${s.routedHost}_8000`)!.virtualHosts[0]!.routes[0]!.name, 'split');
      assert.ok(delta.changedRoutes.has(`${s.routedHost}_8000`));
    }
  });

  for (const seed of [11, 2024, 77777]) {
    it(`the incremental engine equals a full rebuild after 150 random changes mixing literal and expanded short names (seed ${seed})`, () => {
      const pool = resources(
        [
          SE_SHORT,
          K8S_SVC,
          MR_SHORT,
          DR_FQDN,
          MR_SHORT.replace('name: short,', 'name: fqdn,').replaceAll('brpc-echo-server', FQDN),
          `apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: caller, namespace: meta-brpc}
spec:
  hosts: [caller.example.com]
  routes: [{name: to-echo, route: [{destination: {host: brpc-echo-server, port: {number: 8000}}}]}]
`,
          `apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: caller, namespace: meta-brpc}
spec:
  hosts: [caller.example.com]
  addresses: [240.240.0.9]
  ports: [{number: 8000, name: tcp-metaprotocol-brpc}]
`,
        ].join('---\n'),
      );
      const rnd = mulberry32(seed);
      const engine = createEngine(configWith([]), builtins);
      const current = new Map<string, R.Resource<string, unknown>>();
      for (let step = 0; step < 150; step++) {
        const r = pool[Math.floor(rnd() * pool.length)]!;
        const key = `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`;
        if (current.has(key) && rnd() < 0.5) {
          engine.apply([{ op: 'delete', kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name }]);
          current.delete(key);
        } else {
          engine.apply([{ op: 'upsert', resource: r }]);
          current.set(key, r);
        }
        if (rnd() < 0.5) {
          engine.flush();
          assert.equal(JSON.stringify(engine.output()), JSON.stringify(build(configWith(current.values()), builtins)), `after step ${step}`);
        }
      }
    });
  }
});
