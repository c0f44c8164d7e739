/**
 * The apply sink's write order with concurrent writes: waves of one phase and kind in the plan's
 * order (src/sink/waves.ts), and forEachLimited's bound on calls in flight (src/util/limited.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlannedApply, PlannedDelete } from '../../src/sink/plan-types.js';
import { forEachLimited } from '../../src/util/limited.js';
import { waves, type Step } from '../../src/sink/waves.js';

const apply = (action: PlannedApply['action'], kind: string, name: string): PlannedApply => ({
  key: `${kind} ${name}`,
  object: `${kind} ns/${name}`,
  action,
  body: { apiVersion: 'networking.istio.io/v1', kind, metadata: { name, namespace: 'ns' } } as unknown as PlannedApply['body'],
  fieldManager: 'metamesh',
  force: action !== 'amend' && action !== 'release',
  changes: [],
});
const remove = (kind: string, name: string): PlannedDelete => ({ key: `${kind} ${name}`, object: `${kind} ns/${name}`, apiVersion: 'networking.istio.io/v1', kind, namespace: 'ns', name, preconditions: {} });
const names = (ws: Step[][]) => ws.map((w) => w.map((s) => s.object.split(' ')[1]!.split('/')[1]).join(','));

test('waves: one per run of phase and kind, in the plan order; updates, amends and releases of a kind share a wave', () => {
  const steps: Step[] = [
    apply('create', 'ServiceEntry', 'se1'), apply('create', 'ServiceEntry', 'se2'),
    apply('create', 'EnvoyFilter', 'ef1'), apply('create', 'EnvoyFilter', 'ef2'), apply('create', 'EnvoyFilter', 'ef3'),
    apply('amend', 'ServiceEntry', 'se3'), apply('release', 'ServiceEntry', 'se4'),
    apply('update', 'EnvoyFilter', 'ef4'), apply('adopt', 'EnvoyFilter', 'ef5'),
    remove('EnvoyFilter', 'ef6'), remove('ServiceEntry', 'se5'),
  ];
  assert.deepEqual(names(waves(steps)), ['se1,se2', 'ef1,ef2,ef3', 'se3,se4', 'ef4,ef5', 'ef6', 'se5']);
  assert.deepEqual(waves(steps).flat(), steps, 'every step once, in order');
  assert.deepEqual(waves([]), []);
});

test('forEachLimited: never more than the limit in flight, every item once, started in order', async () => {
  for (const limit of [1, 3, 8]) {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const items = Array.from({ length: 25 }, (_, i) => i);
    await forEachLimited(items, limit, async (i) => {
      started.push(i);
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, (i * 7) % 5));
      inFlight--;
    });
    assert.deepEqual(started, items, `limit ${limit}: started in order, each once`);
    assert.equal(most, Math.min(limit, items.length), `limit ${limit}: calls in flight at most`);
  }
});

test('forEachLimited: stop() keeps further calls from starting; a rejection is passed on after the others settle', async () => {
  const done: number[] = [];
  await forEachLimited([1, 2, 3, 4, 5, 6], 2, async (i) => void done.push(i), () => done.length >= 3);
  assert.deepEqual(done, [1, 2, 3]);
  const settled: number[] = [];
  await assert.rejects(
    forEachLimited([1, 2, 3, 4], 2, async (i) => {
      await new Promise((r) => setTimeout(r, i));
      settled.push(i);
      if (i === 1) throw new Error('boom');
    }),
    /boom/,
  );
  assert.deepEqual(settled.sort(), [1, 2, 3, 4]);
  await assert.rejects(forEachLimited([1], 0, async () => {}), /limit of at least 1/);
});
