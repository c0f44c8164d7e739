/**
 * The apply sink's pure parts (src/sink/): apply bodies, drift against live objects, the plan's
 * safety rules, the desired set from the pipeline's output, and the input-health summaries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutputObject } from '../../src/model/output.js';
import type { ServiceEntry } from '../../src/model/resources.js';
import { applyBody, releaseBody, withResourceVersion } from '../../src/sink/apply-body.js';
import { desiredObjects } from '../../src/sink/desired.js';
import { drift, ownedLeaves } from '../../src/sink/drift.js';
import { fromRegistryStatus, fromSourceStatus, type InputHealth } from '../../src/sink/inputs.js';
import { FIELD_MANAGER, isOwnOutput, objectKey, type DesiredObject, type LiveObject } from '../../src/sink/objects.js';
import { DEFAULT_PLAN_OPTIONS, plan } from '../../src/sink/plan.js';
import { shuffled } from '../support/random.js';

const ID = { instance: 'metamesh' };
const OURS = { 'app.kubernetes.io/managed-by': 'metamesh', 'metamesh.io/instance': 'metamesh' };
const SYNCED: InputHealth[] = [{ name: 'informer', state: 'synced' }];

function ef(name: string, spec: Record<string, unknown> = { configPatches: [] }, labels?: Record<string, string>): OutputObject {
  return { apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: { name, namespace: 'istio-system', ...(labels ? { labels } : {}) }, spec };
}
function own(o: OutputObject): DesiredObject {
  return { ownership: 'object', object: o };
}
function live(o: OutputObject, meta: Record<string, unknown> = {}): LiveObject {
  return { ...o, metadata: { ...o.metadata, uid: `uid-${o.metadata.name}`, resourceVersion: '1', ...meta } };
}

describe('apply bodies', () => {
  it('an owned object gets the ownership labels; nothing the server populates is copied', () => {
    const o = { ...ef('a', { b: 1, a: 2 }, { role: 'x' }), status: { s: 1 } } as OutputObject;
    const body = applyBody(own(o), ID);
    assert.deepEqual(body.metadata.labels, { 'app.kubernetes.io/managed-by': 'metamesh', 'metamesh.io/instance': 'metamesh', role: 'x' });
    assert.equal('status' in body, false);
    assert.equal(JSON.stringify(body.spec), '{"a":2,"b":1}', 'keys sorted, so equal content gives equal bytes');
  });

  it('an amendment carries only its fields and the amended-by annotation', () => {
    const body = applyBody({ ownership: 'fields', object: { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 's', namespace: 'n' }, spec: { addresses: ['240.240.0.1'] } } }, ID);
    assert.deepEqual(body, { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { annotations: { 'metamesh.io/amended-by': 'metamesh' }, name: 's', namespace: 'n' }, spec: { addresses: ['240.240.0.1'] } });
  });

  it('a release names the object only, with the resourceVersion as precondition', () => {
    const l = live(ef('a'), { resourceVersion: '42', labels: { x: 'y' } });
    assert.deepEqual(withResourceVersion(releaseBody(l), '42'), { apiVersion: l.apiVersion, kind: 'EnvoyFilter', metadata: { name: 'a', namespace: 'istio-system', resourceVersion: '42' } });
  });
});

describe('drift', () => {
  const body = applyBody(own(ef('a', { configPatches: [{ applyTo: 'CLUSTER' }], workloadSelector: { labels: { app: 'x' } } })), ID);

  it('is empty when the live object holds what metamesh applies, whatever else others added', () => {
    const l = live({ ...ef('a', { workloadSelector: { labels: { app: 'x', extra: 'theirs' } }, configPatches: [{ applyTo: 'CLUSTER' }], priority: 3 }), metadata: { name: 'a', namespace: 'istio-system', labels: { ...OURS, team: 'x' } } });
    assert.deepEqual(drift(body, l), []);
  });

  it('names the fields that differ: a list is compared whole, a missing label counts', () => {
    const l = live({ ...ef('a', { configPatches: [{ applyTo: 'CLUSTER' }, { applyTo: 'LISTENER' }], workloadSelector: { labels: { app: 'y' } } }), metadata: { name: 'a', namespace: 'istio-system', labels: { 'app.kubernetes.io/managed-by': 'metamesh' } } });
    assert.deepEqual(drift(body, l), ['metadata.labels["metamesh.io/instance"]', 'spec.configPatches', 'spec.workloadSelector.labels.app']);
  });

  it("a field metamesh applied before and dropped since needs a write; another manager's fields do not", () => {
    const l = live({ ...ef('a', { configPatches: [{ applyTo: 'CLUSTER' }], workloadSelector: { labels: { app: 'x' } }, priority: 1 }), metadata: { name: 'a', namespace: 'istio-system', labels: OURS } }, {
      managedFields: [
        { manager: FIELD_MANAGER, operation: 'Apply', fieldsV1: { 'f:spec': { 'f:priority': {}, 'f:configPatches': {}, 'f:workloadSelector': { 'f:labels': { 'f:app': {} } } } } },
        { manager: FIELD_MANAGER, operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': { 'f:x': {} } } },
        { manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': { 'f:other': {} } } },
      ],
    });
    assert.deepEqual(ownedLeaves(l), [['spec', 'priority'], ['spec', 'configPatches'], ['spec', 'workloadSelector', 'labels', 'app']]);
    assert.deepEqual(drift(body, l), ['spec.priority (no longer set by metamesh)']);
  });

  it('a missing map equals an empty one', () => {
    const b = applyBody(own(ef('a', { workloadSelector: {} })), ID);
    assert.deepEqual(drift(b, live({ ...ef('a', {}), metadata: { name: 'a', namespace: 'istio-system', labels: OURS } })), []);
  });
});

describe('plan', () => {
  const ours = (name: string, spec?: Record<string, unknown>) => live(ef(name, spec, OURS));

  it('gives the same plan for the same sets in any order', () => {
    const desired = [own(ef('a')), own(ef('b', { x: 1 })), own(ef('c'))];
    const current = [ours('b'), ours('d'), live(ef('e')), ours('c')];
    const expected = JSON.stringify(plan(desired, current, SYNCED));
    for (let seed = 1; seed <= 20; seed++) assert.equal(JSON.stringify(plan(shuffled(desired, seed), shuffled(current, seed + 100), SYNCED)), expected);
  });

  it('deletes nothing without its labels, even when nothing desired has its name', () => {
    const p = plan([], [live(ef('users')), live(ef('other', undefined, { ...OURS, 'metamesh.io/instance': 'other' })), live(ef('unclaimed', undefined, { 'app.kubernetes.io/managed-by': 'metamesh' }))], SYNCED);
    assert.deepEqual(p.deletes, []);
    assert.deepEqual(p.diagnostics, []);
  });

  it('a delete carries uid and resourceVersion preconditions; an object already being deleted is left to finish', () => {
    const p = plan([], [ours('gone'), live(ef('going', undefined, OURS), { deletionTimestamp: '2026-01-01T00:00:00Z' })], SYNCED);
    assert.deepEqual(p.deletes.map((d) => [d.name, d.preconditions]), [['gone', { uid: 'uid-gone', resourceVersion: '1' }]]);
  });

  it('holds every withdrawal while an input is stale, and writes nothing while one never synced', () => {
    const desired = [own(ef('new'))];
    const current = [ours('gone')];
    const stale = plan(desired, current, [...SYNCED, { name: 'zk', state: 'stale' }]);
    assert.equal(stale.creates.length, 1);
    assert.deepEqual(stale.deletes, []);
    assert.deepEqual(stale.held.map((h) => h.object), ['EnvoyFilter istio-system/gone']);
    assert.equal(stale.heldBecause, 'inputs-not-synced');
    const unsynced = plan(desired, current, [{ name: 'zk', state: 'unsynced' }]);
    assert.deepEqual([unsynced.creates, unsynced.updates, unsynced.deletes], [[], [], []]);
    assert.equal(unsynced.diagnostics[0]!.code, 'MM_SINK_NOT_READY');
  });

  it('the mass-deletion guard: the floor always passes, the fraction of owned objects decides above it', () => {
    const current = Array.from({ length: 30 }, (_, i) => ours(`ef-${String(i).padStart(2, '0')}`));
    const keep = (n: number) => current.slice(0, n).map((l) => own(ef(l.metadata.name)));
    assert.equal(plan(keep(20), current, SYNCED).deletes.length, 10, '10 at once: at the floor');
    assert.equal(plan(keep(16), current, SYNCED).deletes.length, 14, '14 of 30: under half');
    const refused = plan(keep(14), current, SYNCED);
    assert.equal(refused.deletes.length, 0, '16 of 30: over half');
    assert.equal(refused.held.length, 16);
    assert.equal(refused.diagnostics[0]!.code, 'MM_SINK_MASS_DELETION');
    assert.equal(plan(keep(14), current, SYNCED, { ...DEFAULT_PLAN_OPTIONS, allowMassDeletion: true }).deletes.length, 16);
    assert.equal(plan(keep(14), current, SYNCED, { ...DEFAULT_PLAN_OPTIONS, maxDeletionFraction: 0.6 }).deletes.length, 16);
  });

  it('an update carries the resourceVersion read and forces; a create and an amendment do not force', () => {
    const se = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 's', namespace: 'n', annotations: { 'metamesh.io/allocated-address': '240.240.0.1' } }, spec: { addresses: ['240.240.0.1'] } };
    const p = plan(
      [own(ef('new')), own(ef('changed', { x: 2 })), { ownership: 'fields', object: se }],
      [live(ef('changed', { x: 1 }, OURS), { resourceVersion: '7' }), live({ ...se, metadata: { name: 's', namespace: 'n' }, spec: { hosts: ['s.example'] } }, { resourceVersion: '9' })],
      SYNCED,
    );
    assert.deepEqual(p.creates.map((c) => [c.object, c.force, c.body.metadata.resourceVersion]), [['EnvoyFilter istio-system/new', false, undefined]]);
    assert.deepEqual(p.updates.map((c) => [c.action, c.force, c.body.metadata.resourceVersion]), [['amend', false, '9'], ['update', true, '7']]);
  });

  it('two desired objects of one name: one is applied, the other reported', () => {
    const p = plan([own(ef('dup', { v: 2 })), own(ef('dup', { v: 1 }))], [], SYNCED);
    assert.equal(p.creates.length, 1);
    assert.deepEqual(p.creates[0]!.body.spec, { v: 1 });
    assert.deepEqual(p.diagnostics.map((d) => d.code), ['MM_SINK_CONFLICT']);
  });

  it('the same object read under two API versions is one object', () => {
    const a = live(ef('x', undefined, OURS));
    const b = { ...a, apiVersion: 'networking.istio.io/v1' };
    assert.equal(objectKey(a), objectKey(b));
    assert.equal(plan([own(ef('x'))], [a, b], SYNCED).unchanged, 1);
  });
});

describe('desired objects from the pipeline', () => {
  const generated: ServiceEntry = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'demo.greeter', namespace: 'dubbo', labels: { 'app.kubernetes.io/managed-by': 'metamesh' } }, spec: { hosts: ['demo.greeter'], resolution: 'STATIC' } };
  const withVip = (name: string, ns: string, ip: string): OutputObject => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name, namespace: ns, annotations: { 'metamesh.io/allocated-address': ip, 'metamesh.io/source': `ServiceEntry ${ns}/${name}`, users: 'annotation' } },
    spec: { hosts: [`${name}.example`], addresses: [ip], resolution: 'STATIC' },
  });

  it('registry ServiceEntries are owned (with their VIP); a user ServiceEntry given a VIP is amended with the address only', () => {
    const out = desiredObjects({ serviceEntries: [withVip('demo.greeter', 'dubbo', '240.240.0.1'), withVip('users', 'shop', '240.240.0.2')], envoyFilters: [ef('e')], virtualServices: [] }, [generated]);
    assert.deepEqual(
      out.map((d) => [d.ownership, d.object.metadata.name]),
      [['object', 'demo.greeter'], ['fields', 'users'], ['object', 'e']],
    );
    assert.deepEqual(out[0]!.object.spec.addresses, ['240.240.0.1']);
    assert.deepEqual(out[1]!.object, { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'users', namespace: 'shop', annotations: { 'metamesh.io/allocated-address': '240.240.0.2' } }, spec: { addresses: ['240.240.0.2'] } });
  });

  it('a registry ServiceEntry without a VIP is desired as generated', () => {
    const out = desiredObjects({ serviceEntries: [], envoyFilters: [], virtualServices: [] }, [generated]);
    assert.deepEqual(out[0]!.object.spec, generated.spec);
  });
});

describe('inputs and ownership', () => {
  it('a registry is unsynced until its first sync and stale after', () => {
    assert.equal(fromRegistryStatus({ registry: 'zk', state: 'connecting' }).state, 'unsynced');
    assert.deepEqual(fromRegistryStatus({ registry: 'zk', state: 'disconnected', lastSyncMs: 1, error: 'EPIPE' }), { name: 'zk', state: 'stale', detail: 'disconnected: EPIPE' });
    assert.deepEqual(fromRegistryStatus({ registry: 'zk', state: 'synced', lastSyncMs: 1 }), { name: 'zk', state: 'synced' });
  });

  it('a watched source: ok is synced, stale stays stale, pending and failed never synced', () => {
    const st = (state: 'pending' | 'ok' | 'stale' | 'failed') => fromSourceStatus({ source: 'dir', state, since: '' }).state;
    assert.deepEqual([st('ok'), st('stale'), st('pending'), st('failed')], ['synced', 'stale', 'unsynced', 'unsynced']);
  });

  it("only this instance's own objects are its output, to be left out of the pipeline's input", () => {
    assert.equal(isOwnOutput(live(ef('a', undefined, OURS)), ID), true);
    assert.equal(isOwnOutput(live(ef('a', undefined, { ...OURS, 'metamesh.io/instance': 'b' })), ID), false);
    assert.equal(isOwnOutput(live(ef('a')), ID), false);
  });
});
