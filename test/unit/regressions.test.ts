/**
 * Where Aeraki's generator goes wrong, metamesh's behaviour is pinned here, through the public
 * functions (readResources + build, and the incremental Engine). A test named "gap N" guards row N
 * of the "Aeraki gaps" table in docs/compatibility.md. The other tests guard behaviour that once
 * broke in metamesh itself: gateway server claiming, one xDS cluster per gateway, the domain option,
 * the incremental Engine against a full rebuild, and mistyped fields.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseYaml, readResources, type ConfigSet } from '../../src/input/read.js';
import type { Diagnostic } from '../../src/model/diagnostics.js';
import type { OutputObject } from '../../src/model/output.js';
import type * as R from '../../src/model/resources.js';
import { build, createEngine } from '../../src/pipeline/build.js';
import type { Change, PipelineOutput } from '../../src/pipeline/types.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { mulberry32 } from '../support/random.js';
import { DUBBO_HOST, DUBBO_SE } from '../support/generate.js';

const builtins = loadBuiltinProtocols();

type Json = Record<string, unknown>;

function read(text: string): { config: ConfigSet; diagnostics: Diagnostic[] } {
  const p = parseYaml(text, 'test.yaml');
  const r = readResources(p.documents);
  return { config: r.config, diagnostics: [...p.diagnostics, ...r.diagnostics] };
}

function generate(text: string): PipelineOutput {
  const r = read(text);
  return build(r.config, builtins, r.diagnostics);
}

/** Exactly one resource from a YAML document. */
function resource(text: string): R.Resource<string, unknown> {
  const { config, diagnostics } = read(text);
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), [], 'fixture must be valid');
  const all = [
    ...config.serviceEntries,
    ...config.services,
    ...config.destinationRules,
    ...config.gateways,
    ...config.metaRouters,
    ...config.applicationProtocols,
  ];
  assert.equal(all.length, 1);
  return all[0]!;
}

function codes(out: PipelineOutput): string[] {
  return out.diagnostics.map((d) => d.code);
}

function efNamed(out: PipelineOutput, name: string, namespace?: string): OutputObject | undefined {
  return out.envoyFilters.find((ef) => ef.metadata.name === name && (namespace === undefined || ef.metadata.namespace === namespace));
}

function patches(ef: OutputObject): Json[] {
  return ef.spec.configPatches as Json[];
}

/** The MetaProtocolProxy config inside a NETWORK_FILTER patch. */
function proxyOf(patch: Json): Json {
  const value = (patch.patch as Json).value as Json;
  return ((value.typed_config as Json).value as Json);
}

function routeNamed(out: PipelineOutput, name: string): Json | undefined {
  return out.routes.find((r) => r.name === name);
}

function routesOf(rc: Json): Json[] {
  return ((rc.virtualHosts as Json[])[0]!.routes as Json[]);
}



const DUBBO_DR = `
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: demoservice, namespace: meta-dubbo}
spec:
  host: ${DUBBO_HOST}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

const THRIFT_SVC = `
apiVersion: v1
kind: Service
metadata: {name: thrift-sample-server, namespace: meta-thrift}
spec:
  selector: {app: thrift-sample-server}
  clusterIP: 10.96.41.20
  ports:
  - {name: tcp-metaprotocol-thrift-hello-server, port: 9090, targetPort: 9190}
`;

const THRIFT_HOST = 'thrift-sample-server.meta-thrift.svc.cluster.local';

function docs(...parts: string[]): string {
  return parts.join('\n---\n');
}


describe('behaviour where Aeraki goes wrong (docs/compatibility.md, Aeraki gaps)', () => {
  // --- gap 1 ----------------------------------------------------------------------------------------
  it('gap 1: a port named exactly tcp-metaprotocol gives MM_DETECT_INCOMPLETE_PORT_NAME, does not crash, and other services are still generated', () => {
    const bare = `
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: bare, namespace: meta-dubbo}
spec:
  hosts: [bare.meta-dubbo.example]
  addresses: [240.240.0.9]
  ports:
  - {number: 20880, name: tcp-metaprotocol, protocol: TCP}
  resolution: STATIC
  workloadSelector: {labels: {app: bare}}
`;
    const out = generate(docs(bare, DUBBO_SE, THRIFT_SVC));
    const d = out.diagnostics.find((x) => x.code === 'MM_DETECT_INCOMPLETE_PORT_NAME');
    assert.ok(d, 'expected MM_DETECT_INCOMPLETE_PORT_NAME');
    assert.equal(d.object, 'ServiceEntry meta-dubbo/bare');
    assert.ok(!out.routes.some((r) => String(r.name).startsWith('bare.')));
    assert.ok(!out.envoyFilters.some((ef) => ef.metadata.name.includes('bare.')));
    assert.ok(routeNamed(out, `${DUBBO_HOST}_20880`));
    assert.ok(routeNamed(out, `${THRIFT_HOST}_9090`));
    assert.ok(efNamed(out, `metamesh-outbound-${DUBBO_HOST}-20880`));
    assert.ok(efNamed(out, `metamesh-outbound-${THRIFT_HOST}-9090`));
  });

  it('gap 1: the application-protocol token of a port name is case-insensitive, like the metaprotocol token', () => {
    const out = generate(DUBBO_SE.replace('tcp-metaprotocol-dubbo', 'TCP-MetaProtocol-Dubbo'));
    assert.deepEqual(codes(out), []);
    const ef = efNamed(out, `metamesh-outbound-${DUBBO_HOST}-20880`)!;
    assert.equal(proxyOf(patches(ef)[0]!).applicationProtocol, 'dubbo');
    assert.deepEqual(proxyOf(patches(ef)[0]!).codec, { name: 'aeraki.meta_protocol.codec.dubbo' });
  });

  // --- gap 2 ----------------------------------------------------------------------------------------
  it('gap 2: a globalRateLimit without requestTimeout is generated, with no timeout field', () => {
    const mr = `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: global, namespace: meta-dubbo}
spec:
  hosts: [${DUBBO_HOST}]
  globalRateLimit:
    match:
      attributes:
        method: {exact: sayHello}
    domain: production
    rateLimitService: outbound|8081||rate-limit-server.meta-dubbo.svc.cluster.local
    descriptors:
    - {property: method, descriptorKey: method}
`;
    const out = generate(docs(DUBBO_SE, mr));
    assert.ok(!out.diagnostics.some((d) => d.severity === 'error'), JSON.stringify(out.diagnostics));
    const inbound = efNamed(out, `metamesh-inbound-${DUBBO_HOST}-20880`)!;
    const filters = proxyOf(patches(inbound)[0]!).metaProtocolFilters as Json[];
    const global = filters.find((f) => f.name === 'aeraki.meta_protocol.filters.ratelimit');
    assert.ok(global, 'global rate-limit filter present');
    const config = global.config as Json;
    assert.equal(config.domain, 'production');
    assert.ok(!('timeout' in config), 'no timeout field');
  });

  it('gap 2: a local rate-limit bucket without tokensPerFill is generated (top-level and per condition)', () => {
    const mr = `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: local, namespace: meta-dubbo}
spec:
  hosts: [${DUBBO_HOST}]
  localRateLimit:
    tokenBucket: {maxTokens: 10, fillInterval: 60s}
    conditions:
    - match:
        attributes:
          method: {exact: sayHello}
      tokenBucket: {maxTokens: 2, fillInterval: 1s}
`;
    const out = generate(docs(DUBBO_SE, mr));
    assert.ok(!out.diagnostics.some((d) => d.severity === 'error'), JSON.stringify(out.diagnostics));
    const inbound = efNamed(out, `metamesh-inbound-${DUBBO_HOST}-20880`)!;
    const filters = proxyOf(patches(inbound)[0]!).metaProtocolFilters as Json[];
    const local = filters.find((f) => f.name === 'aeraki.meta_protocol.filters.local_ratelimit');
    assert.ok(local);
    const config = local.config as Json;
    assert.deepEqual(config.tokenBucket, { maxTokens: 10, fillInterval: '60s' });
    assert.deepEqual((config.conditions as Json[])[0]!.tokenBucket, { maxTokens: 2, fillInterval: '1s' });
  });

  it('gap 2: a local rate-limit bucket without fillInterval is rejected with a diagnostic, not a crash, and the service keeps its patches', () => {
    const mr = `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: local, namespace: meta-dubbo}
spec:
  hosts: [${DUBBO_HOST}]
  localRateLimit:
    tokenBucket: {maxTokens: 10}
`;
    const out = generate(docs(DUBBO_SE, mr));
    assert.ok(codes(out).includes('MM_RATELIMIT_LOCAL'));
    assert.ok(codes(out).includes('MM_ROUTER_NOT_APPLIED'));
    assert.ok(efNamed(out, `metamesh-inbound-${DUBBO_HOST}-20880`));
    assert.ok(efNamed(out, `metamesh-outbound-${DUBBO_HOST}-20880`));
  });

  // --- gap 3 ----------------------------------------------------------------------------------------
  it('gap 3: a ServiceEntry with empty hosts next to valid ones leaves every EnvoyFilter and route of the valid ones in place', () => {
    const empty = `
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: aaa-empty-hosts, namespace: meta-dubbo}
spec:
  hosts: []
  addresses: [240.240.0.8]
  ports:
  - {number: 20880, name: tcp-metaprotocol-dubbo, protocol: TCP}
  resolution: STATIC
`;
    const alone = generate(docs(DUBBO_SE, THRIFT_SVC));
    const withBad = generate(docs(empty, DUBBO_SE, THRIFT_SVC));
    assert.ok(alone.envoyFilters.length >= 5);
    assert.deepEqual(withBad.envoyFilters, alone.envoyFilters);
    assert.deepEqual(withBad.routes, alone.routes);
    // Istio itself rejects a ServiceEntry without hosts, so the input stage drops it.
    assert.deepEqual(codes(withBad), ['MM_SERVICEENTRY_INVALID']);
  });

  // --- gap 4 ----------------------------------------------------------------------------------------
  const TWO_SERVER_GATEWAY = `
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: ingressgateway, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 20880, name: tcp-metaprotocol-dubbo, protocol: TCP}
    hosts: ["*"]
  - port: {number: 9090, name: tcp-metaprotocol-thrift, protocol: TCP}
    hosts: ["*"]
`;
  const GW_DUBBO_MR = `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: demoservice, namespace: meta-dubbo}
spec:
  hosts: [${DUBBO_HOST}]
  gateways: [istio-system/ingressgateway]
  routes:
  - name: all
    route:
    - destination: {host: ${DUBBO_HOST}, port: {number: 20880}}
`;
  const GW_THRIFT_MR = `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: thrift-sample-server, namespace: meta-thrift}
spec:
  hosts: [${THRIFT_HOST}]
  gateways: [istio-system/ingressgateway]
  routes:
  - name: all
    route:
    - destination: {host: ${THRIFT_HOST}, port: {number: 9090}}
`;

  it('gap 4: a Gateway with two MetaProtocol servers gets one EnvoyFilter and one VirtualService per server, with distinct names', () => {
    const out = generate(docs(TWO_SERVER_GATEWAY, DUBBO_SE, THRIFT_SVC, GW_DUBBO_MR, GW_THRIFT_MR));
    const gw = out.envoyFilters.filter((ef) => ef.metadata.labels?.['metamesh.io/role'] === 'gateway');
    assert.equal(gw.length, 2);
    assert.equal(new Set(gw.map((ef) => `${ef.metadata.namespace}/${ef.metadata.name}`)).size, 2);
    const listeners = gw.map((ef) => ((patches(ef).find((p) => p.applyTo === 'NETWORK_FILTER')!.match as Json).listener as Json).name).sort();
    assert.deepEqual(listeners, ['0.0.0.0_20880', '0.0.0.0_9090']);
    assert.equal(out.virtualServices.length, 2);
    assert.equal(new Set(out.virtualServices.map((vs) => `${vs.metadata.namespace}/${vs.metadata.name}`)).size, 2);
    const all = [...out.envoyFilters, ...out.virtualServices].map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
    assert.equal(new Set(all).size, all.length, 'no two emitted objects share kind/namespace/name');
  });

  it('each gateway server carries the MetaRouter whose destination port matches it (Aeraki requires destination port == server port), not the first MetaRouter by precedence', () => {
    const out = generate(docs(TWO_SERVER_GATEWAY, DUBBO_SE, THRIFT_SVC, GW_DUBBO_MR, GW_THRIFT_MR));
    const thriftGw = efNamed(out, 'metamesh-gateway-istio-system.ingressgateway-9090')!;
    const proxy = proxyOf(patches(thriftGw).find((p) => p.applyTo === 'NETWORK_FILTER')!);
    // The 9090 (thrift) listener carries the Thrift MetaRouter: its stats and its VirtualService
    // name the Thrift host, and the Dubbo MetaRouter, which names port 20880, does not compete.
    assert.equal(proxy.statPrefix, `outbound|9090||${THRIFT_HOST}`);
    assert.ok(!out.diagnostics.some((d) => d.code === 'MM_GATEWAY_CONFLICT'), JSON.stringify(out.diagnostics));
    const vs = out.virtualServices.find((v) => v.metadata.name.endsWith('-9090'))!;
    assert.deepEqual((vs.spec as Json).hosts, [THRIFT_HOST]);
  });

  it('a gateway workload receives the metamesh xDS cluster once, not one CLUSTER ADD per gateway server (Envoy rejects duplicate cluster names)', () => {
    const out = generate(docs(TWO_SERVER_GATEWAY, DUBBO_SE, THRIFT_SVC, GW_DUBBO_MR, GW_THRIFT_MR));
    const clusterAdds = out.envoyFilters
      .filter((ef) => ef.spec.workloadSelector && JSON.stringify(ef.spec.workloadSelector) === JSON.stringify({ labels: { istio: 'ingressgateway' } }))
      .flatMap((ef) => patches(ef))
      .filter((p) => p.applyTo === 'CLUSTER' && (p.patch as Json).operation === 'ADD');
    assert.equal(clusterAdds.length, 1, `${clusterAdds.length} CLUSTER ADD patches of metamesh-xds reach the same gateway pods`);
  });

  // --- gap 6 ----------------------------------------------------------------------------------------
  it('gap 6: deleting an ApplicationProtocol (incremental Engine) removes its protocol and its services\' patches, and an overridden built-in returns to its codec', () => {
    const qzaSvc = `
apiVersion: v1
kind: Service
metadata: {name: qza-server, namespace: meta-qza}
spec:
  selector: {app: qza-server}
  clusterIP: 10.96.70.1
  ports:
  - {name: tcp-metaprotocol-qza, port: 8888, targetPort: 8888}
`;
    const qzaAp = resource(`
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: ApplicationProtocol
metadata: {name: qza, namespace: istio-system}
spec: {protocol: qza, codec: aeraki.meta_protocol.codec.qza}
`);
    const dubboAp = resource(`
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: ApplicationProtocol
metadata: {name: dubbo-v2, namespace: istio-system}
spec: {protocol: dubbo, codec: aeraki.meta_protocol.codec.dubbo_v2}
`);
    const base = read(docs(DUBBO_SE, qzaSvc));
    const engine = createEngine(base.config, builtins);
    const qzaEf = 'metamesh-outbound-qza-server.meta-qza.svc.cluster.local-8888';
    const dubboEf = `metamesh-outbound-${DUBBO_HOST}-20880`;
    const dubboCodec = (out: PipelineOutput) => (proxyOf(patches(efNamed(out, dubboEf)!)[0]!).codec as Json).name;

    let out = engine.output();
    assert.equal(efNamed(out, qzaEf), undefined);
    assert.ok(codes(out).includes('MM_DETECT_UNKNOWN_PROTOCOL'));
    assert.equal(dubboCodec(out), 'aeraki.meta_protocol.codec.dubbo');

    engine.apply([{ op: 'upsert', resource: qzaAp }, { op: 'upsert', resource: dubboAp }]);
    engine.flush();
    out = engine.output();
    assert.ok(efNamed(out, qzaEf), 'qza service patched once its protocol exists');
    assert.equal((proxyOf(patches(efNamed(out, qzaEf)!)[0]!).codec as Json).name, 'aeraki.meta_protocol.codec.qza');
    assert.ok(routeNamed(out, 'qza-server.meta-qza.svc.cluster.local_8888'));
    assert.equal(dubboCodec(out), 'aeraki.meta_protocol.codec.dubbo_v2');
    assert.ok(!codes(out).includes('MM_DETECT_UNKNOWN_PROTOCOL'));

    engine.apply([
      { op: 'delete', kind: 'ApplicationProtocol', namespace: 'istio-system', name: 'qza' },
      { op: 'delete', kind: 'ApplicationProtocol', namespace: 'istio-system', name: 'dubbo-v2' },
    ]);
    engine.flush();
    out = engine.output();
    assert.equal(efNamed(out, qzaEf), undefined, 'qza outbound patch removed');
    assert.equal(efNamed(out, 'metamesh-inbound-qza-server.meta-qza.svc.cluster.local-8888'), undefined, 'qza inbound patch removed');
    assert.equal(routeNamed(out, 'qza-server.meta-qza.svc.cluster.local_8888'), undefined, 'qza route removed');
    assert.ok(codes(out).includes('MM_DETECT_UNKNOWN_PROTOCOL'));
    assert.equal(dubboCodec(out), 'aeraki.meta_protocol.codec.dubbo');
    assert.equal(JSON.stringify(out), JSON.stringify(build(base.config, builtins)), 'same as a full build without the ApplicationProtocols');
  });

  // --- gap 7 ----------------------------------------------------------------------------------------
  it('gap 7: a MetaRouter host given as a short name resolves relative to the MetaRouter namespace', () => {
    const mr = `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: thrift-sample-server, namespace: meta-thrift}
spec:
  hosts: [thrift-sample-server]
  routes:
  - name: say-hello
    match:
      attributes:
        method: {exact: sayHello}
    route:
    - destination: {host: thrift-sample-server, subset: v2}
`;
    const dr = `
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: thrift-sample-server, namespace: meta-thrift}
spec:
  host: thrift-sample-server
  subsets:
  - {name: v2, labels: {version: v2}}
`;
    const out = generate(docs(THRIFT_SVC, mr, dr));
    assert.deepEqual(codes(out), []);
    const routes = routesOf(routeNamed(out, `${THRIFT_HOST}_9090`)!);
    assert.equal(routes[0]!.name, 'say-hello');
    assert.equal((routes[0]!.route as Json).cluster, `outbound|9090|v2|${THRIFT_HOST}`);
  });

  it('gap 7: of two MetaRouters for one host the older applies, whatever the input order, and the other gets MM_ROUTER_CONFLICT', () => {
    const mr = (name: string, ts: string, subset: string) => `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: ${name}, namespace: meta-dubbo, creationTimestamp: "${ts}"}
spec:
  hosts: [${DUBBO_HOST}]
  routes:
  - name: to-${subset}
    route:
    - destination: {host: ${DUBBO_HOST}, subset: ${subset}}
`;
    const a = mr('a-newer', '2024-06-01T00:00:00Z', 'v2');
    const z = mr('z-older', '2024-01-01T00:00:00Z', 'v1');
    const one = generate(docs(DUBBO_SE, DUBBO_DR, a, z));
    const two = generate(docs(z, DUBBO_DR, a, DUBBO_SE));
    assert.equal(JSON.stringify(one), JSON.stringify(two));
    assert.equal(routesOf(routeNamed(one, `${DUBBO_HOST}_20880`)!)[0]!.name, 'to-v1');
    const conflict = one.diagnostics.filter((d) => d.code === 'MM_ROUTER_CONFLICT');
    assert.deepEqual(conflict.map((d) => d.object), ['MetaRouter meta-dubbo/a-newer']);
  });

  const THRIFT_GATEWAY = `
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {app: istio-ingressgateway}
  servers:
  - port: {number: 9090, name: tcp-metaprotocol-thrift, protocol: TCP}
    hosts: ["*"]
`;
  const gatewayRouter = (gateways: string) => `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: thrift-sample-server, namespace: meta-thrift}
spec:
  hosts: [${THRIFT_HOST}]
  gateways: ${gateways}
  routes:
  - name: say-hello
    match:
      attributes:
        method: {exact: sayHello}
    route:
    - destination: {host: ${THRIFT_HOST}}
`;

  it('gap 7: a MetaRouter with gateways [gw] and no mesh leaves the sidecar route on the default route', () => {
    const out = generate(docs(THRIFT_GATEWAY, THRIFT_SVC, gatewayRouter('[istio-system/istio-ingressgateway]')));
    assert.deepEqual(codes(out), ['MM_ROUTER_GATEWAY_ONLY'], 'Aeraki would route sidecars by it, so the difference is reported');
    const sidecar = routesOf(routeNamed(out, `${THRIFT_HOST}_9090`)!);
    assert.deepEqual(sidecar.map((r) => r.name), ['default']);
    assert.equal((sidecar[0]!.route as Json).cluster, `outbound|9090||${THRIFT_HOST}`);
    const gw = out.routes.filter((r) => r.name !== `${THRIFT_HOST}_9090`);
    assert.equal(gw.length, 1);
    assert.deepEqual(routesOf(gw[0]!).map((r) => r.name), ['say-hello']);
  });

  it('gap 7: a MetaRouter with gateways [gw, mesh] changes the sidecar route too', () => {
    const out = generate(docs(THRIFT_GATEWAY, THRIFT_SVC, gatewayRouter('[istio-system/istio-ingressgateway, mesh]')));
    assert.deepEqual(routesOf(routeNamed(out, `${THRIFT_HOST}_9090`)!).map((r) => r.name), ['say-hello']);
    assert.equal(out.routes.length, 2);
    for (const rc of out.routes) assert.deepEqual(routesOf(rc).map((r) => r.name), ['say-hello']);
  });

  // --- gap 8 ----------------------------------------------------------------------------------------
  it('gap 8: inbound patches match the targetPort, every patch names its context, and no selector is ever {app: ""}', () => {
    const se = `
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: demoservice, namespace: meta-dubbo}
spec:
  hosts: [${DUBBO_HOST}]
  addresses: [240.240.0.1]
  ports:
  - {number: 20880, name: tcp-metaprotocol-dubbo, protocol: TCP, targetPort: 20881}
  resolution: STATIC
  workloadSelector: {labels: {app: dubbo-sample-provider}}
`;
    const out = generate(docs(se, THRIFT_SVC, THRIFT_GATEWAY, gatewayRouter('[istio-system/istio-ingressgateway, mesh]')));
    const dubboIn = efNamed(out, `metamesh-inbound-${DUBBO_HOST}-20880`)!;
    const inMatch = patches(dubboIn)[0]!.match as Json;
    assert.equal(((inMatch.listener as Json).filterChain as Json).destinationPort, 20881);
    assert.equal(proxyOf(patches(dubboIn)[0]!).statPrefix, 'inbound|20881||');
    const thriftIn = efNamed(out, `metamesh-inbound-${THRIFT_HOST}-9090`)!;
    assert.equal((((patches(thriftIn)[0]!.match as Json).listener as Json).filterChain as Json).destinationPort, 9190);

    const contexts = new Set(['SIDECAR_OUTBOUND', 'SIDECAR_INBOUND', 'GATEWAY']);
    assert.ok(out.envoyFilters.length >= 5);
    for (const ef of out.envoyFilters) {
      for (const p of patches(ef)) {
        assert.ok(contexts.has((p.match as Json).context as string), `${ef.metadata.name}: patch without context`);
      }
      const labels = ((ef.spec.workloadSelector as Json | undefined)?.labels ?? {}) as Record<string, string>;
      for (const [k, v] of Object.entries(labels)) assert.notEqual(v, '', `${ef.metadata.name}: selector ${k}: ""`);
    }
  });

  it('gap 8: a ServiceEntry with neither selector nor annotation gets no inbound EnvoyFilter and MM_INBOUND_NO_SELECTOR', () => {
    const se = DUBBO_SE.replace('  workloadSelector: {labels: {app: dubbo-sample-provider}}\n', '');
    const out = generate(se);
    assert.equal(out.envoyFilters.filter((ef) => ef.metadata.labels?.['metamesh.io/role'] === 'inbound').length, 0);
    assert.ok(efNamed(out, `metamesh-outbound-${DUBBO_HOST}-20880`));
    const d = out.diagnostics.filter((x) => x.code === 'MM_INBOUND_NO_SELECTOR');
    assert.deepEqual(d.map((x) => x.object), ['ServiceEntry meta-dubbo/demoservice']);
  });

  // --- gap 9 ----------------------------------------------------------------------------------------
  it('gap 9: header matchers are emitted sorted by attribute name, so any attribute order gives identical output', () => {
    const attrs = [
      'method: {exact: sayHello}',
      'interface: {prefix: org.apache}',
      'version: {regex: "^1\\\\..*"}',
      'group: ~',
      'tenant: {regex: "*"}',
      'env: {exact: staging}',
    ];
    const rnd = mulberry32(0x6d9);
    let first: string | undefined;
    for (let i = 0; i < 12; i++) {
      const order = [...attrs].sort(() => rnd() - 0.5);
      const mr = `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: demoservice, namespace: meta-dubbo}
spec:
  hosts: [${DUBBO_HOST}]
  routes:
  - name: many
    match:
      attributes:
${order.map((a) => `        ${a}`).join('\n')}
    route:
    - destination: {host: ${DUBBO_HOST}}
`;
      const out = generate(docs(DUBBO_SE, mr));
      const json = JSON.stringify(out);
      if (first === undefined) {
        first = json;
        const headers = ((routesOf(routeNamed(out, `${DUBBO_HOST}_20880`)!)[0]!.match as Json).headers as Json[]).map((h) => h.name);
        assert.deepEqual(headers, ['env', 'interface', 'method', 'tenant', 'version']); // group: ~ gives no matcher
      } else {
        assert.equal(json, first, `attribute order ${order.join(', ')}`);
      }
    }
  });

  it('gap 9: a port whose first token is not "tcp" is MetaProtocol for both EnvoyFilters and routes', () => {
    const out = generate(DUBBO_SE.replace('tcp-metaprotocol-dubbo', 'rpc-metaprotocol-dubbo'));
    assert.ok(efNamed(out, `metamesh-outbound-${DUBBO_HOST}-20880`));
    assert.ok(routeNamed(out, `${DUBBO_HOST}_20880`));
  });

  // --- gap 10 ---------------------------------------------------------------------------------------
  const CORP_OPTIONS = `
apiVersion: metamesh.io/v1alpha1
kind: MetameshOptions
metadata: {name: metamesh}
spec:
  domain: corp.internal
`;
  const corpInputs = () => {
    const svc = THRIFT_SVC;
    const dr = `
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: thrift-sample-server, namespace: meta-thrift}
spec:
  host: thrift-sample-server
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpHeaderName: method}
  subsets:
  - {name: v1, labels: {version: v1}}
`;
    const mr = `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: thrift-sample-server, namespace: meta-thrift}
spec:
  hosts: [thrift-sample-server]
  routes:
  - name: v1
    route:
    - destination: {host: thrift-sample-server.meta-thrift.svc.corp.internal, subset: v1}
`;
    return [svc, dr, mr];
  };

  it('gap 10: the domain option is used for Service hosts, short names and DestinationRule lookup', () => {
    const host = 'thrift-sample-server.meta-thrift.svc.corp.internal';
    const out = generate(docs(CORP_OPTIONS, ...corpInputs()));
    assert.deepEqual(codes(out), []);
    const rc = routeNamed(out, `${host}_9090`);
    assert.ok(rc, 'route table named after the corp.internal host');
    const r = routesOf(rc)[0]!;
    assert.equal((r.route as Json).cluster, `outbound|9090|v1|${host}`);
    assert.deepEqual((r.route as Json).hashPolicy, [{ header: { headerName: 'method' } }]);
    const withoutXds = { ...out, envoyFilters: out.envoyFilters.filter((ef) => ef.metadata.labels?.['metamesh.io/role'] !== 'xds-cluster') };
    assert.ok(!JSON.stringify(withoutXds).includes('cluster.local'));
  });

  it('with domain corp.internal and no xds.address, nothing in the output hard-codes cluster.local (the default xDS address is metamesh.istio-system.svc.cluster.local)', () => {
    const out = generate(docs(CORP_OPTIONS, ...corpInputs()));
    // The trust domain is a separate option (Istio's default is cluster.local whatever the DNS
    // domain): metamesh's SPIFFE id in the xDS cluster may name it.
    const text = JSON.stringify(out).replaceAll('spiffe://cluster.local/', 'spiffe://<trust domain>/');
    const hits = text.match(/[a-z0-9.-]*cluster\.local/g) ?? [];
    assert.deepEqual([...new Set(hits)], []);
  });

  // --- gap 19 ---------------------------------------------------------------------------------------
  it('gap 19: duplicate identical matches (even with attributes in another order) give MM_ROUTER_UNREACHABLE_ROUTE', () => {
    const mr = `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: demoservice, namespace: meta-dubbo}
spec:
  hosts: [${DUBBO_HOST}]
  routes:
  - name: first
    match:
      attributes:
        method: {exact: sayHello}
        version: {exact: "1.0.0"}
    route:
    - destination: {host: ${DUBBO_HOST}, subset: v1}
  - name: same-match
    match:
      attributes:
        version: {exact: "1.0.0"}
        method: {exact: sayHello}
    route:
    - destination: {host: ${DUBBO_HOST}, subset: v2}
  - name: rest
    route:
    - destination: {host: ${DUBBO_HOST}}
`;
    const out = generate(docs(DUBBO_SE, DUBBO_DR, mr));
    const w = out.diagnostics.filter((d) => d.code === 'MM_ROUTER_UNREACHABLE_ROUTE');
    assert.equal(w.length, 1, JSON.stringify(out.diagnostics));
    assert.equal(w[0]!.severity, 'warning');
    assert.match(w[0]!.message, /spec\.routes\[1\]/);
    // A warning only: the MetaRouter still applies.
    assert.deepEqual(routesOf(routeNamed(out, `${DUBBO_HOST}_20880`)!).map((r) => r.name), ['first', 'same-match', 'rest']);
  });

  // --- incremental engine ≡ full rebuild ------------------------------------------------------------
  for (const seed of [20240601, 7, 99991]) {
    it(`the incremental Engine equals a full rebuild after 200 random upserts/deletes of MetaRouters, DestinationRules and ServiceEntries (seed ${seed})`, () => {
      const pool = enginePool();
      const base = read(docs(THRIFT_GATEWAY, THRIFT_SVC));
      const engine = createEngine(base.config, builtins);
      const current = new Map<string, R.Resource<string, unknown>>();
      const rnd = mulberry32(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      for (let step = 0; step < 200; step++) {
        const r = pick(pool);
        const key = `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`;
        let change: Change;
        if (current.has(key) && rnd() < 0.4) {
          change = { op: 'delete', kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name };
          current.delete(key);
        } else {
          change = { op: 'upsert', resource: r };
          current.set(key, r);
        }
        engine.apply([change]);
        if (rnd() < 0.5) engine.flush();
        if (step % 50 === 49) {
          engine.flush();
          assert.equal(JSON.stringify(engine.output()), JSON.stringify(build(configOf(base.config, current), builtins)), `after step ${step}`);
        }
      }
      engine.flush();
      assert.equal(JSON.stringify(engine.output()), JSON.stringify(build(configOf(base.config, current), builtins)));
    });
  }

  // --- mistyped fields ------------------------------------------------------------------------------
  it('a ServiceEntry port whose number has the wrong type is dropped, never emitted as "undefined" in listener, cluster or route names', () => {
    const se = `
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: wrong-types, namespace: meta-dubbo}
spec:
  hosts: [wrong.example]
  addresses: [240.240.0.90]
  ports:
  - {number: twenty, name: tcp-metaprotocol-dubbo}
  resolution: STATIC
`;
    const out = generate(docs(se, DUBBO_SE));
    assert.ok(codes(out).includes('MM_INPUT_FIELD_TYPE'));
    assert.ok(!JSON.stringify(out).includes('undefined'), 'output mentions "undefined"');
  });

  it('a MetaRouter match attribute of the wrong type (method: sayHello) does not turn the route into a catch-all', () => {
    const mr = `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: demoservice, namespace: meta-dubbo}
spec:
  hosts: [${DUBBO_HOST}]
  routes:
  - name: say-hello-to-v2
    match:
      attributes:
        method: sayHello
    route:
    - destination: {host: ${DUBBO_HOST}, subset: v2}
  - name: rest
    route:
    - destination: {host: ${DUBBO_HOST}, subset: v1}
`;
    const out = generate(docs(DUBBO_SE, DUBBO_DR, mr));
    // The mistyped attribute is an error, so the whole MetaRouter is set aside: dropping only the
    // attribute would leave an empty match that sends every request to v2.
    assert.ok(codes(out).includes('MM_INPUT_FIELD_TYPE'));
    assert.ok(codes(out).includes('MM_ROUTER_NOT_APPLIED'));
    assert.deepEqual(routesOf(routeNamed(out, `${DUBBO_HOST}_20880`)!).map((r) => r.name), ['default']);
  });
});

/** Resources for the engine test: several variants per name, so upserts also change content. */
function enginePool(): R.Resource<string, unknown>[] {
  const hosts = ['a.meta.example', 'b.meta.example', 'c.meta.example'];
  const out: R.Resource<string, unknown>[] = [];
  const se = (name: string, host: string, extra: string) =>
    resource(`
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: ${name}, namespace: meta}
spec:
  hosts: [${host}]
${extra}
  ports:
  - {number: 20880, name: tcp-metaprotocol-dubbo, protocol: TCP}
  resolution: STATIC
`);
  out.push(se('se-a', hosts[0]!, '  addresses: [240.240.0.11]\n  workloadSelector: {labels: {app: a}}'));
  out.push(se('se-a', hosts[0]!, '  workloadSelector: {labels: {app: a}}')); // no address: VIP
  out.push(se('se-b', hosts[1]!, '  addresses: [240.240.0.12]'));
  out.push(se('se-b', hosts[2]!, '')); // moves to host c, needs a VIP
  out.push(se('se-c', hosts[2]!, '  addresses: [240.240.0.13]\n  workloadSelector: {labels: {app: c}}'));
  out.push(se('se-c2', hosts[2]!, '  addresses: [240.240.0.14]')); // a second definition of host c
  for (const [i, host] of hosts.entries()) {
    out.push(
      resource(`
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: dr-${i}, namespace: meta}
spec:
  host: ${host}
  subsets:
  - {name: v1, labels: {version: v1}}
  - name: v2
    labels: {version: v2}
    trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: user}}}
`),
      resource(`
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: dr-${i}, namespace: meta}
spec:
  host: ${hosts[(i + 1) % hosts.length]}
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: method}}}
  subsets:
  - {name: v1, labels: {version: v1}}
`),
    );
  }
  const mr = (name: string, ts: string, host: string, body: string) =>
    resource(`
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: ${name}, namespace: meta, creationTimestamp: "${ts}"}
spec:
  hosts: [${host}]
${body}
`);
  for (const [i, host] of hosts.entries()) {
    const other = hosts[(i + 1) % hosts.length]!;
    out.push(
      mr(`mr-${i}`, `2024-0${i + 1}-01T00:00:00Z`, host, `  routes:
  - name: to-v1
    match: {attributes: {method: {exact: sayHello}}}
    route:
    - destination: {host: ${host}, subset: v1}
  - name: split
    route:
    - {destination: {host: ${host}, subset: v1}, weight: 50}
    - {destination: {host: ${other}, subset: v2}, weight: 50}`),
      mr(`mr-${i}`, `2024-0${i + 1}-01T00:00:00Z`, other, `  exportTo: [".", "consumers"]
  routes:
  - name: mirrored
    route:
    - destination: {host: ${other}, subset: v2}
    mirror: {host: ${host}, subset: v1}
    mirrorPercentage: {value: 10}
  localRateLimit:
    tokenBucket: {maxTokens: 5, fillInterval: 1s}`),
      mr(`mr-x${i}`, `2023-12-01T00:00:00Z`, host, `  routes:
  - name: older
    route:
    - destination: {host: ${host}}`),
    );
  }
  out.push(
    mr('mr-gw', '2024-05-01T00:00:00Z', THRIFT_HOST, `  gateways: [istio-system/istio-ingressgateway]
  routes:
  - name: gw
    route:
    - destination: {host: ${THRIFT_HOST}, subset: v1}`),
    mr('mr-gw', '2024-05-01T00:00:00Z', THRIFT_HOST, `  gateways: [istio-system/istio-ingressgateway, mesh]
  routes:
  - name: gw-and-mesh
    route:
    - destination: {host: ${THRIFT_HOST}}`),
  );
  return out;
}

function configOf(base: ConfigSet, current: Map<string, R.Resource<string, unknown>>): ConfigSet {
  const rs = [...current.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  return {
    ...base,
    serviceEntries: [...base.serviceEntries, ...(rs.filter((r) => r.kind === 'ServiceEntry') as R.ServiceEntry[])],
    destinationRules: [...base.destinationRules, ...(rs.filter((r) => r.kind === 'DestinationRule') as R.DestinationRule[])],
    metaRouters: [...base.metaRouters, ...(rs.filter((r) => r.kind === 'MetaRouter') as R.MetaRouter[])],
  };
}
