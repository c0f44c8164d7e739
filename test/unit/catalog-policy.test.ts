/**
 * The catalog's outage policy, step by step: what a registry outage, an absence, a sudden loss,
 * a recovery and flapping do to the published instances. Time is the `nowMs` argument.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CATALOG_OPTIONS, EMPTY_CATALOG_STATE, type CatalogState } from '../../src/catalog/model.js';
import { step, type CatalogStep } from '../../src/catalog/step.js';
import { diag } from '../../src/model/diagnostics.js';
import type { RegistryInstance, RegistryService, RegistrySnapshot, RegistryState, RegistryStatus } from '../../src/model/registry.js';

const ZK = 'zookeeper://127.0.0.1:2181/dubbo';
const NACOS = 'nacos://127.0.0.1:8848';
const GRACE = DEFAULT_CATALOG_OPTIONS.removalGraceMs;
const HOLD = DEFAULT_CATALOG_OPTIONS.protectionHoldMs;

function inst(n: number, over: Partial<RegistryInstance> = {}): RegistryInstance {
  return { address: `10.0.0.${n}`, port: 20880, labels: { version: '1.0.0' }, weight: 100, healthy: true, enabled: true, ...over };
}
function svc(name: string, instances: RegistryInstance[], over: Partial<RegistryService> = {}): RegistryService {
  return { key: `dubbo:demo.${name}`, protocol: 'dubbo', host: `demo.${name.toLowerCase()}`, interface: `demo.${name}`, instances, ...over };
}
function snap(services: RegistryService[], registry = ZK): RegistrySnapshot {
  return { registry, services, diagnostics: [] };
}
function status(state: RegistryState, registry = ZK): RegistryStatus {
  return { registry, state };
}
function range(from: number, to: number): RegistryInstance[] {
  return Array.from({ length: to - from + 1 }, (_, i) => inst(from + i));
}

/** Runs the steps in order, each from the state of the one before; returns every result. */
function run(steps: { at: number; snapshots: RegistrySnapshot[]; statuses: RegistryStatus[] }[], start: CatalogState = EMPTY_CATALOG_STATE): CatalogStep[] {
  const out: CatalogStep[] = [];
  let state = start;
  for (const s of steps) {
    const r = step(state, s.snapshots, s.statuses, DEFAULT_CATALOG_OPTIONS, s.at);
    out.push(r);
    state = r.state;
  }
  return out;
}

function addresses(r: CatalogStep, host = 'demo.greeter'): string[] {
  return (r.catalog.services.find((s) => s.host === host)?.instances ?? []).map((i) => `${i.address}:${i.port}`);
}
function codes(r: CatalogStep): string[] {
  return r.diagnostics.map((d) => d.code);
}

const synced = (at: number, services: RegistryService[]) => ({ at, snapshots: [snap(services)], statuses: [status('synced')] });

describe('catalog outage policy', () => {
  it('a registry that disconnects keeps every last-known service and instance, whatever its snapshot says', () => {
    for (const state of ['disconnected', 'expired', 'failing', 'connecting'] as const) {
      const [, down] = run([synced(0, [svc('Greeter', range(1, 3)), svc('Other', range(4, 4))]), { at: 1000, snapshots: [snap([])], statuses: [status(state)] }]);
      assert.deepEqual(addresses(down!), ['10.0.0.1:20880', '10.0.0.2:20880', '10.0.0.3:20880'], state);
      assert.deepEqual(addresses(down!, 'demo.other'), ['10.0.0.4:20880'], state);
      assert.deepEqual(codes(down!), ['MM_REGISTRY_UNAVAILABLE'], state);
      assert.deepEqual(down!.decisions.map((d) => d.kind), ['registry-unavailable'], state);
    }
  });

  it('a registry that stays down longer than the grace period and the hold still removes nothing', () => {
    const r = run([synced(0, [svc('Greeter', range(1, 3))]), ...[1, 2, 3].map((k) => ({ at: k * (GRACE + HOLD), snapshots: [], statuses: [status('disconnected')] }))]);
    assert.deepEqual(addresses(r.at(-1)!), ['10.0.0.1:20880', '10.0.0.2:20880', '10.0.0.3:20880']);
  });

  it('a service absent from a synced registry (in ZooKeeper: every provider gone) keeps its instances for the grace period, has their loss protected for the hold, then is removed', () => {
    const others = [svc('A', range(3, 3)), svc('B', range(4, 4))];
    const [, absent, before, graceOver, held, after] = run([
      synced(0, [svc('Greeter', range(1, 2)), ...others]),
      synced(1000, others),
      synced(1000 + GRACE - 1, others),
      synced(1000 + GRACE, others),
      synced(1000 + GRACE + HOLD - 1, others),
      synced(1000 + GRACE + HOLD, others),
    ]);
    assert.deepEqual(addresses(absent!), ['10.0.0.1:20880', '10.0.0.2:20880']);
    assert.deepEqual(codes(absent!), ['MM_CATALOG_REMOVAL_PENDING']);
    assert.deepEqual(absent!.decisions.map((d) => [d.kind, d.service, d.items, d.untilMs]), [['removal-pending', 'dubbo:demo.Greeter', ['10.0.0.1:20880', '10.0.0.2:20880'], 1000 + GRACE]]);
    assert.deepEqual(addresses(before!), ['10.0.0.1:20880', '10.0.0.2:20880'], 'the grace period counts from the first read without it');
    // Losing every instance at once is the sudden loss the protection refuses.
    assert.deepEqual(addresses(graceOver!), ['10.0.0.1:20880', '10.0.0.2:20880']);
    assert.deepEqual(codes(graceOver!), ['MM_CATALOG_PROTECTED']);
    assert.deepEqual(graceOver!.decisions.map((d) => [d.kind, d.before, d.after, d.untilMs]), [['protection-triggered', 2, 0, 1000 + GRACE + HOLD]]);
    assert.deepEqual(addresses(held!), ['10.0.0.1:20880', '10.0.0.2:20880']);
    assert.deepEqual(addresses(after!), []);
    assert.equal(after!.catalog.services.some((x) => x.host === 'demo.greeter'), false, 'the service is gone');
    assert.deepEqual(after!.decisions.map((d) => [d.kind, d.items ?? []]), [['removed', ['dubbo:demo.Greeter']], ['protection-released', []], ['removed', ['10.0.0.1:20880', '10.0.0.2:20880']]]);
    assert.deepEqual(codes(after!), ['MM_CATALOG_PROTECTION_RELEASED']);
  });

  it('a service that had no instances and is no longer listed is removed once it has been missing for the grace period', () => {
    const nacos = (at: number, services: RegistryService[]) => ({ at, snapshots: [snap(services, NACOS)], statuses: [status('synced', NACOS)] });
    const others = [svc('A', range(3, 3), { key: 'a' }), svc('B', range(4, 4), { key: 'b' })];
    const [, absent, after] = run([nacos(0, [svc('Empty', [], { key: 'empty' }), ...others]), nacos(10, others), nacos(10 + GRACE, others)]);
    assert.equal(absent!.catalog.services.some((x) => x.host === 'demo.empty'), true);
    assert.deepEqual(absent!.decisions.map((d) => [d.kind, d.items]), [['removal-pending', ['empty']]]);
    assert.equal(after!.catalog.services.some((x) => x.host === 'demo.empty'), false);
    assert.deepEqual(after!.decisions.map((d) => [d.kind, d.items]), [['removed', ['empty']]]);
  });

  it('an instance absent from a synced registry is kept until the grace period is over, then removed', () => {
    const [, absent, after] = run([synced(0, [svc('Greeter', range(1, 4))]), synced(10, [svc('Greeter', range(1, 3))]), synced(10 + GRACE, [svc('Greeter', range(1, 3))])]);
    assert.deepEqual(addresses(absent!), ['10.0.0.1:20880', '10.0.0.2:20880', '10.0.0.3:20880', '10.0.0.4:20880']);
    assert.deepEqual(codes(absent!), ['MM_CATALOG_REMOVAL_PENDING']);
    assert.deepEqual(addresses(after!), ['10.0.0.1:20880', '10.0.0.2:20880', '10.0.0.3:20880']);
  });

  it('an outage restarts the absence clocks: providers that re-register after it are not removed on reconnection', () => {
    const [, absent, , back] = run([
      synced(0, [svc('Greeter', range(1, 2)), svc('Other', range(5, 6))]),
      synced(1000, [svc('Greeter', range(1, 1)), svc('Other', range(5, 6))]),
      { at: 2000, snapshots: [], statuses: [status('expired')] },
      synced(2000 + GRACE, [svc('Greeter', range(1, 1)), svc('Other', range(5, 6))]),
    ]);
    assert.deepEqual(codes(absent!), ['MM_CATALOG_REMOVAL_PENDING']);
    assert.deepEqual(addresses(back!), ['10.0.0.1:20880', '10.0.0.2:20880'], 'missed for a full grace period only since the reconnection');
    assert.equal(back!.state.registries[0]!.services[0]!.instances[1]!.absentSinceMs, 2000 + GRACE);
  });

  it('90 % of the instances gone at once: protection keeps them and says so', () => {
    const [, , protectedStep] = run([synced(0, [svc('Greeter', range(1, 10))]), synced(1, [svc('Greeter', range(1, 1))]), synced(1 + GRACE, [svc('Greeter', range(1, 1))])]);
    assert.equal(addresses(protectedStep!).length, 10);
    assert.deepEqual(codes(protectedStep!), ['MM_CATALOG_PROTECTED']);
    assert.match(protectedStep!.diagnostics[0]!.message, /1 usable instance\(s\) of demo\.greeter instead of 10/);
    assert.deepEqual(protectedStep!.decisions.map((d) => d.kind), ['protection-triggered']);
    assert.equal(protectedStep!.state.registries[0]!.services[0]!.protectedSinceMs, 1 + GRACE);
  });

  it('instances turning unhealthy or disabled count as lost at once (no grace), and protection keeps the healthy versions', () => {
    const sick = range(1, 10).map((i, n) => (n < 6 ? { ...i, healthy: n % 2 === 0, enabled: n % 2 === 1 } : i));
    const [, r] = run([synced(0, [svc('Greeter', range(1, 10))]), synced(5, [svc('Greeter', sick)])]);
    assert.deepEqual(codes(r!), ['MM_CATALOG_PROTECTED']);
    assert.ok(r!.catalog.services[0]!.instances.every((i) => i.healthy && i.enabled));
  });

  it('a loss within the threshold is applied: half of the instances may go in one step', () => {
    const [, , after] = run([synced(0, [svc('Greeter', range(1, 4))]), synced(1, [svc('Greeter', range(1, 2))]), synced(1 + GRACE, [svc('Greeter', range(1, 2))])]);
    assert.deepEqual(addresses(after!), ['10.0.0.1:20880', '10.0.0.2:20880']);
    assert.deepEqual(codes(after!), []);
  });

  it('a rolling restart onto new addresses is no loss', () => {
    const [, moved] = run([synced(0, [svc('Greeter', range(1, 4))]), synced(1, [svc('Greeter', range(11, 14))])]);
    assert.deepEqual(codes(moved!), ['MM_CATALOG_REMOVAL_PENDING']);
    assert.equal(addresses(moved!).length, 8);
  });

  it('recovery: the instances coming back lift the protection', () => {
    const steps = run([
      synced(0, [svc('Greeter', range(1, 10))]),
      synced(1, [svc('Greeter', range(1, 1))]),
      synced(1 + GRACE, [svc('Greeter', range(1, 1))]),
      synced(2 + GRACE, [svc('Greeter', range(1, 9))]),
    ]);
    const back = steps[3]!;
    assert.deepEqual(codes(back), ['MM_CATALOG_PROTECTION_RELEASED']);
    assert.equal(back.state.registries[0]!.services[0]!.protectedSinceMs, undefined);
    assert.equal(addresses(back).length, 9, 'the tenth, missing for longer than the grace period, goes now');
    assert.deepEqual(back.decisions.map((d) => [d.kind, d.items]), [['protection-released', undefined], ['removed', ['10.0.0.10:20880']]]);
  });

  it('a loss that lasts the protection hold is taken as intended and applied', () => {
    const steps = run([
      synced(0, [svc('Greeter', range(1, 10))]),
      synced(1, [svc('Greeter', range(1, 1))]),
      synced(1 + GRACE, [svc('Greeter', range(1, 1))]),
      synced(1 + GRACE + HOLD - 1, [svc('Greeter', range(1, 1))]),
      synced(1 + GRACE + HOLD, [svc('Greeter', range(1, 1))]),
    ]);
    assert.equal(addresses(steps[3]!).length, 10);
    assert.deepEqual(steps[3]!.decisions.map((d) => d.kind), ['protection-held']);
    assert.deepEqual(addresses(steps[4]!), ['10.0.0.1:20880']);
    assert.deepEqual(codes(steps[4]!), ['MM_CATALOG_PROTECTION_RELEASED']);
  });

  it('flapping instances are never removed while each absence is shorter than the grace period', () => {
    const steps = [];
    for (let k = 0; k < 10; k++) steps.push(synced(k * (GRACE / 2), [svc('Greeter', k % 2 === 0 ? range(1, 4) : range(1, 2))]));
    const results = run(steps);
    for (const r of results) assert.equal(addresses(r).length, 4);
    assert.ok(results.every((r) => !r.decisions.some((d) => d.kind === 'removed')));
  });

  it('a flapping registry (synced, down, synced…) neither removes nor duplicates anything', () => {
    const steps = [];
    for (let k = 0; k < 8; k++) steps.push(k % 2 === 0 ? synced(k * GRACE, [svc('Greeter', range(1, 3))]) : { at: k * GRACE, snapshots: [], statuses: [status('disconnected')] });
    for (const r of run(steps)) assert.deepEqual(addresses(r), ['10.0.0.1:20880', '10.0.0.2:20880', '10.0.0.3:20880']);
  });

  it('most of a registry\'s services gone at once: the registry-level protection keeps them', () => {
    const all = ['A', 'B', 'C', 'D'].map((n, i) => svc(n, range(i + 1, i + 1)));
    const [, , r] = run([synced(0, all), synced(1, all.slice(0, 1)), synced(1 + GRACE, all.slice(0, 1))]);
    assert.equal(r!.catalog.services.length, 4);
    assert.deepEqual(codes(r!), ['MM_CATALOG_PROTECTED']);
    assert.equal(r!.diagnostics[0]!.object, `Registry ${ZK}`);
  });

  it('a registry reported synced without a snapshot counts as failing and keeps everything', () => {
    const [, r] = run([synced(0, [svc('Greeter', range(1, 2))]), { at: 1 + GRACE, snapshots: [], statuses: [status('synced')] }]);
    assert.deepEqual(addresses(r!), ['10.0.0.1:20880', '10.0.0.2:20880']);
    assert.match(r!.diagnostics[0]!.message, /is failing \(synced, but no snapshot was given\)/);
  });

  it('the records a registry could not read are passed through as they are', () => {
    const bad = diag('MM_INPUT_FIELD_TYPE', `Registry ${ZK}`, 'a record could not be read.');
    const r = step(EMPTY_CATALOG_STATE, [{ ...snap([svc('Greeter', range(1, 1))]), diagnostics: [bad] }], [status('synced')], DEFAULT_CATALOG_OPTIONS, 0);
    assert.deepEqual(r.diagnostics, [bad]);
  });

  it('two services of one read with the same key: the same one is kept whatever the read order', () => {
    const a = svc('Greeter', range(1, 1));
    const b = svc('Greeter', range(2, 2));
    const one = step(EMPTY_CATALOG_STATE, [snap([a, b])], [status('synced')], DEFAULT_CATALOG_OPTIONS, 0);
    const two = step(EMPTY_CATALOG_STATE, [snap([b, a])], [status('synced')], DEFAULT_CATALOG_OPTIONS, 0);
    assert.deepEqual(one.catalog, two.catalog);
    assert.equal(addresses(one).length, 1);
  });

  it('a registry no longer configured (no status) is dropped with its services', () => {
    const [, r] = run([synced(0, [svc('Greeter', range(1, 2))]), { at: 1, snapshots: [], statuses: [] }]);
    assert.deepEqual(r!.catalog.services, []);
    assert.deepEqual(r!.state.registries, []);
  });

  it('the same host from two registries merges the instances; a different protocol is a reported conflict', () => {
    const r = step(
      EMPTY_CATALOG_STATE,
      [snap([svc('Greeter', range(1, 2))]), snap([svc('Greeter', range(2, 3)), svc('Other', range(9, 9), { protocol: 'thrift', host: 'demo.greeter', key: 'thrift:x' })], NACOS)],
      [status('synced'), status('synced', NACOS)],
      DEFAULT_CATALOG_OPTIONS,
      0,
    );
    assert.deepEqual(addresses(r), ['10.0.0.1:20880', '10.0.0.2:20880', '10.0.0.3:20880']);
    assert.deepEqual(r.catalog.services[0]!.registries, [NACOS, ZK]);
    assert.deepEqual(codes(r), ['MM_CATALOG_HOST_CONFLICT', 'MM_CATALOG_HOST_MERGED']);
    assert.equal(r.catalog.services[0]!.protocol, 'dubbo', 'nacos:// sorts before zookeeper://, and its dubbo service sorts before thrift:x');
  });
});
