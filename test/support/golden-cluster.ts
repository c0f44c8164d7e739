/**
 * The golden stages of running in a cluster, for test/golden/golden.test.ts. Their in.yaml is
 * plain data:
 *
 *   vips        cidr, used (addresses other objects hold), requests ({key, previous?})
 *               → allocateVips: assigned, exhausted, moved
 *   sink-plan   options (PlanOptions fields over the defaults), inputs (InputHealth), desired
 *               (DesiredObject), live (objects as the API returns them) → the SinkPlan
 *   status      now, targets (MetaRouters/ApplicationProtocols with their live status),
 *               diagnostics (of a pipeline run) → each target's status and needsWrite, and the writes
 *   lease       timing, candidates (clock rate, offset, wall skew), events, untilMs → the
 *               leadership intervals and writes of a simulated run (test/support/lease-sim.ts)
 *
 * Each stage shuffles every list whose order must not matter; `check` states what every case must
 * satisfy beyond its out.yaml.
 */
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../src/model/diagnostics.js';
import { allocateVips, type VipRequest } from '../../src/serviceentry/vip.js';
import { plan, DEFAULT_PLAN_OPTIONS, type PlanOptions } from '../../src/sink/plan.js';
import type { InputHealth } from '../../src/sink/inputs.js';
import type { DesiredObject, LiveObject } from '../../src/sink/objects.js';
import { computeStatus, statusNeedsWrite } from '../../src/status/conditions.js';
import type { StatusTarget } from '../../src/status/model.js';
import { planStatusWrites } from '../../src/status/writes.js';
import type { DataStage } from './golden-registry.js';
import { overlaps, simulate, type SimInput } from './lease-sim.js';
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

interface StatusCase {
  now: string;
  targets: StatusTarget[];
  diagnostics?: Diagnostic[];
}

const statusStage: DataStage<StatusCase> = {
  kind: 'data',
  run: (c) => {
    const statuses = [...c.targets]
      .sort((a, b) => (`${a.kind} ${a.metadata.namespace}/${a.metadata.name}` < `${b.kind} ${b.metadata.namespace}/${b.metadata.name}` ? -1 : 1))
      .map((t) => {
        const status = computeStatus(t, c.diagnostics ?? [], c.now);
        return { object: `${t.kind} ${t.metadata.namespace}/${t.metadata.name}`, status, needsWrite: statusNeedsWrite(t.status, status) };
      });
    return { statuses, writes: planStatusWrites(c.targets, c.diagnostics ?? [], c.now) };
  },
  shuffle: (c, seed) => ({ ...c, targets: shuffled(c.targets, seed), diagnostics: shuffled(c.diagnostics ?? [], seed + 1) }),
  check: (c) => {
    // Writing the computed status and computing again needs no write: the status is a fixed point.
    for (const t of c.targets) {
      const once = computeStatus(t, c.diagnostics ?? [], c.now);
      const again = computeStatus({ ...t, status: once }, c.diagnostics ?? [], 'later');
      assert.deepEqual(again, once);
      assert.equal(statusNeedsWrite(once, again), false);
    }
  },
};

const leaseStage: DataStage<SimInput> = {
  kind: 'data',
  run: simulate,
  shuffle: (c, seed) => ({ ...c, candidates: shuffled(c.candidates, seed) }),
  check: (c) => assert.deepEqual(overlaps(simulate(c).leaders), [], 'two leaders at once'),
};

export const CLUSTER_STAGES = { vips: vipsStage, 'sink-plan': sinkPlanStage, status: statusStage, lease: leaseStage } as const;
