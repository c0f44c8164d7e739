/**
 * metamesh's EnvoyFilters as a real istiod applies them, through both ways into istiod:
 *
 *  - the MCP sink: `metamesh serve --mcp` reads its configuration from a real kube-apiserver (as
 *    the ServiceAccount istio-system/metamesh, with deploy/rbac/read-config.yaml) and istiod reads
 *    metamesh as its first `configSources` entry (`xds://`), then `k8s://`;
 *  - objects in the Kubernetes API: what `metamesh generate -o manifests` prints for the same
 *    inputs, applied to the API server, with istiod reading `k8s://` only; and what the apply sink
 *    (`metamesh serve --apply`, with the chart's RBAC) writes there itself.
 *
 * Both istiods are real (pilot-discovery built from istio.io/istio, support/istiod-build.ts); the
 * test asks them for what proxies get as pilot-agent would (an ADS client with pilot-agent's node
 * metadata; the pods exist in the API server, with no kubelet to run them) and checks the listeners: the
 * MetaProtocol Proxy with RDS via the metamesh-xds cluster on the outbound listener of labelled
 * sidecars, on the inbound chains of the selected labelled servers and on the gateway's listener;
 * tcp_proxy everywhere else. Also: istiod killed and restarted reads everything again from
 * metamesh; metamesh killed while istiod runs leaves istiod's config in place, and istiod picks up
 * changes once metamesh is back; what metamesh stops generating is deleted in istiod; an
 * address-less ServiceEntry re-served by metamesh wins only with xds:// listed first; with
 * --mcp-revision, only an istiod of that revision applies what metamesh serves. Every wait is a
 * deadline on a condition.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ISTIOD_TYPE_URLS } from '../../src/mcp/types.js';
import type { XdsDebugBody } from '../../src/runtime/debug.js';
import { runCli } from '../support/cli.js';
import { removeTemps, tempDir } from '../support/xds.js';
import { checkAllProxies, DUBBO, DUBBO_HOST, eventuallyProxy, FIXTURES, MESH_FILES, OPTIONS, PROXIES, startMeshCluster, XDS_CLUSTER } from './support/mesh-fixture.js';
import { createIstiod, startIstiod, type ConfigSource, type Istiod } from './support/istiod.js';
import { pollUntil, type KubeCluster } from './support/kube.js';
import { assertRdsVia, assertTcpProxy, chains, listener, META_PROTOCOL_PROXY, metaProtocolProxies } from './support/listeners.js';
import { startMetamesh, type MetameshProcess } from './support/metamesh.js';
import { adminClient, chartRbac, listIstio, OURS } from './support/apply.js';

let cluster: KubeCluster;

before(async () => {
  cluster = await startMeshCluster();
});

after(async () => {
  await cluster?.stop();
  removeTemps();
});

const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
const SECOND_SERVICE = fixture('second.yaml');
const NO_ADDRESS = fixture('no-address.yaml');

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
    // istiod's one stream to metamesh: every type URL it opened is one metamesh knows, none NACKed,
    // and the EnvoyFilters it ACKed are metamesh's, by name.
    const views = ((await metamesh.debugXds()) as XdsDebugBody).streams.filter((v) => v.typeUrl !== '' && !v.typeUrl.startsWith('type.googleapis.com/'));
    assert.deepEqual([...new Set(views.map((v) => v.typeUrl))].sort(), [...ISTIOD_TYPE_URLS].sort());
    assert.equal(new Set(views.map((v) => v.id)).size, 1, 'one istiod stream');
    assert.deepEqual(views.filter((v) => v.nackCount > 0), []);
    const filters = views.find((v) => v.typeUrl === 'networking.istio.io/v1alpha3/EnvoyFilter')!;
    assert.deepEqual(Object.keys(filters.ackedVersions).sort(), [
      `dubbo/metamesh-inbound-${DUBBO_HOST}-20880`,
      'istio-system/metamesh-gateway-istio-system.dubbo-ingress-20880',
      'istio-system/metamesh-gateway-istio-system.ingress-9090',
      `istio-system/metamesh-outbound-${DUBBO_HOST}-20880`,
      'istio-system/metamesh-outbound-thrift-sample-server.meta-thrift.svc.cluster.local-9090',
      'istio-system/metamesh-xds-cluster',
      'istio-system/metamesh-xds-cluster-istio-system.dubbo-ingress',
      'istio-system/metamesh-xds-cluster-istio-system.ingress',
      'meta-thrift/metamesh-inbound-thrift-sample-server.meta-thrift.svc.cluster.local-9090',
    ]);
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
    await secondServiceOnMetaProtocol(istiod);
    await checkAllProxies(istiod);
  });

  test('what metamesh stops generating is deleted in istiod: the listener goes back to tcp_proxy', async () => {
    await cluster.apply(SECOND_SERVICE);
    await secondServiceOnMetaProtocol(istiod);
    // Its port is no longer a MetaProtocol port: metamesh drops its EnvoyFilter from the complete
    // set it serves; the ServiceEntry stays, so the listener stays.
    await cluster.apply(SECOND_SERVICE.replace('name: tcp-metaprotocol-dubbo', 'name: tcp-plain'));
    await eventuallyProxy(istiod, PROXIES.consumer, 'tcp_proxy back on 240.240.0.20_20881', (d) => assertTcpProxy(`${d.node} outbound 240.240.0.20_20881`, chains(listener(d, '240.240.0.20_20881'))));
    assert.ok(!(await istiod.configz()).some((o) => o.kind === 'EnvoyFilter' && o.metadata.name === 'metamesh-outbound-org.example.second-20881'), 'istiod still holds the EnvoyFilter');
    await cluster.remove(SECOND_SERVICE);
    await checkAllProxies(istiod);
  });

  test('a ServiceEntry without an address: metamesh re-serves it with a VIP, and that copy wins only with xds:// listed before k8s://', async () => {
    await cluster.apply(NO_ADDRESS);
    try {
      const vip = await reservedVip(istiod);
      await eventuallyProxy(istiod, PROXIES.consumer, `the MetaProtocol Proxy on ${vip}_20882`, (d) => {
        const where = `${d.node} outbound ${vip}_20882`;
        for (const cfg of metaProtocolProxies(where, chains(listener(d, `${vip}_20882`)))) assertRdsVia(where, cfg, 'org.example.noaddr_20882', XDS_CLUSTER);
      });

      // The same sources the other way round: istiod keeps the address-less original.
      const k8sFirst = await startIstiod({ kubeconfig: cluster.kubeconfig, configSources: [...mcpSources(metamesh)].reverse(), log: (l) => console.error(`# ${l}`) });
      try {
        await pollUntil('the k8s-first istiod to hold the outbound EnvoyFilter for noaddr', 60_000, undefined, async () => (await k8sFirst.configz()).some((o) => o.kind === 'EnvoyFilter' && o.metadata.name === 'metamesh-outbound-org.example.noaddr-20882'));
        const se = (await k8sFirst.configz()).find((o) => o.kind === 'ServiceEntry' && o.metadata.name === 'noaddr');
        assert.ok(se, 'the k8s-first istiod holds ServiceEntry dubbo/noaddr');
        assert.deepEqual((se as { spec?: { addresses?: string[] } }).spec?.addresses ?? [], [], 'the k8s-first istiod holds the original, without an address');
        const d = await k8sFirst.proxy(PROXIES.consumer);
        assert.ok(!d.listeners.some((l) => l.name === `${vip}_20882`), `the k8s-first istiod made a ${vip}_20882 listener`);
        for (const l of d.listeners) {
          for (const c of chains(l)) assert.ok(!c.filters.some((f) => f.name === META_PROTOCOL_PROXY && JSON.stringify(f.config).includes('org.example.noaddr')), `${String(l.name)} carries the MetaProtocol Proxy for noaddr`);
        }
      } finally {
        await k8sFirst.stop();
      }
    } finally {
      await cluster.remove(NO_ADDRESS);
    }
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


/** fixtures/second.yaml's service has the MetaProtocol Proxy on the consumer's outbound listener. */
async function secondServiceOnMetaProtocol(istiod: Istiod): Promise<void> {
  await eventuallyProxy(istiod, PROXIES.consumer, 'the second service on the MetaProtocol Proxy', (d) => {
    const where = `${d.node} outbound 240.240.0.20_20881`;
    for (const cfg of metaProtocolProxies(where, chains(listener(d, '240.240.0.20_20881')))) assertRdsVia(where, cfg, 'org.example.second_20881', XDS_CLUSTER);
  });
}

/** The address istiod holds for dubbo/noaddr: metamesh's, as its annotation says. */
async function reservedVip(istiod: Istiod): Promise<string> {
  let vip = '';
  await pollUntil("istiod to hold metamesh's copy of dubbo/noaddr", 60_000, undefined, async () => {
    const se = (await istiod.configz()).find((o) => o.kind === 'ServiceEntry' && o.metadata.name === 'noaddr') as { metadata: { annotations?: Record<string, string> }; spec?: { addresses?: string[] } } | undefined;
    vip = se?.spec?.addresses?.[0] ?? '';
    if (vip) assert.equal(se?.metadata.annotations?.['metamesh.io/allocated-address'], vip);
    return vip !== '';
  });
  return vip;
}

describe('istiod reading what `metamesh generate -o manifests` prints, applied to the API server (k8s://)', () => {
  let istiod: Istiod;
  let manifests: string;

  before(async () => {
    const r = await runCli('generate', '-o', 'manifests', ...MESH_FILES.flatMap((f) => ['-f', f]), '-f', OPTIONS);
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

describe('istiod reading what `metamesh serve --apply` writes to the API server (k8s://)', () => {
  let metamesh: MetameshProcess;
  let istiod: Istiod;
  let admin: ReturnType<typeof adminClient>;
  const ours = async () => [...(await listIstio(admin, 'envoyfilters', OURS)), ...(await listIstio(admin, 'virtualservices', OURS))];

  before(async () => {
    admin = adminClient(cluster.kubeconfig);
    // The chart's roles for reading and for the apply sink, bound to istio-system/metamesh.
    await cluster.apply(chartRbac({ kubernetes: true, apply: true }));
    const options = tempDir('metamesh-e2e-istiod-apply-options-');
    copyFileSync(OPTIONS, path.join(options, 'options.yaml'));
    metamesh = await startMetamesh(['--kubeconfig', cluster.readerKubeconfig, '--mesh-config', 'none', '--apply', '-f', options], path.join(tempDir('metamesh-e2e-istiod-apply-log-'), 'metamesh.log'));
    await pollUntil('metamesh\'s EnvoyFilters applied', 60_000, undefined, async () => (await ours()).length > 0);
    istiod = await startIstiod({ kubeconfig: cluster.kubeconfig, configSources: [{ address: 'k8s://' }], log: (l) => console.error(`# ${l}`) });
  });

  after(async () => {
    await istiod?.stop();
    await metamesh?.kill();
    // What the sink wrote would otherwise reach the istiods of the tests that follow through k8s://.
    for (const o of admin ? await ours() : []) {
      const version = o.kind === 'EnvoyFilter' ? 'v1alpha3' : 'v1';
      await admin.request({ method: 'DELETE', path: `/apis/networking.istio.io/${version}/namespaces/${o.metadata.namespace}/${o.kind === 'EnvoyFilter' ? 'envoyfilters' : 'virtualservices'}/${o.metadata.name}` });
    }
  });

  test('the same listener checks hold, on objects the sink labelled as its own instance\'s', async () => {
    await checkAllProxies(istiod);
    for (const o of await ours()) {
      assert.equal(o.metadata.labels['metamesh.io/instance'], 'metamesh');
      assert.deepEqual((o.metadata.managedFields as Array<{ manager: string; operation: string }>).map((f) => `${f.manager}/${f.operation}`), ['metamesh/Apply']);
    }
  });
});

describe('a revisioned istiod and serve --mcp-revision', () => {
  let metamesh: MetameshProcess;

  before(async () => {
    metamesh = await startMetamesh(['--mcp', '--mcp-revision', 'canary', ...MESH_FILES.flatMap((f) => ['-f', f]), '-f', OPTIONS], path.join(tempDir('metamesh-e2e-rev-'), 'metamesh.log'));
  });

  after(async () => {
    await metamesh?.kill();
  });

  test('istiod of revision canary applies what metamesh labels istio.io/rev: canary; istiod of revision default ignores it', async () => {
    const canary = await startIstiod({ kubeconfig: cluster.kubeconfig, configSources: mcpSources(metamesh), revision: 'canary' });
    try {
      await checkAllProxies(canary);
    } finally {
      await canary.stop();
    }
    const other = await startIstiod({ kubeconfig: cluster.kubeconfig, configSources: mcpSources(metamesh) });
    try {
      // Ready means every type URL was answered: it has read metamesh's sets, and kept none of them.
      assert.deepEqual((await other.configz()).filter((o) => o.kind === 'EnvoyFilter'), []);
      const d = await other.proxy(PROXIES.consumer);
      assertTcpProxy(`${d.node} outbound ${DUBBO.vip}_${DUBBO.port}`, chains(listener(d, `${DUBBO.vip}_${DUBBO.port}`)));
    } finally {
      await other.stop();
    }
  });
});
