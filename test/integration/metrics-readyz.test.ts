/**
 * Readiness against a real ZooKeeper registry that is not there at first: `/readyz` answers 503
 * naming it, the ready timeout (a manual timer, fired by the test) logs a warning and reports
 * MM_SERVE_NOT_READY without stopping or withdrawing anything, and once a ZooKeeper server starts
 * on that port and is read, `/readyz` answers 200, the diagnostic goes, and the registry metrics
 * (state, events, sync lag, catalog sizes) show it.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { parseRegistry, type ZookeeperRegistryConfig } from '../../src/registry/config.js';
import { serve } from '../../src/runtime/serve.js';
import { manualTimers } from '../support/manual-timers.js';
import { scrape } from '../support/prom.js';
import { captureLogs, DUBBO, examplesCopy, removeTemps, until } from '../support/xds.js';
import { freePort, ZkServer, ZkWriter } from '../support/zookeeper.js';

after(removeTemps);

const PROVIDER = 'dubbo%3A%2F%2F10.2.0.1%3A20880%2Fdemo.ReadyService%3Fapplication%3Dready%26interface%3Ddemo.ReadyService%26side%3Dprovider';
const READY_TIMEOUT_MS = 120_000;

interface Readyz {
  status: string;
  waitingFor: string[];
  readyTimeoutPassed: boolean;
  registries: { registry: string; state: string }[];
}

async function readyz(port: number): Promise<{ code: number; body: Readyz }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { code: res.status, body: (await res.json()) as Readyz };
}

test('a registry that cannot be reached keeps /readyz at 503 naming it; the ready timeout reports it; once it is read /readyz is 200', async () => {
  const port = await freePort();
  const zk = await ZkServer.create({ port });
  const config = parseRegistry(`zookeeper://${zk.connect}`) as ZookeeperRegistryConfig;
  const name = config.name;
  const mt = manualTimers();
  const logs = captureLogs();
  const dir = examplesCopy();
  const running = await serve({ files: [dir], registries: [config], xdsAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', logger: logs.logger, watch: 'none', timers: mt.timers, readyTimeoutMs: READY_TIMEOUT_MS });
  let writer: ZkWriter | undefined;
  try {
    // Not ready, and the reason names the registry; the files are served meanwhile.
    let r = await readyz(running.httpPort);
    assert.equal(r.code, 503);
    assert.equal(r.body.status, 'not ready');
    assert.equal(r.body.waitingFor.length, 1);
    assert.match(r.body.waitingFor[0]!, new RegExp(`^registry ${name.replaceAll('.', '\\.')} has not been read completely yet`));
    assert.equal(r.body.readyTimeoutPassed, false);
    assert.ok(running.engine.route(DUBBO), 'the files are served while the registry is missing');
    let s = await scrape(running.httpPort);
    assert.equal(s.value('metamesh_ready'), 0);
    assert.equal(s.value('metamesh_registry_state', { registry: name, state: 'synced' }), 0);
    assert.equal(s.value('metamesh_registry_last_sync_timestamp_seconds', { registry: name }), undefined);

    // The ready timeout: one warning naming the registry, one diagnostic; still 503, still serving.
    assert.ok(mt.delays().includes(READY_TIMEOUT_MS), `the ready timer is armed: ${mt.delays().join(',')}`);
    for (const [id, t] of [...mt.pending]) {
      if (t.repeat || t.ms !== READY_TIMEOUT_MS) continue;
      mt.pending.delete(id);
      t.fn();
    }
    const warnings = logs.lines.filter((l) => l.event === 'ready-timeout');
    assert.equal(warnings.length, 1);
    assert.deepEqual((warnings[0]!.waitingFor as { name: string }[]).map((w) => w.name), [name]);
    const notReady = running.engine.output().diagnostics.filter((d) => d.code === 'MM_SERVE_NOT_READY');
    assert.deepEqual(notReady.map((d) => d.object), [`Registry ${name}`]);
    assert.match(notReady[0]!.message, /^not ready 2m after the start: registry zookeeper/);
    r = await readyz(running.httpPort);
    assert.equal(r.code, 503);
    assert.equal(r.body.readyTimeoutPassed, true);
    s = await scrape(running.httpPort);
    assert.equal(s.value('metamesh_diagnostics', { code: 'MM_SERVE_NOT_READY', severity: 'warning' }), 1);
    assert.ok(running.engine.route(DUBBO), 'nothing was withdrawn at the timeout');

    // ZooKeeper starts where the registry points, with one provider: read, applied, ready.
    await zk.start();
    writer = await ZkWriter.connect(zk.connect);
    await writer.mkdirp('/dubbo/demo.ReadyService/providers');
    await writer.create(`/dubbo/demo.ReadyService/providers/${PROVIDER}`, '', true);
    await until(async () => (await readyz(running.httpPort)).code === 200, '/readyz to turn 200 once the registry is read', 60_000);
    r = await readyz(running.httpPort);
    assert.deepEqual(r.body.waitingFor, []);
    assert.equal(r.body.readyTimeoutPassed, false);
    assert.deepEqual(running.engine.output().diagnostics.filter((d) => d.code === 'MM_SERVE_NOT_READY'), [], 'the diagnostic goes once ready');
    const ready = logs.lines.filter((l) => l.event === 'ready');
    assert.equal(ready.length, 1);
    assert.equal(ready[0]!.afterTimeout, true);

    // The provider may arrive with the first read or just after it.
    s = await (async () => {
      let last = await scrape(running.httpPort);
      await until(async () => (last = await scrape(running.httpPort)).value('metamesh_catalog_instances', { registry: name }) === 1, 'the provider in the catalog', 30_000);
      return last;
    })();
    assert.equal(s.value('metamesh_ready'), 1);
    assert.equal(s.value('metamesh_registry_state', { registry: name, state: 'synced' }), 1);
    assert.ok(s.value('metamesh_registry_last_sync_timestamp_seconds', { registry: name })! > 1.7e9);
    assert.equal(s.value('metamesh_catalog_services', { registry: name }), 1);
    assert.ok(s.value('metamesh_registry_events_total', { registry: name, kind: 'status' })! >= 1, 'the connection state changes were events');
    assert.ok(s.value('metamesh_registry_events_total', { registry: name, kind: 'snapshot' })! >= 1, 'the read was an event');
    assert.ok(s.value('metamesh_registry_sync_lag_seconds_count', { registry: name })! >= 1, 'the syncs that took the events in were timed');
    assert.equal(s.value('metamesh_diagnostics', { code: 'MM_SERVE_NOT_READY' }), undefined);
  } finally {
    writer?.close();
    await running.close();
    await zk.close();
  }
});
