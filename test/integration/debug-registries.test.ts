/**
 * `/debug/registries` of `metamesh serve`, read over HTTP, against a real ZooKeeper holding two
 * ServerSets whose members are announced in sessions of their own: the registry's state and
 * counts; members that leave, shown held back with the time they go and then removed; a loss above
 * the protection threshold, shown refused with the numbers compared; ZooKeeper stopped, shown as
 * not connected while its services stay served. /debug/config, /readyz and the log say the same.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseRegistry, type ZookeeperRegistryConfig } from '../../src/registry/config.js';
import type { RegistriesDebugBody, RegistryView } from '../../src/dashboard/registries-debug.js';
import { serve, type Running } from '../../src/runtime/serve.js';
import { captureLogs } from '../support/xds.js';
import { until, ZkServer, ZkWriter } from '../support/zookeeper.js';

const ECHO = '/aurora/www-data/prod/echo';
const BIG = '/aurora/www-data/prod/big';
const GRACE_MS = 3000;
const HOLD_MS = 600_000;

function member(host: string, port: number, shard: number): string {
  return JSON.stringify({ serviceEndpoint: { host, port }, additionalEndpoints: {}, status: 'ALIVE', shard });
}

let zk: ZkServer;
let writer: ZkWriter;
/** Announces echo's second member. */
let echoLeaver: ZkWriter;
/** Announces two of big's three members. */
let bigLeavers: ZkWriter;

before(async () => {
  zk = await ZkServer.start();
  writer = await ZkWriter.connect(zk.connect);
  echoLeaver = await ZkWriter.connect(zk.connect);
  bigLeavers = await ZkWriter.connect(zk.connect);
  await writer.createSequential(`${ECHO}/member_`, member('10.1.0.1', 9090, 0));
  await echoLeaver.createSequential(`${ECHO}/member_`, member('10.1.0.2', 9090, 1));
  await writer.createSequential(`${BIG}/member_`, member('10.2.0.1', 9090, 0));
  await bigLeavers.createSequential(`${BIG}/member_`, member('10.2.0.2', 9090, 1));
  await bigLeavers.createSequential(`${BIG}/member_`, member('10.2.0.3', 9090, 2));
});

after(async () => {
  echoLeaver?.close();
  bigLeavers?.close();
  writer?.close();
  await zk?.close();
});

async function get<T>(running: Running, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${running.httpPort}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

async function registry(running: Running): Promise<RegistryView> {
  const { status, body } = await get<RegistriesDebugBody>(running, '/debug/registries');
  assert.equal(status, 200);
  assert.equal(body.registries.length, 1);
  return body.registries[0]!;
}

interface Config {
  serviceEntries: { spec: { hosts: string[]; endpoints: { address: string }[] } }[];
  diagnostics: { code: string; object: string }[];
}

/** Endpoint addresses of each generated ServiceEntry, by host, as /debug/config shows them. */
async function served(running: Running): Promise<{ endpoints: Record<string, string[]>; codes: string[] }> {
  const { body } = await get<Config>(running, '/debug/config');
  return {
    endpoints: Object.fromEntries(body.serviceEntries.map((se) => [se.spec.hosts[0]!, se.spec.endpoints.map((e) => e.address)])),
    codes: body.diagnostics.map((d) => d.code),
  };
}

/** Polls `read` until `check` holds, failing with the last value read. */
async function poll<T>(read: () => Promise<T>, check: (v: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  await until(async () => check((last = await read())), 30_000, () => `${what}; last seen: ${JSON.stringify(last)}`);
  return last!;
}

test('/debug/registries: state and counts, members held back until the grace ends, a refused loss with its numbers, ZooKeeper stopped', async () => {
  const config = parseRegistry(`zookeeper://${zk.connect}?serverset=${ECHO}&serverset=${BIG}`) as ZookeeperRegistryConfig;
  const logs = captureLogs();
  const running = await serve({
    files: [],
    registries: [config],
    xdsAddress: '127.0.0.1:0',
    httpAddress: '127.0.0.1:0',
    logger: logs.logger,
    watch: 'none',
    shutdownGraceMs: 500,
    catalog: { removalGraceMs: GRACE_MS, protectionHoldMs: HOLD_MS },
  });
  try {
    // 1. Read: synced, two services with five instances, nothing held back.
    const synced = await poll(() => registry(running), (r) => r.health === 'ok' && r.instances === 5, 'the registry read');
    assert.equal(synced.registry, config.name);
    assert.equal(synced.state, 'synced');
    assert.equal(synced.services, 2);
    assert.ok(synced.lastSync !== undefined && !Number.isNaN(Date.parse(synced.lastSync)));
    assert.deepEqual(synced.heldBack, { services: [], servicesOmitted: 0, instances: [], instancesOmitted: 0 });
    assert.deepEqual(synced.protections, []);
    const { body: whole } = await get<RegistriesDebugBody>(running, '/debug/registries');
    assert.deepEqual(whole.policy, { removalGraceMs: GRACE_MS, protectionThreshold: 0.5, protectionHoldMs: HOLD_MS });

    // 2. Three members leave (their announcers' sessions end): held back, each until its grace is over.
    echoLeaver.close();
    bigLeavers.close();
    const held = await poll(() => registry(running), (r) => r.heldBack.instances.length === 3, 'the three members held back');
    assert.deepEqual(
      held.heldBack.instances.map((i) => [i.service, i.instance]),
      [
        [`serverset:${BIG}`, '10.2.0.2:9090'],
        [`serverset:${BIG}`, '10.2.0.3:9090'],
        [`serverset:${ECHO}`, '10.1.0.2:9090'],
      ],
    );
    for (const i of held.heldBack.instances) assert.equal(Date.parse(i.removeAt) - Date.parse(i.missingSince), GRACE_MS, JSON.stringify(i));
    assert.equal(held.instances, 5, 'held-back instances are still counted: they are still served');
    // The wait is a diagnostic too, though it changes no ServiceEntry.
    await poll(() => served(running), (s) => s.codes.includes('MM_CATALOG_REMOVAL_PENDING'), 'MM_CATALOG_REMOVAL_PENDING in /debug/config');

    // 3. The grace is over: echo's member goes (one of two is within the threshold); two of big's
    //    three would go, above the 50 % threshold, so that loss is refused and shown with its numbers.
    const after = await poll(() => registry(running), (r) => r.protections.length === 1 && r.heldBack.instances.length === 0, 'the grace over');
    assert.equal(after.instances, 4);
    const [p] = after.protections;
    assert.deepEqual({ scope: p!.scope, service: p!.service, host: p!.host, before: p!.before, after: p!.after, kept: p!.kept }, {
      scope: 'service',
      service: `serverset:${BIG}`,
      host: 'big.prod.www-data.aurora',
      before: 3,
      after: 1,
      kept: ['10.2.0.2:9090', '10.2.0.3:9090'],
    });
    assert.equal(Date.parse(p!.until!) - Date.parse(p!.since!), HOLD_MS);
    const duringProtection = await served(running);
    assert.deepEqual(duringProtection.endpoints, { 'big.prod.www-data.aurora': ['10.2.0.1', '10.2.0.2', '10.2.0.3'], 'echo.prod.www-data.aurora': ['10.1.0.1'] });
    assert.ok(duringProtection.codes.includes('MM_CATALOG_PROTECTED'));
    const triggered = logs.lines.find((l) => l.event === 'outage-policy' && l.decision === 'protection-triggered');
    assert.ok(triggered, 'the refusal is logged');
    assert.deepEqual([triggered.level, triggered.service, triggered.before, triggered.after], [40, `serverset:${BIG}`, 3, 1]);

    // 4. ZooKeeper stops: the registry is shown as not connected and stale; its services stay served as they were.
    const lastSync = after.lastSync;
    await zk.stop();
    const down = await poll(() => registry(running), (r) => r.state !== 'synced', 'the registry seen as not synced');
    assert.ok(['disconnected', 'expired', 'failing'].includes(down.state), down.state);
    assert.equal(down.health, 'stale');
    assert.equal(down.lastSync, lastSync);
    assert.match(down.error ?? '', /ZooKeeper/);
    assert.deepEqual([down.services, down.instances], [2, 4]);
    assert.deepEqual(down.protections, [], 'an outage clears the clocks: nothing is on its way out');
    assert.deepEqual((await served(running)).endpoints, duringProtection.endpoints);
    const ready = await get<{ status: string; registries: { registry: string; state: string }[] }>(running, '/readyz');
    assert.equal(ready.status, 200, 'a registry read once and now unreachable keeps the server ready');
    assert.equal(ready.body.registries[0]!.state, down.state);
    await until(() => logs.lines.some((l) => l.event === 'outage-policy' && l.decision === 'registry-unavailable' && l.level === 40), 10_000, () => 'the outage logged as a warning');
  } finally {
    await running.close();
  }
});
