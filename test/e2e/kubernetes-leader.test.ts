/**
 * Leader election and a registry outage against a real kube-apiserver (+ etcd), with the chart's
 * RBAC for the ServiceAccount istio-system/metamesh:
 *
 * - two replicas of the real `metamesh serve --apply --status --leader-elect` (child processes);
 *   the leader is killed (SIGKILL: no release) and a change is made while no one leads; the other
 *   takes the Lease over and applies it. No duplicate or lost writes: asserted on the Lease, on the
 *   resourceVersions and managedFields of metamesh's objects, and on what each replica wrote;
 * - a real ZooKeeper registry stopped: while it is out, nothing is deleted (a deletion that is due
 *   is held and reported), and once it is back the held deletion is made.
 * Every wait is a deadline on a condition; failover times are printed, never asserted.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseRegistry, type ZookeeperRegistryConfig } from '../../src/registry/config.js';
import { loadKubeConfig } from '../../src/store/kubernetes/config.js';
import { HttpKubeClient } from '../../src/store/kubernetes/http-client.js';
import { srcModule } from '../support/child-cli.js';
import { removeTemps, root, start, tempDir } from '../support/xds.js';
import { ZkServer, ZkWriter } from '../support/zookeeper.js';
import { adminClient, chartRbac, eventually, getObject, key, listIstio, OURS, type Json } from './support/apply.js';
import { startKube, type KubeCluster } from './support/kube.js';

const MINE = `${OURS},metamesh.io/instance=metamesh`;
const NAMESPACES = ['dubbo', 'meta-thrift', 'video', 'istio-system'].map((n) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${n}}\n`).join('---\n');
const LEASE = '/apis/coordination.k8s.io/v1/namespaces/istio-system/leases/metamesh';
const VIDEO_EF = 'EnvoyFilter video/metamesh-inbound-video-server.video.svc.cluster.local-8000';

let cluster: KubeCluster;
let admin: HttpKubeClient;
let options: string;
const examples = new Map<string, string>();

before(async () => {
  cluster = await startKube({ log: (l) => console.error(`# ${l}`) });
  admin = adminClient(cluster.kubeconfig);
  await cluster.apply(NAMESPACES);
  await cluster.apply(chartRbac({ kubernetes: true, apply: true, status: true, leaderElection: true }));
  options = tempDir('metamesh-e2e-leader-options-');
  writeFileSync(path.join(options, 'options.yaml'), readFileSync(path.join(root, 'examples/options.yaml')));
  for (const f of ['dubbo.yaml', 'thrift.yaml', 'trpc.yaml']) {
    const text = readFileSync(path.join(root, 'examples', f), 'utf8');
    examples.set(f, text);
    await cluster.apply(text);
  }
});

after(async () => {
  await cluster?.stop();
  removeTemps();
});

/** The video ServiceEntry of examples/trpc.yaml (deleting it withdraws two EnvoyFilters). */
function videoServiceEntry(): string {
  const text = examples.get('trpc.yaml')!;
  return text.split(/^---$/m).find((d) => /kind: ServiceEntry/.test(d) && /namespace: video/.test(d))!;
}

async function ours(): Promise<Json[]> {
  return [...(await listIstio(admin, 'envoyfilters', MINE)), ...(await listIstio(admin, 'virtualservices', MINE))];
}

interface Replica {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly httpPort: number;
  debug(): Promise<Json>;
}

/** `metamesh serve --apply --status --leader-elect` in a child process, as metamesh's ServiceAccount. */
async function replica(name: string): Promise<Replica> {
  const argv = ['serve', '-f', options, '--kubeconfig', cluster.readerKubeconfig, '--mesh-config', 'none', '--apply', '--status', '--leader-elect', '--lease-namespace', 'istio-system', '--xds-address', '127.0.0.1:0', '--http-address', '127.0.0.1:0', '--shutdown-grace', '200ms'];
  const script = `const m = await import(${JSON.stringify(srcModule('cli/main.ts'))}); process.exitCode = await m.main(${JSON.stringify(argv)});`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POD_NAME: name } });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const httpPort = await new Promise<number>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /HTTP on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`replica ${name} exited (${code}) before it listened: ${err}`)));
  });
  const debug = async () => (await (await fetch(`http://127.0.0.1:${httpPort}/debug/sink`)).json()) as Json;
  return { name, proc, httpPort, debug };
}

async function kill(r: Replica, signal: NodeJS.Signals): Promise<void> {
  if (r.proc.exitCode !== null || r.proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => r.proc.once('exit', () => resolve()));
  r.proc.kill(signal);
  await exited;
}

describe('two replicas with --leader-elect', () => {
  test('only the leader writes; killed, the other takes the Lease over, applies the change made meanwhile, and rewrites nothing', async () => {
    const a = await replica('replica-a');
    let b: Replica | undefined;
    try {
      await eventually('replica a to lead', async () => (await a.debug()).leading === true, 60_000);
      await eventually('metamesh\'s objects written', async () => (await ours()).some((o) => key(o) === VIDEO_EF), 60_000);
      b = await replica('replica-b');
      await eventually('replica b ready (serving xDS)', async () => (await fetch(`http://127.0.0.1:${b!.httpPort}/readyz`)).status === 200, 60_000);
      const bBefore = await b.debug();
      assert.equal(bBefore.leading, false, 'b does not lead while a does');
      assert.equal(bBefore.sink.counters.applies + bBefore.sink.counters.deletes, 0, 'b wrote nothing');
      const aDebug = await a.debug();
      const lease0 = (await getObject(admin, LEASE))!;
      assert.equal(lease0.spec.holderIdentity, aDebug.identity);
      const before = new Map((await ours()).map((o) => [key(o), o.metadata.resourceVersion as string]));

      await kill(a, 'SIGKILL');
      const killedAt = Date.now();
      // A change while no one leads: the video ServiceEntry goes, so its EnvoyFilters must go.
      await cluster.remove(videoServiceEntry());
      await eventually('replica b to lead', async () => (await b!.debug()).leading === true, 90_000);
      console.error(`# replica b leads ${Date.now() - killedAt} ms after replica a was killed`);
      await eventually('the change made meanwhile applied', async () => !(await ours()).some((o) => key(o).includes('video-server')), 60_000);

      const lease1 = (await getObject(admin, LEASE))!;
      assert.equal(lease1.spec.holderIdentity, (await b.debug()).identity);
      assert.equal(lease1.spec.leaseTransitions, (lease0.spec.leaseTransitions ?? 0) + 1);
      const bAfter = await b.debug();
      const withdrawn = [...before.keys()].filter((k) => k.includes('video-server'));
      assert.equal(bAfter.sink.counters.deletes, withdrawn.length, 'b deleted exactly the video objects');
      assert.equal(bAfter.sink.counters.applies, 0, 'b rewrote nothing a had written');
      const now = await ours();
      for (const o of now) {
        assert.equal(o.metadata.resourceVersion, before.get(key(o)), `${key(o)} unchanged since a wrote it`);
        const managers = (o.metadata.managedFields as Json[]).map((f) => `${f.manager}/${f.operation}`);
        assert.deepEqual(managers, ['metamesh/Apply'], `${key(o)}: one field manager`);
      }
      assert.deepEqual(now.map(key).sort(), [...before.keys()].filter((k) => !withdrawn.includes(k)).sort());

      // Stopped gracefully, the leader gives the Lease up (holder emptied).
      await cluster.apply(videoServiceEntry());
      await eventually('the video objects back', async () => (await ours()).some((o) => key(o) === VIDEO_EF), 60_000);
      await kill(b, 'SIGTERM');
      const released = (await getObject(admin, LEASE))!;
      assert.equal(released.spec.holderIdentity ?? '', '');
    } finally {
      await kill(a, 'SIGKILL');
      if (b) await kill(b, 'SIGKILL');
    }
  });
});

describe('a leader that loses its Lease', () => {
  test('stops writing at once (a deletion due meanwhile waits) and writes again once it holds the Lease again', async () => {
    const loaded = loadKubeConfig(cluster.readerKubeconfig);
    if ('error' in loaded) throw new Error(loaded.error);
    const client = new HttpKubeClient(loaded.kc);
    const timing = { leaseDurationMs: 6000, renewDeadlineMs: 3000, retryPeriodMs: 500 };
    const srv = await start(options, {
      kubernetes: { client, meshConfig: undefined, syncTimeoutMs: 60_000, backoff: { initialMs: 100, maxMs: 1000 } },
      writes: { client, apply: true, status: true, instance: 'metamesh', fieldManager: 'metamesh', debounceMs: 50, leaderElection: { lease: { namespace: 'istio-system', name: 'metamesh' }, identity: 'in-process', timing } },
    });
    try {
      await eventually('leading', () => srv.writes!.isLeading(), 60_000);
      await eventually('the video EnvoyFilter written', async () => (await ours()).some((o) => key(o) === VIDEO_EF), 60_000);
      // Another holder takes the Lease (as a partitioned peer's successor would).
      const lease = (await getObject(admin, LEASE))!;
      const now = new Date().toISOString().replace('Z', '000Z');
      await admin.request({ method: 'PUT', path: LEASE, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', renewTime: now, acquireTime: now, leaseDurationSeconds: 3600 } } });
      await eventually('no longer leading', () => !srv.writes!.isLeading(), 30_000);
      const deletes = srv.writes!.sink!.counters.deletes;
      await cluster.remove(videoServiceEntry());
      // The pipeline follows the deletion (every replica serves), but no write is made.
      await eventually('the pipeline without the video service', () => !srv.engine.output().envoyFilters.some((e) => e.metadata.name.includes('video-server')));
      const skipped = srv.writes!.followerPasses;
      srv.writes!.trigger(0);
      await eventually('a pass while not leading', () => srv.writes!.followerPasses > skipped);
      assert.equal(srv.writes!.sink!.counters.deletes, deletes, 'nothing deleted while not leading');
      assert.ok((await ours()).some((o) => key(o) === VIDEO_EF), 'the video EnvoyFilter is still there');
      // The intruder gives the Lease up: this replica takes it and makes the deletion.
      await cluster.remove('apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: metamesh, namespace: istio-system}\n');
      await eventually('leading again', () => srv.writes!.isLeading(), 30_000);
      await eventually('the deletion made', async () => !(await ours()).some((o) => key(o).includes('video-server')), 30_000);
      await cluster.apply(videoServiceEntry());
      await eventually('the video objects back', async () => (await ours()).some((o) => key(o) === VIDEO_EF), 60_000);
    } finally {
      await srv.close();
    }
  });
});

/** The provider node a Dubbo 3.3.6 provider writes for demo.GreetingService (test/integration/registry-zookeeper-e2e.test.ts). */
const PROVIDER =
  'dubbo%3A%2F%2F127.0.0.1%3A20880%2Fdemo.GreetingService%3Fapplication%3Dprov-iface%26deprecated%3Dfalse%26dubbo%3D2.0.2%26dynamic%3Dtrue%26generic%3Dfalse%26group%3Dg1%26interface%3Ddemo.GreetingService%26methods%3Dgreet%26prefer.serialization%3Dhessian2%2Cfastjson2%26release%3D3.3.6%26revision%3D1.0.0%26side%3Dprovider%26timestamp%3D1795972910937%26version%3D1.0.0';

describe('a registry outage with --apply', () => {
  test('while ZooKeeper is down nothing is deleted (the due deletion is held and reported); once it is back, it is made', async () => {
    const zk = await ZkServer.start();
    const writer = await ZkWriter.connect(zk.connect);
    await writer.create(`/dubbo/demo.GreetingService/providers/${PROVIDER}`, '127.0.0.1', false);
    writer.client.close();
    const loaded = loadKubeConfig(cluster.readerKubeconfig);
    if ('error' in loaded) throw new Error(loaded.error);
    const client = new HttpKubeClient(loaded.kc);
    const dir = tempDir('metamesh-e2e-registry-');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'options.yaml'), readFileSync(path.join(root, 'examples/options.yaml')));
    const srv = await start(dir, {
      registries: [parseRegistry(`zookeeper://${zk.connect}`) as ZookeeperRegistryConfig],
      kubernetes: { client, meshConfig: undefined, syncTimeoutMs: 60_000, backoff: { initialMs: 100, maxMs: 1000 } },
      writes: { client, apply: true, status: true, instance: 'metamesh', fieldManager: 'metamesh', debounceMs: 50, backoff: { initialMs: 100, maxMs: 1000 } },
    });
    try {
      const generatedSe = async () => (await listIstio(admin, 'serviceentries', MINE)).find((o) => /greetingservice/.test(o.metadata.name));
      await eventually('the registry\'s ServiceEntry and the video EnvoyFilter written', async () => (await generatedSe()) !== undefined && (await ours()).some((o) => key(o) === VIDEO_EF), 60_000);
      const se = (await generatedSe())!;
      assert.equal(se.metadata.namespace, 'default', 'the default namespace of generated ServiceEntries');
      const deletes = srv.writes!.sink!.counters.deletes;

      await zk.stop();
      await eventually('the registry out', async () => {
        const r = (await (await fetch(`http://127.0.0.1:${srv.httpPort}/readyz`)).json()) as Json;
        return (r.registries as Json[]).every((x) => x.state !== 'synced');
      }, 60_000);
      // A deletion is now due: the video ServiceEntry goes from the cluster.
      await cluster.remove(videoServiceEntry());
      await eventually('the deletion held and reported', () => {
        const last = srv.writes!.sink!.lastPass();
        return last?.plan?.heldBecause === 'inputs-not-synced' && last.plan.held.some((h) => h.object.includes('video-server')) && last.diagnostics.some((d) => d.code === 'MM_SINK_DELETIONS_HELD' && d.message.includes(`zookeeper://${zk.connect}`));
      }, 60_000);
      assert.ok((await ours()).some((o) => key(o) === VIDEO_EF), 'the video EnvoyFilter is still there');
      assert.ok((await generatedSe()) !== undefined, 'the registry\'s ServiceEntry is still there');
      assert.equal(srv.writes!.sink!.counters.deletes, deletes, 'nothing deleted during the outage');

      await zk.start();
      await eventually('the held deletion made once the registry is back', async () => !(await ours()).some((o) => key(o).includes('video-server')), 60_000);
      await cluster.apply(videoServiceEntry());
    } finally {
      await srv.close();
      await zk.close();
    }
  });
});
