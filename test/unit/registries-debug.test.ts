/**
 * The body of /debug/registries (src/dashboard/registries-debug.ts), computed from real catalog steps
 * (src/catalog/step.ts): each registry's state and health, what the catalog keeps of it, what it
 * holds back until the removal grace is over and the losses it refuses, with the numbers compared.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMPTY_CATALOG_STATE, type CatalogOptions, type CatalogState, type Decision } from '../../src/catalog/model.js';
import { step } from '../../src/catalog/step.js';
import type { RegistryInstance, RegistryService, RegistrySnapshot, RegistryStatus } from '../../src/model/registry.js';
import { MAX_NAMES_LISTED } from '../../src/runtime/debug.js';
import { registriesDebug } from '../../src/dashboard/registries-debug.js';

const OPTIONS: CatalogOptions = { removalGraceMs: 10_000, protectionThreshold: 0.5, protectionHoldMs: 60_000 };
const iso = (ms: number) => new Date(ms).toISOString();

function instance(address: string, port = 9090): RegistryInstance {
  return { address, port, labels: {}, weight: 1, healthy: true, enabled: true };
}

function service(key: string, addresses: readonly string[]): RegistryService {
  return { key, protocol: 'thrift', host: `${key.replace(/[^a-z0-9]/g, '')}.example`, instances: addresses.map((a) => instance(a)) };
}

function range(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}.${i + 1}`);
}

/** Runs the catalog over `reads` (registry → services, or a status without a read) at the given times. */
function run(steps: readonly { at: number; reads: Record<string, readonly RegistryService[] | Omit<RegistryStatus, 'registry'>> }[]) {
  let state: CatalogState = EMPTY_CATALOG_STATE;
  let decisions: readonly Decision[] = [];
  let statuses: RegistryStatus[] = [];
  for (const s of steps) {
    const snapshots: RegistrySnapshot[] = [];
    statuses = [];
    for (const [registry, read] of Object.entries(s.reads)) {
      if (Array.isArray(read)) {
        snapshots.push({ registry, services: read as RegistryService[], diagnostics: [] });
        statuses.push({ registry, state: 'synced', lastSyncMs: s.at });
      } else statuses.push({ registry, ...(read as Omit<RegistryStatus, 'registry'>) });
    }
    const r = step(state, snapshots, statuses, OPTIONS, s.at);
    state = r.state;
    decisions = r.decisions;
  }
  return { statuses, state, decisions };
}

test('a synced registry: counts, and the instances and services it no longer lists held back until the grace is over', () => {
  const first = [service('s1', ['10.0.0.1', '10.0.0.2', '10.0.0.3']), service('s2', ['10.0.1.1'])];
  const r = run([
    { at: 1000, reads: { 'zookeeper://a': first } },
    { at: 3000, reads: { 'zookeeper://a': [service('s1', ['10.0.0.1', '10.0.0.2'])] } },
  ]);
  const body = registriesDebug({ ...r, options: OPTIONS, nowMs: 4000 });
  assert.equal(body.now, iso(4000));
  assert.deepEqual(body.policy, OPTIONS);
  assert.equal(body.registries.length, 1);
  const a = body.registries[0]!;
  assert.deepEqual({ registry: a.registry, state: a.state, health: a.health, lastSync: a.lastSync, services: a.services, instances: a.instances }, {
    registry: 'zookeeper://a',
    state: 'synced',
    health: 'ok',
    lastSync: iso(3000),
    services: 2,
    instances: 4,
  });
  assert.equal(a.error, undefined);
  assert.deepEqual(a.heldBack, {
    services: [{ service: 's2', host: 's2.example', missingSince: iso(3000), removeAt: iso(13_000) }],
    servicesOmitted: 0,
    instances: [{ service: 's1', host: 's1.example', instance: '10.0.0.3:9090', missingSince: iso(3000), removeAt: iso(13_000) }],
    instancesOmitted: 0,
  });
  assert.deepEqual(a.protections, []);
});

test('protections show the numbers compared, since and until when, and what is kept; what they hold is not listed as held back', () => {
  const before = [service('s3', range('10.0.3', 4))];
  const four = ['a', 'b', 'c', 'd'].map((k) => service(k, [`10.0.4.${k.charCodeAt(0)}`]));
  const r = run([
    { at: 1000, reads: { 'zookeeper://svc': before, 'zookeeper://reg': four } },
    { at: 2000, reads: { 'zookeeper://svc': [service('s3', ['10.0.3.1'])], 'zookeeper://reg': [four[3]!] } },
    // The grace is over: the losses would now be applied, and are refused.
    { at: 12_000, reads: { 'zookeeper://svc': [service('s3', ['10.0.3.1'])], 'zookeeper://reg': [four[3]!] } },
  ]);
  const body = registriesDebug({ ...r, options: OPTIONS, nowMs: 12_000 });
  const [reg, svc] = body.registries.slice().sort((x, y) => (x.registry < y.registry ? -1 : 1));
  assert.deepEqual(svc!.protections, [
    { scope: 'service', service: 's3', host: 's3.example', before: 4, after: 1, since: iso(12_000), until: iso(72_000), kept: ['10.0.3.2:9090', '10.0.3.3:9090', '10.0.3.4:9090'], keptOmitted: 0 },
  ]);
  assert.deepEqual(svc!.heldBack.instances, []);
  assert.equal(svc!.instances, 4, 'the previous instances are kept');
  assert.deepEqual(reg!.protections, [{ scope: 'registry', before: 4, after: 1, since: iso(12_000), until: iso(72_000), kept: ['a', 'b', 'c'], keptOmitted: 0 }]);
  assert.deepEqual(reg!.heldBack.services, []);
  assert.equal(reg!.services, 4);
});

test('a registry that is not synced is stale with its last-known services, or failed when never read', () => {
  const r = run([
    { at: 1000, reads: { 'zookeeper://down': [service('s1', ['10.0.0.1', '10.0.0.2'])], 'nacos://new': { state: 'connecting' } } },
    { at: 2000, reads: { 'zookeeper://down': [service('s1', ['10.0.0.1'])], 'nacos://new': { state: 'connecting' } } },
    { at: 3000, reads: { 'zookeeper://down': { state: 'disconnected', lastSyncMs: 2000, error: 'Lost the connection' }, 'nacos://new': { state: 'failing', error: 'refused' } } },
  ]);
  const body = registriesDebug({ ...r, options: OPTIONS, nowMs: 3000 });
  const [down, fresh] = body.registries;
  assert.deepEqual(down, {
    registry: 'zookeeper://down',
    state: 'disconnected',
    health: 'stale',
    lastSync: iso(2000),
    error: 'Lost the connection',
    services: 1,
    instances: 2,
    // Absences are counted afresh once it is synced again: nothing is on its way out meanwhile.
    heldBack: { services: [], servicesOmitted: 0, instances: [], instancesOmitted: 0 },
    protections: [],
  });
  assert.deepEqual({ state: fresh!.state, health: fresh!.health, error: fresh!.error, services: fresh!.services, lastSync: fresh!.lastSync }, {
    state: 'failing',
    health: 'failed',
    error: 'refused',
    services: 0,
    lastSync: undefined,
  });
});

test('held-back lists are capped, with the number left out; long names are cut', () => {
  const long = `k${'x'.repeat(5000)}`;
  const many = range('10.0.9', 150);
  const r = run([
    { at: 1000, reads: { 'zookeeper://a': [service(long, ['10.0.0.1']), service('big', [...many, '10.0.8.1'])] } },
    { at: 2000, reads: { 'zookeeper://a': [service(long, ['10.0.0.1']), service('big', ['10.0.8.1'])] } },
  ]);
  // 150 of 151 gone at once is refused only once the grace is over; until then they are held back.
  const body = registriesDebug({ ...r, options: OPTIONS, nowMs: 2000 });
  const a = body.registries[0]!;
  assert.equal(a.heldBack.instances.length, MAX_NAMES_LISTED);
  assert.equal(a.heldBack.instancesOmitted, 150 - MAX_NAMES_LISTED);
  assert.equal(a.instances, 152);
  const r2 = run([
    { at: 1000, reads: { 'zookeeper://a': [service(long, ['10.0.0.1']), service('other', ['10.0.0.2'])] } },
    { at: 2000, reads: { 'zookeeper://a': [service('other', ['10.0.0.2'])] } },
  ]);
  const held = registriesDebug({ ...r2, options: OPTIONS, nowMs: 2000 }).registries[0]!.heldBack.services[0]!;
  assert.ok(held.service.length < 400, `${held.service.length} characters`);
  assert.ok(held.service.startsWith('kxxx'));
});

test('no registries configured: an empty list with the policy in force', () => {
  assert.deepEqual(registriesDebug({ statuses: [], state: EMPTY_CATALOG_STATE, decisions: [], options: OPTIONS, nowMs: 0 }), { now: iso(0), policy: OPTIONS, registries: [] });
});

test('a service no longer listed whose instances are protected is shown under protections only, not as held back until the grace', () => {
  const all = [service('s1', ['10.0.0.1']), service('s2', ['10.0.1.1']), service('s3', ['10.0.2.1'])];
  const r = run([
    { at: 0, reads: { 'zookeeper://a': all } },
    { at: 1000, reads: { 'zookeeper://a': all.slice(1) } },
    { at: 11_000, reads: { 'zookeeper://a': all.slice(1) } },
  ]);
  const a = registriesDebug({ ...r, options: OPTIONS, nowMs: 11_000 }).registries[0]!;
  assert.deepEqual(a.heldBack.services, []);
  assert.deepEqual(a.heldBack.instances, []);
  assert.deepEqual(a.protections.map((p) => [p.scope, p.before, p.after, p.until, p.kept]), [['service', 1, 0, iso(71_000), ['10.0.0.1:9090']]]);
});
