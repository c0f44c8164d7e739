/**
 * metamesh's EnvoyFilters as a real istiod applies them, through both ways into istiod:
 *
 *  - the MCP sink: `metamesh serve --mcp` reads its configuration from a real kube-apiserver (as
 *    the ServiceAccount istio-system/metamesh, with deploy/rbac/read-config.yaml) and istiod reads
 *    metamesh as its first `configSources` entry (`xds://`), then `k8s://`;
 *  - objects in the Kubernetes API: what `metamesh generate -o manifests` prints for the same
 *    inputs, applied to the API server, with istiod reading `k8s://` only.
 *
 * Both istiods are real (pilot-discovery built from istio.io/istio, support/istiod-build.ts); the
 * test asks them for what proxies get as pilot-agent would (an ADS client with pilot-agent's node
 * metadata; the pods exist in the API server, with no kubelet to run them) and checks the listeners: the
 * MetaProtocol Proxy with RDS via the metamesh-xds cluster on the outbound listener of labelled
 * sidecars, on the inbound chains of the selected labelled servers and on the gateway's listener;
 * tcp_proxy everywhere else. Also: istiod killed and restarted reads everything again from
 * metamesh; metamesh killed while istiod runs leaves istiod's config in place, and istiod picks up
 * changes once metamesh is back. Every wait is a deadline on a condition.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cli.js';
import { removeTemps, root, tempDir } from '../support/xds.js';
import { createIstiod, startIstiod, type ConfigSource, type Istiod, type ProxySpec } from './support/istiod.js';
import { startKube, pollUntil, type KubeCluster } from './support/kube.js';
import { assertRdsVia, assertTcpProxy, chains, clusterNames, inboundChains, listener, metaProtocolProxies, type ProxyConfigDump } from './support/listeners.js';
import { startMetamesh, type MetameshProcess } from './support/metamesh.js';

const FIXTURES = path.join(root, 'test/e2e/istiod/fixtures');
const OPTIONS = path.join(root, 'examples/options.yaml');
const RBAC = readFileSync(path.join(root, 'deploy/rbac/read-config.yaml'), 'utf8');
const NAMESPACES = ['dubbo', 'istio-system'].map((n) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${n}}\n`).join('---\n');
const XDS_CLUSTER = 'metamesh-xds';

const DUBBO_HOST = 'org.apache.dubbo.samples.basic.api.demoservice';
const DUBBO = { vip: '240.240.0.10', port: 20880, route: `${DUBBO_HOST}_20880`, gatewayRoute: `gateway/istio-system/dubbo-ingress/${DUBBO_HOST}_20880` };

/** The test proxies; each is a Pod of fixtures/pods.yaml with the same name and labels. */
const PROXIES = {
  consumer: { ip: '10.0.2.1', name: 'consumer', namespace: 'dubbo', labels: { app: 'dubbo-consumer', 'metamesh.io/proxy': 'metaprotocol' } },
  plain: { ip: '10.0.2.2', name: 'plain', namespace: 'dubbo', labels: { app: 'plain' } },
  providerV1: { ip: '10.0.1.11', name: 'provider-v1', namespace: 'dubbo', labels: { app: 'dubbo-sample-provider', version: 'v1', 'metamesh.io/proxy': 'metaprotocol' } },
  providerV2: { ip: '10.0.1.12', name: 'provider-v2', namespace: 'dubbo', labels: { app: 'dubbo-sample-provider', version: 'v2' } },
  gateway: { type: 'router', ip: '10.0.3.1', name: 'ingressgateway', namespace: 'istio-system', labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' } },
} satisfies Record<string, ProxySpec>;

const LISTENER_DEADLINE_MS = 90_000;

let cluster: KubeCluster;

before(async () => {
  // istiod watches kinds of every Istio API group through k8s://: install all of Istio's CRDs.
  cluster = await startKube({ istioCrds: () => true, log: (l) => console.error(`# ${l}`) });
  await cluster.apply(NAMESPACES);
  await cluster.apply(RBAC);
  for (const f of ['dubbo.yaml', 'pods.yaml']) await cluster.apply(readFileSync(path.join(FIXTURES, f), 'utf8'));
});

after(async () => {
  await cluster?.stop();
  removeTemps();
});

/** Polls `check` on what `proxy` gets until it passes; fails with its last assertion at the deadline. */
async function eventuallyProxy(istiod: Istiod, proxy: ProxySpec, what: string, check: (d: ProxyConfigDump) => void): Promise<ProxyConfigDump> {
  let last: ProxyConfigDump | undefined;
  let fatal: Error | undefined;
  await pollUntil(`${proxy.name}.${proxy.namespace}: ${what}`, LISTENER_DEADLINE_MS, undefined, async () => {
    try {
      last = await istiod.proxy(proxy);
    } catch (e) {
      if (!(e as { fatal?: boolean }).fatal) throw e;
      fatal = e as Error;
      return true;
    }
    check(last);
    return true;
  });
  if (fatal) throw fatal;
  return last!;
}

/** The outbound listener of the Dubbo service on a labelled sidecar: the MetaProtocol Proxy with RDS from metamesh. */
function checkOutbound(d: ProxyConfigDump): void {
  const where = `${d.node} outbound ${DUBBO.vip}_${DUBBO.port}`;
  for (const cfg of metaProtocolProxies(where, chains(listener(d, `${DUBBO.vip}_${DUBBO.port}`)))) {
    assertRdsVia(where, cfg, DUBBO.route, XDS_CLUSTER);
    assert.equal((cfg.codec as { name?: string } | undefined)?.name, 'aeraki.meta_protocol.codec.dubbo', `${where}: codec`);
  }
  assert.ok(clusterNames(d).includes(XDS_CLUSTER), `${d.node} has no ${XDS_CLUSTER} cluster`);
}

/** The labelled, selected provider: every inbound chain of the service port runs the MetaProtocol Proxy. */
function checkInbound(d: ProxyConfigDump): void {
  const where = `${d.node} inbound ${DUBBO.port}`;
  const cs = inboundChains(d, DUBBO.port);
  for (const cfg of metaProtocolProxies(where, cs)) assert.equal(cfg.statPrefix, `inbound|${DUBBO.port}||`, `${where}: statPrefix`);
}

function checkGateway(d: ProxyConfigDump): void {
  const where = `${d.node} gateway 0.0.0.0_${DUBBO.port}`;
  for (const cfg of metaProtocolProxies(where, chains(listener(d, `0.0.0.0_${DUBBO.port}`)))) assertRdsVia(where, cfg, DUBBO.gatewayRoute, XDS_CLUSTER);
  assert.ok(clusterNames(d).includes(XDS_CLUSTER), `${d.node} has no ${XDS_CLUSTER} cluster`);
}

/** An unlabelled sidecar keeps tcp_proxy on the service's listener and gets no metamesh cluster. */
function checkUnlabelled(d: ProxyConfigDump): void {
  assertTcpProxy(`${d.node} outbound ${DUBBO.vip}_${DUBBO.port}`, chains(listener(d, `${DUBBO.vip}_${DUBBO.port}`)));
  assert.ok(!clusterNames(d).includes(XDS_CLUSTER), `${d.node} got the ${XDS_CLUSTER} cluster`);
}

/** A server of the service without the proxy label: its inbound chains keep tcp_proxy. */
function checkUnselectedServer(d: ProxyConfigDump): void {
  assertTcpProxy(`${d.node} inbound ${DUBBO.port}`, inboundChains(d, DUBBO.port));
}

/** Every listener check, against one istiod, whichever way its config came in. */
async function checkAllProxies(istiod: Istiod): Promise<void> {
  await eventuallyProxy(istiod, PROXIES.consumer, 'MetaProtocol Proxy on the outbound listener', checkOutbound);
  await eventuallyProxy(istiod, PROXIES.providerV1, 'MetaProtocol Proxy on the inbound chains and outbound', (d) => {
    checkInbound(d);
    checkOutbound(d);
  });
  await eventuallyProxy(istiod, PROXIES.gateway, 'MetaProtocol Proxy on the gateway listener', checkGateway);
  // Negative checks once the positive ones hold: istiod has the config, so these are not "not yet".
  checkUnlabelled(await istiod.proxy(PROXIES.plain));
  checkUnselectedServer(await istiod.proxy(PROXIES.providerV2));
}

const mcpSources = (m: MetameshProcess): ConfigSource[] => [{ address: `xds://${m.xdsAddress}` }, { address: 'k8s://' }];

describe('istiod with metamesh as its MCP config source (serve --mcp --kubeconfig)', () => {
  let metamesh: MetameshProcess;
  let istiod: Istiod;

  before(async () => {
    const options = tempDir('metamesh-e2e-istiod-options-');
    copyFileSync(OPTIONS, path.join(options, 'options.yaml'));
    metamesh = await startMetamesh(['--mcp', '--kubeconfig', cluster.readerKubeconfig, '-f', options], path.join(tempDir('metamesh-e2e-istiod-log-'), 'metamesh.log'));
    istiod = await startIstiod({ kubeconfig: cluster.kubeconfig, configSources: mcpSources(metamesh), log: (l) => console.error(`# ${l}`) });
  });

  after(async () => {
    await istiod?.stop();
    await metamesh?.kill();
  });

  test('labelled sidecars, the selected server and the gateway get the MetaProtocol Proxy with RDS via metamesh-xds; others keep tcp_proxy', async () => {
    await checkAllProxies(istiod);
    // Nothing of metamesh's is in the API server: the EnvoyFilters came over MCP.
    const inKube = await cluster.objects.list('networking.istio.io/v1alpha3', 'EnvoyFilter');
    assert.deepEqual(inKube.items, []);
  });

  test('istiod killed and started again reads everything again from metamesh', async () => {
    await istiod.kill();
    await istiod.start();
    await checkAllProxies(istiod);
  });

  test('metamesh killed while istiod runs: istiod keeps its config; once metamesh is back, istiod gets its changes', async () => {
    const drops = () => istiod.logText().split('connection closed with err').length - 1;
    const before = drops();
    await metamesh.kill();
    // istiod has seen its MCP stream end (its adsc client logs it) but keeps its config.
    await pollUntil('istiod to log the end of its MCP stream', 60_000, undefined, async () => drops() > before);
    await checkAllProxies(istiod);
    assert.ok((await istiod.configz()).some((o) => o.kind === 'EnvoyFilter' && o.metadata.name === `metamesh-outbound-${DUBBO_HOST}-20880`), 'istiod still holds the outbound EnvoyFilter');

    await metamesh.start();
    // A new Dubbo service while istiod reconnects: its listener changes only through metamesh.
    await cluster.apply(SECOND_SERVICE);
    await eventuallyProxy(istiod, PROXIES.consumer, 'the second service on the MetaProtocol Proxy', (d) => {
      const where = `${d.node} outbound 240.240.0.20_20881`;
      for (const cfg of metaProtocolProxies(where, chains(listener(d, '240.240.0.20_20881')))) assertRdsVia(where, cfg, 'org.example.second_20881', XDS_CLUSTER);
    });
    await checkAllProxies(istiod);
    await cluster.remove(SECOND_SERVICE);
  });

  test('istiod does not start while its MCP source is unreachable', async () => {
    const down = await createIstiod({ kubeconfig: cluster.kubeconfig, configSources: [{ address: 'xds://127.0.0.1:1' }, { address: 'k8s://' }] });
    try {
      await assert.rejects(down.start(), /exited|not within/);
    } finally {
      await down.stop();
    }
  });
});

const SECOND_SERVICE = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: second, namespace: dubbo}
spec:
  hosts: [org.example.second]
  addresses: [240.240.0.20]
  ports: [{number: 20881, name: tcp-metaprotocol-dubbo, protocol: TCP}]
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints: [{address: 10.0.1.21}]
---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: second, namespace: dubbo}
spec:
  hosts: [org.example.second]
  routes:
  - name: all
    route: [{destination: {host: org.example.second}}]
`;

describe('istiod reading what `metamesh generate -o manifests` prints, applied to the API server (k8s://)', () => {
  let istiod: Istiod;
  let manifests: string;

  before(async () => {
    const r = await runCli('generate', '-o', 'manifests', '-f', path.join(FIXTURES, 'dubbo.yaml'), '-f', OPTIONS);
    assert.equal(r.code, 0, r.err);
    manifests = r.out;
    await cluster.apply(manifests);
    istiod = await startIstiod({ kubeconfig: cluster.kubeconfig, configSources: [{ address: 'k8s://' }], log: (l) => console.error(`# ${l}`) });
  });

  after(async () => {
    await istiod?.stop();
    if (manifests) await cluster.remove(manifests);
  });

  test('the same listener checks hold', async () => {
    await checkAllProxies(istiod);
  });
});
