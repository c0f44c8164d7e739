/**
 * `metamesh serve` reading its configuration from a real kube-apiserver (+ etcd), started by the
 * test on loopback (support/kube.ts), as the ServiceAccount istio-system/metamesh with only the
 * RBAC of deploy/rbac/read-config.yaml.
 *
 * The reference for what metamesh must generate is the same objects read from files: each object
 * applied to the cluster is read back (with whatever the API server defaulted) and written into a
 * directory, and `build` of that directory must equal what `serve` produces from the cluster, route
 * for route and EnvoyFilter for EnvoyFilter. Every wait is a deadline on a condition.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { loadInputs } from '../../src/cli/files.js';
import { readResources } from '../../src/input/read.js';
import { build } from '../../src/pipeline/build.js';
import { outputDocument } from '../../src/pipeline/document.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import type { Running } from '../../src/runtime/serve.js';
import { loadKubeConfig } from '../../src/store/kubernetes/config.js';
import { HttpKubeClient } from '../../src/store/kubernetes/http-client.js';
import type { DiscoveryResponseWire } from '../../src/xds/services.js';
import { runUntilListening } from '../support/cli.js';
import { client, decode, DUBBO, pipelineRoute, removeTemps, root, services, sotwReq, start, tempDir, THRIFT, type Logs } from '../support/xds.js';
import { startKube, type KubeCluster } from './support/kube.js';
import { eventually } from './support/apply.js';
import { ClusterMirror } from './support/mirror.js';

const builtins = loadBuiltinProtocols();
const RBAC = readFileSync(path.join(root, 'deploy/rbac/read-config.yaml'), 'utf8');

let cluster: KubeCluster;
/** What is applied to the cluster, one object per file, as read back from it (+ options.yaml). */
let mirror: string;
/** The YAML text applied for each mirror file, to delete it again. */
let applied: Map<string, string>;
let examples: ClusterMirror;

before(async () => {
  cluster = await startKube({ log: (l) => console.error(`# ${l}`) });
  examples = await ClusterMirror.ofExamples(cluster, 'metamesh-e2e-mirror-');
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

function expectedOutput(): object {
  const { documents } = loadInputs([mirror]);
  const out = build(readResources(documents).config, builtins);
  const { diagnostics: _d, ...rest } = outputDocument(out) as unknown as Record<string, unknown>;
  return rest;
}

function servedOutput(srv: Running): object {
  const { diagnostics: _d, ...rest } = outputDocument(srv.engine.output()) as unknown as Record<string, unknown>;
  return rest;
}

function codesOf(srv: Running, object?: string): string[] {
  return srv.engine.output().diagnostics.filter((d) => object === undefined || d.object === object).map((d) => d.code);
}


/** `serve` with the options file from -f and everything else from the cluster, as metamesh's ServiceAccount. */
async function serveFromCluster(syncTimeoutMs = 60_000): Promise<Running & { logs: Logs }> {
  const loaded = loadKubeConfig(cluster.readerKubeconfig);
  if ('error' in loaded) throw new Error(loaded.error);
  const optionsOnly = tempDir('metamesh-e2e-options-');
  copyFileSync(path.join(mirror, 'options.yaml'), path.join(optionsOnly, 'options.yaml'));
  return start(optionsOnly, {
    kubernetes: { client: new HttpKubeClient(loaded.kc), meshConfig: { namespace: 'istio-system', name: 'istio' }, syncTimeoutMs, backoff: { initialMs: 100, maxMs: 1000 } },
  });
}

interface Readyz {
  status: string;
  sources: Array<{ source: string; state: string; synced?: boolean; error?: string }>;
}

async function readyz(srv: Running): Promise<{ code: number; body: Readyz }> {
  const res = await fetch(`http://127.0.0.1:${srv.httpPort}/readyz`);
  return { code: res.status, body: (await res.json()) as Readyz };
}

const kubeSources = (b: Readyz) => b.sources.filter((s) => s.source.startsWith('kubernetes '));

describe('serve --kubernetes against a real kube-apiserver', () => {
  test('without the read RBAC every kind is refused and serve is not ready; once it is applied, everything is listed', async () => {
    const srv = await serveFromCluster(1500);
    try {
      const first = await readyz(srv);
      assert.equal(first.code, 503);
      assert.equal(kubeSources(first.body).length, 7, 'six kinds and the mesh config');
      for (const s of kubeSources(first.body)) assert.match(s.error ?? '', /forbidden/, s.source);
      assert.ok(codesOf(srv).filter((c) => c === 'MM_KUBE_NOT_SYNCED').length === 7);
      assert.deepEqual(srv.engine.output().routes, [], 'nothing was read, nothing is served');

      await cluster.apply(RBAC);
      await eventually('/readyz 200', async () => (await readyz(srv)).code === 200);
      // Ready as soon as every kind is listed; the debounced reload that reads them follows.
      await eventually('no kind reported unsynced', () => !codesOf(srv).includes('MM_KUBE_NOT_SYNCED'));
      assert.deepEqual(servedOutput(srv), expectedOutput());
      for (const s of kubeSources((await readyz(srv)).body)) assert.equal(s.state, 'ok', s.source);
    } finally {
      await srv.close();
    }
  });

  test('the routes and EnvoyFilters served from the cluster are those of the same objects in files, and follow changes and deletions', async () => {
    const srv = await serveFromCluster();
    const { client: c, open } = client(services.RdsClient, srv.xdsPort);
    try {
      assert.deepEqual(servedOutput(srv), expectedOutput());
      assert.ok(srv.engine.output().envoyFilters.length > 0);
      // The Dubbo objects are the examples' own: the route equals the one `generate -f examples/` makes.
      const s = open<DiscoveryResponseWire>('StreamRoutes');
      s.send(sotwReq([DUBBO, THRIFT]));
      const r1 = await s.next();
      const byName = new Map(r1.resources.map((r) => [((decode(r) as { name: string }).name), decode(r)]));
      assert.deepEqual(byName.get(DUBBO), pipelineRoute(path.join(root, 'examples'), DUBBO));
      s.send(sotwReq([DUBBO, THRIFT], { version_info: r1.version_info, response_nonce: r1.nonce }));

      // Change the Dubbo MetaRouter: the new route is pushed.
      const dubbo = readFileSync(path.join(root, 'examples/dubbo.yaml'), 'utf8');
      const routerYaml = parseAllDocuments(dubbo).map((d) => d.toString()).find((t) => t.includes('kind: MetaRouter'))!;
      const routerFile = await put(routerYaml.replace('weight: 20', 'weight: 35').replace('weight: 80', 'weight: 65'));
      const r2 = await s.next(30_000);
      const pushed = r2.resources.map(decode).find((r) => (r as { name: string }).name === DUBBO);
      assert.match(JSON.stringify(pushed), /35/);
      assert.deepEqual(servedOutput(srv), expectedOutput());

      // Delete it: the host falls back to its default route.
      await drop(routerFile);
      await eventually('the default route for the Dubbo service', () => JSON.stringify(srv.engine.route(DUBBO)) === JSON.stringify(build(readResources(loadInputs([mirror]).documents).config, builtins).routes.find((r) => r.name === DUBBO)));
      assert.deepEqual(servedOutput(srv), expectedOutput());

      // Delete the ServiceEntry: its route is withdrawn, because the cluster says it is gone.
      const seFile = [...applied.keys()].find((f) => f.startsWith('ServiceEntry-dubbo-'))!;
      const seYaml = applied.get(seFile)!;
      await drop(seFile);
      await eventually('the Dubbo route to be withdrawn', () => srv.engine.route(DUBBO) === undefined);
      assert.deepEqual(servedOutput(srv), expectedOutput());

      // Put both back for the tests that follow.
      await put(seYaml);
      await put(routerYaml);
      await eventually('the Dubbo route back', () => assert.deepEqual(servedOutput(srv), expectedOutput()) === undefined);
      s.close();
    } finally {
      c.close();
      await srv.close();
    }
  });

  test('an API server restart withdraws nothing meanwhile; metamesh converges after it', async () => {
    const srv = await serveFromCluster();
    try {
      assert.deepEqual(servedOutput(srv), expectedOutput());
      const before = new Map([DUBBO, THRIFT].map((n) => [n, srv.cache.get(n)!.version]));
      await cluster.stopApiserver('kill');
      await eventually('every kind to be stale', async () => kubeSources((await readyz(srv)).body).every((s) => s.state === 'stale'));
      await eventually('the stale sources reported', () => codesOf(srv).filter((c) => c === 'MM_SOURCE_STALE').length === 7);
      const down = await readyz(srv);
      assert.equal(down.code, 200, 'still ready: it serves its last-known configuration');
      // How a killed server shows depends on where each request was: refused, reset, or a watch
      // response cut mid-body (Node reports that one as `aborted`).
      for (const s of kubeSources(down.body)) assert.match(s.error ?? '', /ECONNREFUSED|ECONNRESET|cut|socket hang up|aborted/, s.source);
      assert.deepEqual(servedOutput(srv), expectedOutput(), 'nothing withdrawn');
      for (const [n, v] of before) assert.equal(srv.cache.get(n)?.version, v, `${n} unchanged`);

      await cluster.startApiserver();
      const back = Date.now();
      await eventually('every kind to be read again', async () => kubeSources((await readyz(srv)).body).every((s) => s.state === 'ok'), 60_000);
      console.error(`# every kind read again ${Date.now() - back} ms after the API server was ready`);
      // Changes after the restart are followed: a new MetaRouter and a deletion.
      const trpcFile = [...applied.keys()].find((f) => f.startsWith('ServiceEntry-video-'))!;
      const trpcYaml = applied.get(trpcFile)!;
      await drop(trpcFile);
      await eventually('the deletion after the restart', () => assert.deepEqual(servedOutput(srv), expectedOutput()) === undefined);
      assert.deepEqual(codesOf(srv).filter((c) => c === 'MM_SOURCE_STALE'), []);
      await put(trpcYaml);
      await eventually('the ServiceEntry back', () => assert.deepEqual(servedOutput(srv), expectedOutput()) === undefined);
      const relists = srv.logs.lines.filter((l) => l.event === 'kube-relist').length;
      console.error(`# kinds relisted after the restart (410 Gone): ${relists}`);
    } finally {
      await srv.close();
      await cluster.startApiserver(); // if the test failed while it was down; a no-op otherwise
    }
  });

  test('an invalid MetaRouter is reported and not applied; the others are unaffected; an invalid update keeps the last valid version', async () => {
    const srv = await serveFromCluster();
    try {
      const dubboRoute = JSON.stringify(srv.engine.route(DUBBO));
      // Valid for the CRD's schema (its CEL rules only require a positive duration), refused by metamesh:
      // the data plane rejects fill intervals under 50 ms.
      const bad = (name: string, host: string, ns: string) =>
        `apiVersion: metaprotocol.aeraki.io/v1alpha1\nkind: MetaRouter\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n  hosts: [${host}]\n  localRateLimit:\n    tokenBucket: {maxTokens: 10, tokensPerFill: 10, fillInterval: 10ms}\n`;
      const badFile = await put(bad('too-fast', 'video-server.video.svc.cluster.local', 'video'));
      await eventually('the diagnostic', () => codesOf(srv, 'MetaRouter video/too-fast').includes('MM_RATELIMIT_LOCAL'));
      assert.ok(codesOf(srv, 'MetaRouter video/too-fast').includes('MM_ROUTER_NOT_APPLIED'));
      assert.deepEqual(servedOutput(srv), expectedOutput(), 'the same as the files: not applied');
      assert.equal(JSON.stringify(srv.engine.route(DUBBO)), dubboRoute, 'the other routes are unaffected');

      // The Dubbo MetaRouter updated into an invalid one: its last valid version stays in effect.
      await cluster.apply(bad('demoservice', 'org.apache.dubbo.samples.basic.api.demoservice', 'dubbo'));
      await eventually('the last valid version kept', () => codesOf(srv, 'MetaRouter dubbo/demoservice').includes('MM_RESOURCE_LAST_GOOD'));
      assert.equal(JSON.stringify(srv.engine.route(DUBBO)), dubboRoute);
      await drop(badFile);
      const routerFile = [...applied.keys()].find((f) => f.startsWith('MetaRouter-dubbo-'))!;
      await put(applied.get(routerFile)!);
      await eventually('the valid version back', () => !codesOf(srv, 'MetaRouter dubbo/demoservice').includes('MM_RESOURCE_LAST_GOOD'));
      assert.deepEqual(servedOutput(srv), expectedOutput());
    } finally {
      await srv.close();
    }
  });

  test('Istio\'s mesh config supplies option values beneath the MetameshOptions file, field by field', async () => {
    const srv = await serveFromCluster();
    try {
      // options.yaml sets trustDomain and accessLogFile but no access log format.
      const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    trustDomain: e2e.example\n    accessLogFormat: "e2e-mesh-config-format\\n"\n';
      await cluster.apply(cm);
      await eventually('the access log format of the mesh config', () => JSON.stringify(srv.engine.output().envoyFilters).includes('e2e-mesh-config-format'));
      const filters = JSON.stringify(srv.engine.output().envoyFilters);
      assert.ok(!filters.includes('e2e.example'), 'the trust domain of options.yaml wins');
      assert.ok(filters.includes('spiffe://cluster.local/ns/istio-system/sa/metamesh'));
      await cluster.remove(cm);
      await eventually('the mesh config gone', () => !JSON.stringify(srv.engine.output().envoyFilters).includes('e2e-mesh-config-format'));
      assert.deepEqual(servedOutput(srv), expectedOutput());
    } finally {
      await srv.close();
    }
  });

  test('metamesh serve --kubeconfig starts from the command line; a missing kubeconfig is refused', async () => {
    const ok = await runUntilListening('serve', '--kubeconfig', cluster.readerKubeconfig, '--xds-address', '127.0.0.1:0', '--http-address', '127.0.0.1:0', '--shutdown-grace', '100ms');
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /^metamesh serve: xDS \(gRPC, plaintext\) on 127\.0\.0\.1:\d+, HTTP on 127\.0\.0\.1:\d+/);
    const missing = await runUntilListening('serve', '--kubeconfig', path.join(cluster.dir, 'nope.yaml'));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^metamesh serve: cannot read the Kubernetes API: --kubeconfig .*nope\.yaml: no such file; nothing was started\.\n$/);
  });
});
