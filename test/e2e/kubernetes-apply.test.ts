/**
 * The apply sink and the status writer of `metamesh serve` against a real kube-apiserver (+ etcd),
 * as the ServiceAccount istio-system/metamesh with only the RBAC the Helm chart renders.
 *
 * The reference for what must be in the cluster is `metamesh generate` of the same objects: each
 * object applied to the cluster is read back and written into a directory (as in
 * kubernetes-source.test.ts), and generate's EnvoyFilters, VirtualServices and ServiceEntries must
 * be what the cluster holds of metamesh's. "No duplicate writes" is checked on resourceVersions;
 * every wait is a deadline on a condition.
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Running } from '../../src/runtime/serve.js';
import { loadKubeConfig } from '../../src/store/kubernetes/config.js';
import { HttpKubeClient } from '../../src/store/kubernetes/http-client.js';
import { parseExposition } from '../support/prom.js';
import { removeTemps, start, tempDir, type Logs } from '../support/xds.js';
import { ClusterMirror } from './support/mirror.js';
import { adminClient, chartRbac, eventually, generateJson, getObject, key, listIstio, OURS, type Json } from './support/apply.js';

/** This instance's objects (the default instance name). */
const MINE = `${OURS},metamesh.io/instance=metamesh`;
import { startKube, type KubeCluster } from './support/kube.js';


let cluster: KubeCluster;
let admin: HttpKubeClient;
let mirror: string;
let applied: Map<string, string>;
let examples: ClusterMirror;

before(async () => {
  cluster = await startKube({ log: (l) => console.error(`# ${l}`) });
  admin = adminClient(cluster.kubeconfig);
  examples = await ClusterMirror.ofExamples(cluster, 'metamesh-e2e-apply-mirror-');
  mirror = examples.dir;
  applied = examples.applied;
});

after(async () => {
  await cluster?.stop();
  removeTemps();
});

/** Applies one object and mirrors it as read back from the API server (support/mirror.ts). */
const put = (yaml: string): Promise<string> => examples.put(yaml);
const drop = (file: string): Promise<void> => examples.drop(file);

type Srv = Running & { logs: Logs };

/** serve --kubernetes --apply --status, as metamesh's ServiceAccount. */
async function serveApplying(syncTimeoutMs = 60_000): Promise<Srv> {
  const loaded = loadKubeConfig(cluster.readerKubeconfig);
  if ('error' in loaded) throw new Error(loaded.error);
  const client = new HttpKubeClient(loaded.kc);
  const optionsOnly = tempDir('metamesh-e2e-apply-options-');
  copyFileSync(path.join(mirror, 'options.yaml'), path.join(optionsOnly, 'options.yaml'));
  return start(optionsOnly, {
    kubernetes: { client, meshConfig: undefined, syncTimeoutMs, backoff: { initialMs: 100, maxMs: 1000 } },
    writes: { client, apply: true, status: true, instance: 'metamesh', fieldManager: 'metamesh', debounceMs: 50, backoff: { initialMs: 100, maxMs: 1000 } },
  });
}

/** What generate prints for the mirror, as the objects metamesh must own or amend in the cluster. */
async function expected(): Promise<{ owned: Map<string, Json>; amended: Map<string, Json> }> {
  const out = await generateJson(mirror);
  const owned = new Map<string, Json>();
  for (const o of [...out.envoyFilters, ...out.virtualServices]) owned.set(key(o), o);
  const amended = new Map<string, Json>(out.serviceEntries.map((o) => [key(o), o]));
  return { owned, amended };
}

/** Asserts the cluster holds exactly what generate prints (throws the difference). */
async function converged(): Promise<boolean> {
  const want = await expected();
  const ours = [...(await listIstio(admin, 'envoyfilters', MINE)), ...(await listIstio(admin, 'virtualservices', MINE))];
  assert.deepEqual(ours.map(key).sort(), [...want.owned.keys()].sort(), 'metamesh\'s objects are generate\'s');
  for (const o of ours) {
    const w = want.owned.get(key(o))!;
    assert.deepEqual(o.spec, w.spec, `${key(o)} spec`);
    assert.equal(o.metadata.labels['metamesh.io/instance'], 'metamesh');
    for (const [k, v] of Object.entries(w.metadata.labels ?? {})) assert.equal(o.metadata.labels[k], v, `${key(o)} label ${k}`);
  }
  for (const [k, w] of want.amended) {
    const [ns, name] = k.split(' ')[1]!.split('/');
    const se = (await getObject(admin, `/apis/networking.istio.io/v1/namespaces/${ns}/serviceentries/${name}`))!;
    assert.deepEqual(se.spec.addresses, w.spec.addresses, `${k} addresses`);
    assert.equal(se.metadata.annotations['metamesh.io/allocated-address'], w.spec.addresses[0]);
    assert.equal(se.metadata.annotations['metamesh.io/amended-by'], 'metamesh');
    assert.equal(se.metadata.labels?.['app.kubernetes.io/managed-by'], undefined, 'a user\'s ServiceEntry is amended, not taken over');
  }
  return true;
}

async function metaRouter(ns: string, name: string): Promise<Json> {
  return (await getObject(admin, `/apis/metaprotocol.aeraki.io/v1alpha1/namespaces/${ns}/metarouters/${name}`))!;
}

function condition(o: Json, type: string): Json | undefined {
  return (o.status?.conditions ?? []).find((c: Json) => c.type === type);
}

/** resourceVersion of every object metamesh owns or amended, by key. */
async function versions(): Promise<Map<string, string>> {
  const all = [...(await listIstio(admin, 'envoyfilters', MINE)), ...(await listIstio(admin, 'virtualservices', MINE)), ...(await listIstio(admin, 'serviceentries'))];
  return new Map(all.map((o) => [key(o), o.metadata.resourceVersion as string]));
}

const sinkDebug = (srv: Srv): Json => srv.writes!.debug() as Json;

describe('serve --apply --status against a real kube-apiserver, with the chart\'s RBAC', () => {
  test('without the chart\'s apply permissions nothing is written and the sink says why; with them, the cluster converges to generate\'s output', async () => {
    await cluster.apply(chartRbac({ kubernetes: true, status: true, leaderElection: true }));
    const srv = await serveApplying(2000);
    try {
      await eventually('the sink to report it cannot list its objects', () => (sinkDebug(srv).sink.diagnostics as Json[]).some((d) => d.code === 'MM_SINK_NOT_READY' && /sink envoyfilters/.test(d.message)));
      assert.deepEqual(await listIstio(admin, 'envoyfilters'), [], 'nothing written');
      assert.equal(srv.writes!.sink!.counters.applies, 0);
      const forbidden = (srv.writes!.live!.inputs()).filter((i) => i.state === 'unsynced');
      assert.ok(forbidden.length >= 2 && forbidden.every((i) => /forbidden/.test(i.detail ?? '')), JSON.stringify(forbidden));

      await cluster.apply(chartRbac({ kubernetes: true, apply: true, status: true, leaderElection: true }));
      await eventually('the cluster to hold generate\'s objects', converged, 60_000);
      // Every MetaRouter and ApplicationProtocol got its status, for its generation.
      await eventually('the MetaRouter status', async () => {
        const mr = await metaRouter('dubbo', 'demoservice');
        return condition(mr, 'Accepted')?.status === 'True' && condition(mr, 'Programmed')?.status === 'True' && mr.status.observedGeneration === mr.metadata.generation;
      });
      // /metrics counts each object the sink created, by kind, and no failed write.
      const scraped = parseExposition((await srv.metrics.render()).text);
      const created = (kind: string) => scraped.value('metamesh_sink_objects_written_total', { sink: 'kubernetes', kind, operation: 'create' }) ?? 0;
      assert.equal(created('EnvoyFilter'), (await listIstio(admin, 'envoyfilters', MINE)).length, 'EnvoyFilters created, as counted');
      assert.equal(created('VirtualService'), (await listIstio(admin, 'virtualservices', MINE)).length, 'VirtualServices created, as counted');
      assert.equal(scraped.all('metamesh_sink_write_errors_total', { sink: 'kubernetes' }).reduce((n, x) => n + x.value, 0), 0, 'no failed write counted');
      // Idle: a further pass writes nothing.
      const rv = await versions();
      const applies = srv.writes!.sink!.counters.applies;
      srv.writes!.trigger(0);
      await eventually('another pass', () => srv.writes!.sink!.counters.passes > 0 && (sinkDebug(srv).sink.lastPass?.unchanged ?? 0) > 0);
      assert.equal(srv.writes!.sink!.counters.applies, applies, 'an idle pass writes nothing');
      assert.deepEqual(await versions(), rv);
    } finally {
      await srv.close();
    }
  });
});

describe('serve --apply --status follows changes', () => {
  test('a changed and a deleted ServiceEntry converge; only changed objects are written; objects not this instance\'s are never touched', async () => {
    const foreign = 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: users-own-filter, namespace: istio-system}\nspec: {configPatches: []}\n';
    const otherInstance = 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: other-install, namespace: istio-system, labels: {app.kubernetes.io/managed-by: metamesh, metamesh.io/instance: other}}\nspec: {configPatches: []}\n';
    await cluster.apply(foreign);
    await cluster.apply(otherInstance);
    const srv = await serveApplying();
    try {
      await eventually('converged', converged, 60_000);
      const untouched = async () => {
        const all = await listIstio(admin, 'envoyfilters');
        return new Map(all.filter((o) => ['users-own-filter', 'other-install'].includes(o.metadata.name)).map((o) => [o.metadata.name as string, o.metadata.resourceVersion as string]));
      };
      const foreignBefore = await untouched();
      assert.equal(foreignBefore.size, 2);
      const before = await versions();

      // Change the Thrift Service's port: its EnvoyFilters move to the new port.
      const thriftFile = [...applied.keys()].find((f) => f.startsWith('Service-meta-thrift-'))!;
      const thriftYaml = applied.get(thriftFile)!;
      assert.match(thriftYaml, /port: 9090/);
      await put(thriftYaml.replaceAll('9090', '9191'));
      await eventually('converged after the change', converged, 60_000);
      const after1 = await versions();
      const changed = [...after1].filter(([k, v]) => before.has(k) && before.get(k) !== v).map(([k]) => k);
      // Of metamesh's objects only Thrift's were written (and the gateway's, which routes to it).
      assert.ok(changed.length > 0 && changed.every((k) => /thrift|gateway/.test(k)), `only the Thrift objects were written: ${changed.join(', ')}`);
      assert.ok([...after1.keys()].some((k) => k.includes('thrift-sample-server.meta-thrift.svc.cluster.local-9191')));

      // Delete the video ServiceEntry: its EnvoyFilters go.
      const videoFile = [...applied.keys()].find((f) => f.startsWith('ServiceEntry-video-'))!;
      const videoYaml = applied.get(videoFile)!;
      await drop(videoFile);
      await eventually('converged after the deletion', converged, 60_000);
      assert.ok(![...(await versions()).keys()].some((k) => k.includes('video-server')));
      assert.deepEqual(await untouched(), foreignBefore, 'the user\'s and the other instance\'s EnvoyFilters are untouched');
      assert.equal(srv.writes!.sink!.counters.failures, 0);

      // Put things back for the tests that follow.
      await put(videoYaml);
      await put(thriftYaml);
      await eventually('converged again', converged, 60_000);
    } finally {
      await srv.close();
      await cluster.remove(foreign);
      await cluster.remove(otherInstance);
    }
  });

  test('an invalid MetaRouter is reported in its status (Accepted False) for its generation; fixed, it is accepted again', async () => {
    const srv = await serveApplying();
    try {
      await eventually('converged', converged, 60_000);
      const bad = 'apiVersion: metaprotocol.aeraki.io/v1alpha1\nkind: MetaRouter\nmetadata: {name: too-fast, namespace: video}\nspec:\n  hosts: [video-server.video.svc.cluster.local]\n  localRateLimit:\n    tokenBucket: {maxTokens: 10, tokensPerFill: 10, fillInterval: 10ms}\n';
      await cluster.apply(bad);
      await eventually('the invalid MetaRouter\'s status', async () => {
        const mr = await metaRouter('video', 'too-fast');
        const accepted = condition(mr, 'Accepted');
        return accepted?.status === 'False' && accepted.reason === 'Invalid' && /MM_RATELIMIT_LOCAL/.test(accepted.message) && mr.status.observedGeneration === mr.metadata.generation && condition(mr, 'Programmed')?.status === 'False';
      });
      const writes = srv.writes!.status!.writes;
      await cluster.apply(bad.replace('10ms', '1s'));
      await eventually('accepted after the fix', async () => {
        const mr = await metaRouter('video', 'too-fast');
        return condition(mr, 'Accepted')?.status === 'True' && mr.status.observedGeneration === mr.metadata.generation && mr.metadata.generation === 2;
      });
      const mr = await metaRouter('video', 'too-fast');
      assert.equal(condition(mr, 'Accepted')!.observedGeneration, 2);
      // One write per change of status: the fix took exactly one more.
      await eventually('the status writer idle', () => srv.writes!.status!.writes === writes + 1);
      const fields = (mr.metadata.managedFields as Json[]).filter((f) => f.subresource === 'status');
      assert.deepEqual(fields.map((f) => `${f.manager}/${f.operation}`), ['metamesh/Apply'], 'the status is metamesh\'s, by server-side apply');
      await cluster.remove(bad);
    } finally {
      await srv.close();
    }
  });

  test('an API server restart mid-run: nothing is written while it is down, nothing rewritten after it, and changes after it converge', async () => {
    const srv = await serveApplying();
    try {
      await eventually('converged', converged, 60_000);
      const before = await versions();
      const applies = srv.writes!.sink!.counters.applies;
      await cluster.stopApiserver('kill');
      await eventually('the sink to see its watches fail', () => srv.writes!.live!.inputs().every((i) => i.state === 'stale'));
      srv.writes!.trigger(0);
      await cluster.startApiserver();
      await eventually('the sink\'s watches back', () => srv.writes!.live!.inputs().every((i) => i.state === 'synced'), 60_000);
      await eventually('converged after the restart', converged, 60_000);
      assert.deepEqual(await versions(), before, 'nothing was rewritten: every resourceVersion is the same');
      assert.equal(srv.writes!.sink!.counters.applies, applies);

      const videoFile = [...applied.keys()].find((f) => f.startsWith('ServiceEntry-video-'))!;
      const videoYaml = applied.get(videoFile)!;
      await drop(videoFile);
      await eventually('the deletion after the restart', converged, 60_000);
      await put(videoYaml);
      await eventually('converged again', converged, 60_000);
    } finally {
      await srv.close();
      await cluster.startApiserver();
    }
  });
});

describe('serve --apply when others write too', () => {
  const VIDEO_OUTBOUND = '/apis/networking.istio.io/v1alpha3/namespaces/istio-system/envoyfilters/metamesh-outbound-video-server.video.svc.cluster.local-8000';
  const VIDEO_INBOUND = '/apis/networking.istio.io/v1alpha3/namespaces/video/envoyfilters/metamesh-inbound-video-server.video.svc.cluster.local-8000';

  test('a user\'s object with the name metamesh would write is left alone and reported (MM_SINK_CONFLICT); once it is gone, metamesh writes its own', async () => {
    await admin.request({ method: 'DELETE', path: VIDEO_OUTBOUND }).catch(() => undefined);
    const users = 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: metamesh-outbound-video-server.video.svc.cluster.local-8000, namespace: istio-system}\nspec: {configPatches: []}\n';
    await cluster.apply(users);
    const before = (await getObject(admin, VIDEO_OUTBOUND))!;
    const srv = await serveApplying();
    try {
      await eventually('the conflict reported', () => (sinkDebug(srv).sink.diagnostics as Json[]).some((d) => d.code === 'MM_SINK_CONFLICT' && d.object === 'EnvoyFilter istio-system/metamesh-outbound-video-server.video.svc.cluster.local-8000'));
      const after = (await getObject(admin, VIDEO_OUTBOUND))!;
      assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, 'the user\'s EnvoyFilter is untouched');
      assert.equal(after.metadata.labels, undefined);
      await cluster.remove(users);
      // metamesh watches only its own EnvoyFilters, so the freed name is taken at the next pass
      // (at the latest the periodic resync): ask for one now.
      srv.writes!.trigger(0);
      await eventually('metamesh\'s own written once the name is free', converged, 30_000);
    } finally {
      await srv.close();
    }
  });

  test('a write that conflicts (409 from the API server) at every try is retried with backoff, then reported (MM_SINK_WRITE_FAILED); once the other writer stops, it lands', async () => {
    const loaded = loadKubeConfig(cluster.readerKubeconfig);
    if ('error' in loaded) throw new Error(loaded.error);
    const inner = new HttpKubeClient(loaded.kc);
    // A second writer that changes the object between metamesh's read and its write: the API
    // server refuses metamesh's apply (its resourceVersion precondition is stale) with 409.
    let interfering = true;
    let bumps = 0;
    const client = {
      list: inner.list.bind(inner),
      watch: inner.watch.bind(inner),
      request: async (r: Parameters<HttpKubeClient['request']>[0]) => {
        if (interfering && r.method === 'PATCH' && r.path === VIDEO_INBOUND) {
          await admin.request({ method: 'PATCH', path: VIDEO_INBOUND, query: { fieldManager: 'e2e-intruder' }, body: { metadata: { annotations: { 'e2e/bump': String(++bumps) } } }, contentType: 'application/merge-patch+json' });
        }
        return inner.request(r);
      },
    };
    const optionsOnly = tempDir('metamesh-e2e-apply-options-');
    copyFileSync(path.join(mirror, 'options.yaml'), path.join(optionsOnly, 'options.yaml'));
    const srv = await start(optionsOnly, {
      kubernetes: { client, meshConfig: undefined, syncTimeoutMs: 60_000, backoff: { initialMs: 100, maxMs: 1000 } },
      writes: { client, apply: true, status: true, instance: 'metamesh', fieldManager: 'metamesh', debounceMs: 50, backoff: { initialMs: 50, maxMs: 200 } },
    });
    try {
      await eventually('converged', converged, 60_000);
      // Someone changes metamesh's EnvoyFilter: metamesh must put its content back (an update).
      await cluster.apply('apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: metamesh-inbound-video-server.video.svc.cluster.local-8000, namespace: video}\nspec: {configPatches: []}\n');
      await eventually('the conflicts reported', () => (sinkDebug(srv).sink.diagnostics as Json[]).some((d) => d.code === 'MM_SINK_WRITE_FAILED' && /409 Conflict/.test(d.message) && d.object.includes('metamesh-inbound-video-server')), 60_000);
      const conflicts = srv.writes!.sink!.counters.conflicts;
      assert.ok(conflicts >= 5, `${conflicts} conflicts`);
      assert.ok(bumps >= conflicts);
      const ef = (await getObject(admin, VIDEO_INBOUND))!;
      assert.deepEqual(ef.spec.configPatches, [], 'not written while the other writer interferes');
      interfering = false;
      srv.writes!.trigger(0);
      await eventually('converged once the other writer stops', converged, 60_000);
      assert.ok(!(sinkDebug(srv).sink.diagnostics as Json[]).some((d) => d.code === 'MM_SINK_WRITE_FAILED'));
    } finally {
      await srv.close();
    }
  });
});
