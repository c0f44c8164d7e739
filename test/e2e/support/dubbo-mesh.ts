/**
 * The istiod e2e tests' mesh (test/e2e/istiod/fixtures/): a Dubbo ServiceEntry with a MetaRouter
 * and an ingress Gateway, the pods of five test proxies, and the listener checks every istiod
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

export const FIXTURES = path.join(root, 'test/e2e/istiod/fixtures');
export const OPTIONS = path.join(root, 'examples/options.yaml');
const RBAC = readFileSync(path.join(root, 'deploy/rbac/read-config.yaml'), 'utf8');
const NAMESPACES = ['dubbo', 'istio-system'].map((n) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${n}}\n`).join('---\n');
export const XDS_CLUSTER = 'metamesh-xds';

export const DUBBO_HOST = 'org.apache.dubbo.samples.basic.api.demoservice';
export const DUBBO = { vip: '240.240.0.10', port: 20880, route: `${DUBBO_HOST}_20880`, gatewayRoute: `gateway/istio-system/dubbo-ingress/${DUBBO_HOST}_20880` };

/** The test proxies; each is a Pod of fixtures/pods.yaml with the same name and labels. */
export const PROXIES = {
  consumer: { ip: '10.0.2.1', name: 'consumer', namespace: 'dubbo', labels: { app: 'dubbo-consumer', 'metamesh.io/proxy': 'metaprotocol' } },
  plain: { ip: '10.0.2.2', name: 'plain', namespace: 'dubbo', labels: { app: 'plain' } },
  providerV1: { ip: '10.0.1.11', name: 'provider-v1', namespace: 'dubbo', labels: { app: 'dubbo-sample-provider', version: 'v1', 'metamesh.io/proxy': 'metaprotocol' } },
  providerV2: { ip: '10.0.1.12', name: 'provider-v2', namespace: 'dubbo', labels: { app: 'dubbo-sample-provider', version: 'v2' } },
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
    for (const f of ['dubbo.yaml', 'pods.yaml']) await cluster.apply(readFileSync(path.join(FIXTURES, f), 'utf8'));
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
export async function checkAllProxies(istiod: Istiod): Promise<void> {
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
