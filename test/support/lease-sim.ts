/**
 * A discrete-event simulation of lease election (src/leader/lease.ts) for tests: one fake API
 * server holding the Lease (compare-and-swap on resourceVersion), candidates whose monotonic
 * clocks run at their own rate and offset, and events (crash, partition, heal, release, restart)
 * at real times. It records every leadership interval in real time, as an upper bound: from the
 * send of the write that made a candidate leader to the earlier of its renew deadline (on its own
 * clock, converted back to real time), a crash, a release, or a read that showed it lost.
 * Deterministic: candidates acting at the same real time act in identity order.
 */
import { afterWrite, decide, INITIAL_ELECTOR_STATE, isLeading, leadingUntil, observe, release, type Decision, type ElectorState, type LeaseObservation, type LeaseSpec, type LeaseTiming, type WriteResult } from '../../src/leader/lease.js';

export interface SimCandidate {
  readonly identity: string;
  /** Clock rate: local elapsed = rate × real elapsed (1.01 = 1 % fast). */
  readonly rate?: number;
  /** Local monotonic clock at real time 0. */
  readonly offsetMs?: number;
  /** Wall-clock skew, written into the Lease only. */
  readonly wallSkewMs?: number;
  /** Real time it starts. */
  readonly startMs?: number;
}

export interface SimEvent {
  readonly atMs: number;
  readonly action: 'crash' | 'restart' | 'partition' | 'heal' | 'release';
  readonly identity: string;
}

export interface SimInput {
  readonly timing: LeaseTiming;
  readonly candidates: readonly SimCandidate[];
  readonly events?: readonly SimEvent[];
  readonly untilMs: number;
}

export interface SimInterval {
  readonly identity: string;
  readonly fromMs: number;
  readonly untilMs: number;
}

export interface SimWrite {
  readonly atMs: number;
  readonly identity: string;
  readonly write: string;
  readonly result: 'ok' | 'conflict' | 'unreachable';
  readonly holder: string;
}

export interface SimResult {
  readonly leaders: SimInterval[];
  /** Every write but successful renewals (counted in `renewals`). */
  readonly writes: SimWrite[];
  readonly renewals: Record<string, number>;
}

const EPOCH = Date.UTC(2026, 0, 1);
const round = (n: number) => Math.round(n * 1000) / 1000;

interface Runner {
  readonly c: SimCandidate;
  state: ElectorState;
  wakeMs: number;
  alive: boolean;
  partitioned: boolean;
  lead: { fromMs: number; untilMs: number } | undefined;
}

export function simulate(input: SimInput): SimResult {
  const timing = input.timing;
  let lease: { spec: LeaseSpec; rv: number } | undefined;
  let rv = 0;
  const leaders: SimInterval[] = [];
  const writes: SimWrite[] = [];
  const renewals: Record<string, number> = {};
  const runners = [...input.candidates].sort((a, b) => (a.identity < b.identity ? -1 : 1)).map((c): Runner => ({ c, state: INITIAL_ELECTOR_STATE, wakeMs: c.startMs ?? 0, alive: true, partitioned: false, lead: undefined }));
  const events = [...(input.events ?? [])].sort((a, b) => a.atMs - b.atMs || (a.identity < b.identity ? -1 : 1));
  const local = (r: Runner, t: number) => (r.c.offsetMs ?? 0) + (r.c.rate ?? 1) * t;
  const real = (r: Runner, l: number) => (l - (r.c.offsetMs ?? 0)) / (r.c.rate ?? 1);
  const config = (r: Runner) => ({ ...timing, identity: r.c.identity });
  const close = (r: Runner, t: number) => {
    if (r.lead) leaders.push({ identity: r.c.identity, fromMs: round(r.lead.fromMs), untilMs: round(Math.min(r.lead.untilMs, t)) });
    r.lead = undefined;
  };
  const track = (r: Runner, t: number) => {
    const l = local(r, t);
    if (!isLeading(r.state, timing, l)) return close(r, t);
    const until = real(r, leadingUntil(r.state, timing, l)!);
    if (r.lead) r.lead.untilMs = until;
    else r.lead = { fromMs: t, untilMs: until };
  };
  const read = (): LeaseObservation => (lease ? { exists: true, spec: lease.spec, resourceVersion: String(lease.rv) } : { exists: false });
  const write = (r: Runner, d: Decision, t: number): WriteResult => {
    if (d.kind === 'wait') return { ok: false, conflict: false };
    const name = d.kind === 'create' ? 'create' : d.purpose;
    let result: WriteResult;
    if (r.partitioned) result = { ok: false, conflict: false };
    else if (d.kind === 'create' ? lease !== undefined : lease === undefined || String(lease.rv) !== d.resourceVersion) result = { ok: false, conflict: true };
    else {
      lease = { spec: d.spec, rv: ++rv };
      result = { ok: true, resourceVersion: String(rv) };
    }
    if (name === 'renew' && result.ok) renewals[r.c.identity] = (renewals[r.c.identity] ?? 0) + 1;
    else writes.push({ atMs: round(t), identity: r.c.identity, write: name, result: result.ok ? 'ok' : result.conflict ? 'conflict' : 'unreachable', holder: d.spec.holderIdentity ?? '' });
    return result;
  };

  for (;;) {
    const next = runners.filter((r) => r.alive).sort((a, b) => a.wakeMs - b.wakeMs || (a.c.identity < b.c.identity ? -1 : 1))[0];
    const t = Math.min(next?.wakeMs ?? Infinity, events[0]?.atMs ?? Infinity);
    if (t > input.untilMs) break;
    if (events.length > 0 && events[0]!.atMs <= (next?.wakeMs ?? Infinity)) {
      const e = events.shift()!;
      const r = runners.find((x) => x.c.identity === e.identity)!;
      if (e.action === 'crash') {
        close(r, e.atMs);
        r.alive = false;
      } else if (e.action === 'restart') {
        Object.assign(r, { state: INITIAL_ELECTOR_STATE, alive: true, wakeMs: e.atMs });
      } else if (e.action === 'partition' || e.action === 'heal') {
        r.partitioned = e.action === 'partition';
      } else {
        const out = release(r.state, config(r), EPOCH + (r.c.wallSkewMs ?? 0) + e.atMs);
        r.state = out.state;
        close(r, e.atMs);
        if (out.decision) r.state = afterWrite(r.state, out.decision, write(r, out.decision, e.atMs), local(r, e.atMs));
        r.alive = false;
      }
      continue;
    }
    const r = next!;
    const l = local(r, t);
    if (!r.partitioned) r.state = observe(r.state, read(), config(r), l);
    track(r, t);
    const d = decide(r.state, config(r), l, EPOCH + (r.c.wallSkewMs ?? 0) + t);
    if (d.kind !== 'wait') r.state = afterWrite(r.state, d, write(r, d, t), l);
    track(r, t);
    // The runtime also wakes a leader at its deadline, to stop its writers on time.
    const deadline = leadingUntil(r.state, timing, l);
    const wake = Math.min(d.wakeAtMs, deadline ?? Infinity);
    r.wakeMs = Math.max(real(r, wake), t + 1);
  }
  for (const r of runners) close(r, input.untilMs);
  leaders.sort((a, b) => a.fromMs - b.fromMs || (a.identity < b.identity ? -1 : 1));
  return { leaders, writes, renewals };
}

/** Pairs of leadership intervals that overlap in real time (must be empty). */
export function overlaps(leaders: readonly SimInterval[]): [SimInterval, SimInterval][] {
  const out: [SimInterval, SimInterval][] = [];
  for (let i = 0; i < leaders.length; i++) {
    for (let j = i + 1; j < leaders.length; j++) {
      const a = leaders[i]!;
      const b = leaders[j]!;
      if (a.identity !== b.identity && a.fromMs < b.untilMs && b.fromMs < a.untilMs) out.push([a, b]);
    }
  }
  return out;
}
