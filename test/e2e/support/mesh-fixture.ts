/**
 * The istiod e2e tests' mesh: a Dubbo ServiceEntry with a MetaRouter and an ingress Gateway
 * (test/e2e/istiod/fixtures/dubbo.yaml), examples/thrift.yaml (a Kubernetes Service, a MetaRouter
 * naming it by its short name, another Gateway), the pods of the test proxies
 * (fixtures/pods.yaml), and the listener checks every istiod
 * must pass whichever way metamesh's objects reached it (MCP, Kubernetes API). The checks poll
 * istiod with a deadline and assert content, never timing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot as root } from './kube-build.js';
import type { Istiod, ProxySpec } from './istiod.js';
import { pollUntil, startKube, type KubeCluster } from './kube.js';
import { assertRdsVia, assertTcpProxy, chains, clusterNames, inboundChains, listener, metaProtocolProxies, type ProxyConfigDump } from './listeners.js';

const FIXTURES_DIR = path.join(root, 'test/e2e/istiod/fixtures');
export const FIXTURES = FIXTURES_DIR;
export const OPTIONS = path.join(root, 'examples/options.yaml');
const RBAC = readFileSync(path.join(root, 'deploy/rbac/read-config.yaml'), 'utf8');
const NAMESPACES = ['dubbo', 'meta-thrift', 'istio-system'].map((n) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${n}}\n`).join('---\n');
export const XDS_CLUSTER = 'metamesh-xds';

export const DUBBO_HOST = 'org.apache.dubbo.samples.basic.api.demoservice';
export const DUBBO = { vip: '240.240.0.10', port: 20880, route: `${DUBBO_HOST}_20880`, gatewayRoute: `gateway/istio-system/dubbo-ingress/${DUBBO_HOST}_20880` };
/** examples/thrift.yaml: a Kubernetes Service, a MetaRouter with a short host, the gateway istio-system/ingress. */
const THRIFT_HOST = 'thrift-sample-server.meta-thrift.svc.cluster.local';
export const THRIFT = { clusterIp: '10.96.12.34', port: 9090, route: `${THRIFT_HOST}_9090`, gatewayRoute: `gateway/istio-system/ingress/${THRIFT_HOST}_9090` };
/** The manifests of the mesh, the input of `metamesh generate` and of metamesh's files source. */
export const MESH_FILES = [path.join(FIXTURES_DIR, 'dubbo.yaml'), path.join(root, 'examples/thrift.yaml')];

/** The test proxies; each is a Pod of fixtures/pods.yaml with the same name and labels. */
export const PROXIES = {
  consumer: { ip: '10.0.2.1', name: 'consumer', namespace: 'dubbo', labels: { app: 'dubbo-consumer', 'metamesh.io/proxy': 'metaprotocol' } },
  plain: { ip: '10.0.2.2', name: 'plain', namespace: 'dubbo', labels: { app: 'plain' } },
  providerV1: { ip: '10.0.1.11', name: 'provider-v1', namespace: 'dubbo', labels: { app: 'dubbo-sample-provider', version: 'v1', 'metamesh.io/proxy': 'metaprotocol' } },
  providerV2: { ip: '10.0.1.12', name: 'provider-v2', namespace: 'dubbo', labels: { app: 'dubbo-sample-provider', version: 'v2' } },
  thriftServer: { ip: '10.0.4.1', name: 'thrift-server', namespace: 'meta-thrift', labels: { app: 'thrift-sample-server', version: 'v1', 'metamesh.io/proxy': 'metaprotocol' } },
  gateway: { type: 'router', ip: '10.0.3.1', name: 'ingressgateway', namespace: 'istio-system', labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' } },
} satisfies Record<string, ProxySpec>;

const LISTENER_DEADLINE_MS = 90_000;

/**
 * A kube-apiserver with every Istio CRD (istiod watches kinds of every Istio API group through
 * k8s://), the namespaces, metamesh's read RBAC, the Dubbo service and the pods.
 */
export async function startMeshCluster(): Promise<KubeCluster> {
  const cluster = await startKube({ istioCrds: () => true, log: (l) => console.error(`# ${l}`) });
  try {
    await cluster.apply(NAMESPACES);
    await cluster.apply(RBAC);
    for (const f of [...MESH_FILES, path.join(FIXTURES, 'pods.yaml')]) await cluster.apply(readFileSync(f, 'utf8'));
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/** Polls `check` on what `proxy` gets until it passes; fails with its last assertion at the deadline. */
export async function eventuallyProxy(istiod: Istiod, proxy: ProxySpec, what: string, check: (d: ProxyConfigDump) => void): Promise<ProxyConfigDump> {
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

/** A MetaProtocol service of the fixtures, and what istiod's listeners for it must hold. */
interface Service {
  readonly what: string;
  /** The outbound listener, `<vip>_<port>`. */
  readonly outbound: string;
  readonly port: number;
  readonly codec: string;
  /** The RDS route names of the sidecars and of the gateway. */
  readonly route: string;
  readonly gatewayRoute: string;
}

const SERVICES: readonly Service[] = [
  { what: 'Dubbo ServiceEntry', outbound: `${DUBBO.vip}_${DUBBO.port}`, port: DUBBO.port, codec: 'aeraki.meta_protocol.codec.dubbo', route: DUBBO.route, gatewayRoute: DUBBO.gatewayRoute },
  {
    what: 'Thrift Kubernetes Service',
    outbound: `${THRIFT.clusterIp}_${THRIFT.port}`,
    port: THRIFT.port,
    codec: 'aeraki.meta_protocol.codec.thrift',
    route: THRIFT.route,
    gatewayRoute: THRIFT.gatewayRoute,
  },
];

/** A labelled sidecar: the MetaProtocol Proxy with RDS from metamesh on the service's outbound listener. */
function checkOutbound(d: ProxyConfigDump, s: Service): void {
  const where = `${d.node} outbound ${s.outbound} (${s.what})`;
  for (const cfg of metaProtocolProxies(where, chains(listener(d, s.outbound)))) {
    assertRdsVia(where, cfg, s.route, XDS_CLUSTER);
    assert.equal((cfg.codec as { name?: string } | undefined)?.name, s.codec, `${where}: codec`);
  }
  assertOneXdsCluster(d);
}

/** The labelled, selected server: every inbound chain of the service port runs the MetaProtocol Proxy. */
function checkInbound(d: ProxyConfigDump, s: Service): void {
  const where = `${d.node} inbound ${s.port} (${s.what})`;
  for (const cfg of metaProtocolProxies(where, inboundChains(d, s.port))) assert.equal(cfg.statPrefix, `inbound|${s.port}||`, `${where}: statPrefix`);
}

function checkGateway(d: ProxyConfigDump, s: Service): void {
  const where = `${d.node} gateway 0.0.0.0_${s.port} (${s.what})`;
  for (const cfg of metaProtocolProxies(where, chains(listener(d, `0.0.0.0_${s.port}`)))) assertRdsVia(where, cfg, s.gatewayRoute, XDS_CLUSTER);
  assertOneXdsCluster(d);
}

/** The metamesh-xds cluster, exactly once (Envoy refuses a CDS response naming a cluster twice). */
function assertOneXdsCluster(d: ProxyConfigDump): void {
  assert.equal(clusterNames(d).filter((n) => n === XDS_CLUSTER).length, 1, `${d.node}: the ${XDS_CLUSTER} cluster, once`);
}

/** An unlabelled sidecar keeps tcp_proxy on the service's listener and gets no metamesh cluster. */
function checkUnlabelled(d: ProxyConfigDump, s: Service): void {
  assertTcpProxy(`${d.node} outbound ${s.outbound} (${s.what})`, chains(listener(d, s.outbound)));
  assert.ok(!clusterNames(d).includes(XDS_CLUSTER), `${d.node} got the ${XDS_CLUSTER} cluster`);
}

/** Every listener check, against one istiod, whichever way its config came in. */
export async function checkAllProxies(istiod: Istiod): Promise<void> {
  const [dubbo, thrift] = SERVICES as [Service, Service];
  await eventuallyProxy(istiod, PROXIES.consumer, 'MetaProtocol Proxy on the outbound listeners', (d) => SERVICES.forEach((s) => checkOutbound(d, s)));
  await eventuallyProxy(istiod, PROXIES.providerV1, 'MetaProtocol Proxy on the inbound chains and outbound', (d) => {
    checkInbound(d, dubbo);
    SERVICES.forEach((s) => checkOutbound(d, s));
  });
  await eventuallyProxy(istiod, PROXIES.thriftServer, 'MetaProtocol Proxy on the inbound chains', (d) => checkInbound(d, thrift));
  await eventuallyProxy(istiod, PROXIES.gateway, 'MetaProtocol Proxy on the gateway listeners', (d) => SERVICES.forEach((s) => checkGateway(d, s)));
  // Negative checks once the positive ones hold: istiod has the config, so these are not "not yet".
  const plain = await istiod.proxy(PROXIES.plain);
  SERVICES.forEach((s) => checkUnlabelled(plain, s));
  // A server of the Dubbo service without the proxy label: its inbound chains keep tcp_proxy.
  const unselected = await istiod.proxy(PROXIES.providerV2);
  assertTcpProxy(`${unselected.node} inbound ${dubbo.port}`, inboundChains(unselected, dubbo.port));
}
