/**
 * The golden stages of running in a cluster, for test/golden/golden.test.ts. Their in.yaml is
 * plain data:
 *
 *   vips        cidr, used (addresses other objects hold), requests ({key, previous?})
 *               → allocateVips: assigned, exhausted, moved
 *   sink-plan   options (PlanOptions fields over the defaults), inputs (InputHealth), desired
 *               (DesiredObject), live (objects as the API returns them) → the SinkPlan
 *
 * Each stage shuffles every list whose order must not matter; `check` states what every case must
 * satisfy beyond its out.yaml.
 */
import assert from 'node:assert/strict';
import { allocateVips, type VipRequest } from '../../src/serviceentry/vip.js';
import { plan, DEFAULT_PLAN_OPTIONS, type PlanOptions } from '../../src/sink/plan.js';
import type { InputHealth } from '../../src/sink/inputs.js';
import type { DesiredObject, LiveObject } from '../../src/sink/objects.js';
import type { DataStage } from './golden-registry.js';
import { shuffled } from './random.js';

interface VipsCase {
  cidr: string;
  used?: string[];
  requests: (VipRequest | string)[];
}

const vipsStage: DataStage<VipsCase> = {
  kind: 'data',
  run: (c) => {
    const r = allocateVips(c.requests, new Set(c.used ?? []), c.cidr);
    return { assigned: Object.fromEntries([...r.assigned].sort(([a], [b]) => (a < b ? -1 : 1))), exhausted: r.exhausted, moved: r.moved };
  },
  shuffle: (c, seed) => ({ ...c, used: shuffled(c.used ?? [], seed), requests: shuffled(c.requests, seed + 1) }),
  check: (c) => {
    const ips = [...allocateVips(c.requests, new Set(c.used ?? []), c.cidr).assigned.values()];
    assert.equal(new Set(ips).size, ips.length, 'no address is given twice');
    for (const ip of ips) assert.ok(!(c.used ?? []).includes(ip), `${ip} is used elsewhere`);
  },
};

interface SinkPlanCase {
  options?: Partial<PlanOptions>;
  inputs?: InputHealth[];
  desired?: DesiredObject[];
  live?: LiveObject[];
}

function runPlan(c: SinkPlanCase) {
  return plan(c.desired ?? [], c.live ?? [], c.inputs ?? [], { ...DEFAULT_PLAN_OPTIONS, ...c.options });
}

const sinkPlanStage: DataStage<SinkPlanCase> = {
  kind: 'data',
  run: runPlan,
  shuffle: (c, seed) => ({ ...c, inputs: shuffled(c.inputs ?? [], seed), desired: shuffled(c.desired ?? [], seed + 1), live: shuffled(c.live ?? [], seed + 2) }),
  check: (c) => {
    const p = runPlan(c);
    const options = { ...DEFAULT_PLAN_OPTIONS, ...c.options };
    // Deletes only what carries this instance's labels; writes nothing while an input never synced.
    for (const d of p.deletes) {
      const l = (c.live ?? []).find((o) => o.metadata.name === d.name && o.metadata.namespace === d.namespace && o.kind === d.kind)!;
      assert.equal(l.metadata.labels?.['metamesh.io/instance'], options.identity.instance, `${d.object} is not ours`);
    }
    if ((c.inputs ?? []).some((i) => i.state !== 'synced')) assert.deepEqual(p.deletes, []);
    if ((c.inputs ?? []).some((i) => i.state === 'unsynced')) assert.deepEqual([...p.creates, ...p.updates], []);
  },
};

export const CLUSTER_STAGES = { vips: vipsStage, 'sink-plan': sinkPlanStage } as const;
