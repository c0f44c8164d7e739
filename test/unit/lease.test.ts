/**
 * Leader election on a Lease (src/leader/): each decision of the state machine, then simulated runs
 * (test/support/lease-sim.ts) with crashes, partitions, releases and drifting clocks: never two
 * leaders, failover within its bound, and a control showing the simulation does catch two leaders
 * when the timing is unsafe.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterWrite, decide, DEFAULT_LEASE_TIMING, INITIAL_ELECTOR_STATE, isLeading, leadingUntil, microTime, observe, release, type Decision, type ElectorState, type LeaseConfig, type LeaseObservation } from '../../src/leader/lease.js';
import { leaseBody, readLease } from '../../src/leader/lease-object.js';
import { checkTiming } from '../../src/leader/timing.js';
import { overlaps, simulate, type SimCandidate, type SimEvent } from '../support/lease-sim.js';
import { mulberry32 } from '../support/random.js';

const A: LeaseConfig = { ...DEFAULT_LEASE_TIMING, identity: 'a' };
const WALL = Date.UTC(2026, 0, 1);
const held = (holder: string, rv: string, extra: object = {}): LeaseObservation => ({ exists: true, spec: { holderIdentity: holder, leaseDurationSeconds: 15, leaseTransitions: 2, acquireTime: microTime(WALL), renewTime: microTime(WALL), ...extra }, resourceVersion: rv });

/** Observes, decides and (for a write) applies the result; returns the new state and the decision. */
function step(state: ElectorState, lease: LeaseObservation, now: number, result: 'ok' | 'conflict' | 'error' = 'ok'): { state: ElectorState; d: Decision } {
  const s = observe(state, lease, A, now);
  const d = decide(s, A, now, WALL + now);
  if (d.kind === 'wait') return { state: s, d };
  const r = result === 'ok' ? { ok: true as const, resourceVersion: `w${now}` } : { ok: false as const, conflict: result === 'conflict' };
  return { state: afterWrite(s, d, r, now), d };
}

describe('lease decisions', () => {
  it('no Lease: create one naming this replica, and lead once it is stored', () => {
    const { state, d } = step(INITIAL_ELECTOR_STATE, { exists: false }, 1000);
    assert.equal(d.kind, 'create');
    assert.deepEqual(d.kind === 'create' && d.spec, { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: '2026-01-01T00:00:01.000000Z', renewTime: '2026-01-01T00:00:01.000000Z', leaseTransitions: 0 });
    assert.equal(isLeading(state, A, 1000), true);
    assert.equal(leadingUntil(state, A, 1000), 11_000);
  });

  it("another's Lease is taken only after its resourceVersion stayed the same for a lease duration on our clock", () => {
    let s = step(INITIAL_ELECTOR_STATE, held('b', '1'), 0).state;
    const wait = decide(s, A, 5000, WALL);
    assert.deepEqual(wait, { kind: 'wait', holder: 'b', wakeAtMs: 7000 });
    s = step(s, held('b', '2'), 14_000).state; // b renewed: the clock starts again
    assert.equal(decide(s, A, 28_999, WALL).kind, 'wait');
    const { d, state } = step(s, held('b', '2'), 29_000);
    assert.equal(d.kind === 'update' && d.purpose, 'acquire');
    assert.equal(d.kind === 'update' && d.resourceVersion, '2');
    assert.equal(d.kind === 'update' && d.spec.leaseTransitions, 3);
    assert.equal(isLeading(state, A, 29_000), true);
  });

  it("the times written in the Lease play no part: an ancient renewTime is not an expired Lease", () => {
    const s = step(INITIAL_ELECTOR_STATE, held('b', '1', { renewTime: '1999-01-01T00:00:00.000000Z' }), 0).state;
    assert.equal(decide(s, A, 1, WALL).kind, 'wait');
  });

  it("a holder's longer lease duration is respected", () => {
    const s = step(INITIAL_ELECTOR_STATE, held('b', '1', { leaseDurationSeconds: 60 }), 0).state;
    assert.equal(decide(s, A, 59_999, WALL).kind, 'wait');
    assert.equal(decide(s, A, 60_000, WALL).kind, 'update');
  });

  it('a released Lease (empty holder) is taken at once', () => {
    const { d } = step(INITIAL_ELECTOR_STATE, held('', '5'), 0);
    assert.equal(d.kind === 'update' && d.purpose, 'acquire');
  });

  it('a leader renews every retry period; while renewals fail it leads until its renew deadline, then stops', () => {
    let s = step(INITIAL_ELECTOR_STATE, { exists: false }, 0).state;
    assert.deepEqual(decide(s, A, 1000, WALL), { kind: 'wait', holder: 'a', wakeAtMs: 2000 });
    const lease = s.observed!.lease;
    for (const t of [2000, 4000, 6000, 8000]) s = step(s, lease, t, 'error').state;
    assert.equal(isLeading(s, A, 9999), true);
    assert.equal(isLeading(s, A, 10_000), false);
    assert.equal(leadingUntil(s, A, 10_000), undefined);
    // Still named in the Lease and nobody wrote since: it may take it again (compare-and-swap).
    const again = step(s, lease, 10_000);
    assert.equal(again.d.kind === 'update' && again.d.purpose, 'acquire');
    assert.equal(again.d.kind === 'update' && again.d.spec.acquireTime, microTime(WALL), 'the acquire time of its tenure is kept');
    assert.equal(again.d.kind === 'update' && again.d.spec.leaseTransitions, 0);
  });

  it('a conflict on renew or acquire means someone else wrote: not leading, at once', () => {
    const s = step(INITIAL_ELECTOR_STATE, { exists: false }, 0).state;
    const renew = step(s, s.observed!.lease, 2000, 'conflict');
    assert.equal(renew.d.kind === 'update' && renew.d.purpose, 'renew');
    assert.equal(isLeading(renew.state, A, 2001), false);
    const acquire = step(INITIAL_ELECTOR_STATE, held('', '1'), 0, 'conflict');
    assert.equal(isLeading(acquire.state, A, 1), false);
  });

  it('a leader that reads the Lease held by another, or gone, stops leading', () => {
    const s = step(INITIAL_ELECTOR_STATE, { exists: false }, 0).state;
    assert.equal(isLeading(observe(s, held('b', '9'), A, 1), A, 1), false);
    assert.equal(isLeading(observe(s, { exists: false }, A, 1), A, 1), false);
  });

  it('release: stop leading first, then empty the holder; a successor takes it on its next read', () => {
    const s = step(INITIAL_ELECTOR_STATE, { exists: false }, 0).state;
    const r = release(s, A, WALL + 5000);
    assert.equal(isLeading(r.state, A, 5000), false);
    assert.equal(r.decision?.kind === 'update' && r.decision.purpose, 'release');
    assert.equal(r.decision?.kind === 'update' && r.decision.spec.holderIdentity, '');
    const after = afterWrite(r.state, r.decision!, { ok: true, resourceVersion: 'r' }, 5000);
    assert.equal(isLeading(after, A, 5000), false);
    const B = { ...A, identity: 'b' };
    const b = observe(INITIAL_ELECTOR_STATE, after.observed!.lease, B, 77);
    assert.equal(decide(b, B, 77, WALL).kind, 'update');
    assert.equal(release(INITIAL_ELECTOR_STATE, A, WALL).decision, undefined, 'nothing to release when not named');
  });
});

describe('the Lease object', () => {
  it('reads a GET answer leniently and writes create and update bodies', () => {
    assert.deepEqual(readLease(undefined), { exists: false });
    const obs = readLease({ metadata: { resourceVersion: '12' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 'x', renewTime: 3 } });
    assert.deepEqual(obs, { exists: true, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 }, resourceVersion: '12' });
    const ref = { namespace: 'istio-system', name: 'metamesh-leader' };
    const create = step(INITIAL_ELECTOR_STATE, { exists: false }, 0).d;
    assert.deepEqual(leaseBody(ref, create)?.metadata, { name: 'metamesh-leader', namespace: 'istio-system' });
    assert.equal(leaseBody(ref, { kind: 'wait', holder: 'a', wakeAtMs: 0 }), undefined);
    const acquire = step(INITIAL_ELECTOR_STATE, held('', '13'), 0).d;
    assert.equal(leaseBody(ref, acquire)?.metadata.resourceVersion, '13');
  });
});

describe('timing', () => {
  it('the defaults are safe; unsafe combinations are named', () => {
    assert.deepEqual(checkTiming(DEFAULT_LEASE_TIMING), []);
    assert.equal(checkTiming({ leaseDurationMs: 10_000, renewDeadlineMs: 9_000, retryPeriodMs: 2_000 }).length, 1);
    assert.equal(checkTiming({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 10_000 }).length, 1);
    assert.equal(checkTiming({ leaseDurationMs: 0, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }).length, 1);
    assert.deepEqual(checkTiming(DEFAULT_LEASE_TIMING, { maxDriftRate: 0.1, maxWriteLatencyMs: 2_500 }), []);
    assert.equal(checkTiming(DEFAULT_LEASE_TIMING, { maxDriftRate: 0.1, maxWriteLatencyMs: 2_600 }).length, 1);
  });
});

describe('simulated runs', () => {
  /** A random run: 2–4 replicas with clocks drifting by up to `rho`, crashes, partitions, restarts. */
  function scenario(seed: number, rho: number, timing = DEFAULT_LEASE_TIMING) {
    const rnd = mulberry32(seed);
    const n = 2 + Math.floor(rnd() * 3);
    const candidates: SimCandidate[] = Array.from({ length: n }, (_, i) => ({
      identity: `r${i}`,
      rate: 1 + (rnd() * 2 - 1) * rho,
      offsetMs: Math.floor(rnd() * 1e9),
      wallSkewMs: Math.floor((rnd() * 2 - 1) * 3_600_000),
      startMs: Math.floor(rnd() * 3000),
    }));
    const events: SimEvent[] = [];
    for (let k = 0; k < 6; k++) {
      const identity = `r${Math.floor(rnd() * n)}`;
      const atMs = Math.floor(rnd() * 100_000);
      const action = (['crash', 'partition', 'heal', 'restart', 'partition'] as const)[Math.floor(rnd() * 5)]!;
      events.push({ atMs, action, identity });
    }
    return { timing, candidates, events, untilMs: 120_000 };
  }

  it('never two leaders at once, over 300 random runs with clocks drifting by up to 5 %', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const run = simulate(scenario(seed, 0.05));
      assert.deepEqual(overlaps(run.leaders), [], `seed ${seed}`);
    }
  });

  it('after the leader crashes, another leads within leaseDuration + 2 × retryPeriod of its last renewal', () => {
    const t = DEFAULT_LEASE_TIMING;
    for (let seed = 1; seed <= 50; seed++) {
      const rnd = mulberry32(seed);
      const crashAt = 20_000 + Math.floor(rnd() * 10_000);
      const run = simulate({ timing: t, candidates: [{ identity: 'a' }, { identity: 'b', startMs: Math.floor(rnd() * 2000) }, { identity: 'c', startMs: Math.floor(rnd() * 2000) }], events: [{ atMs: crashAt, action: 'crash', identity: 'a' }], untilMs: 60_000 });
      assert.equal(run.leaders[0]!.identity, 'a');
      const next = run.leaders[1]!;
      // a renews every retry period, so its last renewal was within one of the crash.
      assert.ok(next.fromMs <= crashAt + t.leaseDurationMs + 2 * t.retryPeriodMs, `seed ${seed}: ${next.fromMs}`);
      assert.ok(next.fromMs >= crashAt, `seed ${seed}`);
    }
  });

  it('control: with a lease shorter than the renew deadline allows, the simulation does find two leaders', () => {
    const unsafe = { leaseDurationMs: 10_000, renewDeadlineMs: 9_900, retryPeriodMs: 1_000 };
    const run = simulate({
      timing: unsafe,
      candidates: [{ identity: 'a', rate: 0.9 }, { identity: 'b', rate: 1.1, startMs: 10 }],
      events: [{ atMs: 5_000, action: 'partition', identity: 'a' }],
      untilMs: 30_000,
    });
    assert.notDeepEqual(overlaps(run.leaders), []);
    assert.notDeepEqual(checkTiming(unsafe, { maxDriftRate: 0.1, maxWriteLatencyMs: 0 }), []);
  });
});
