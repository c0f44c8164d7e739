/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as pure functions: the runtime reads the
 * Lease, `observe`s it, asks `decide` what to write, writes it (create, or update with the
 * resourceVersion read: compare-and-swap), reports the result to `afterWrite`, and sleeps until
 * the decision's `wakeAtMs`. Only the leader writes (apply sink, status); every replica serves xDS.
 *
 * Time. `nowMs` is each replica's own **monotonic** clock (performance.now()), never the wall
 * clock, and no decision compares one replica's time with another's: the times written into the
 * Lease (`wallMs`) are for people and other tools only. A candidate judges a Lease expired when it
 * has seen the same resourceVersion for a whole lease duration on its own clock (client-go's rule),
 * so wall-clock skew between nodes, of any size, cannot make two leaders. What must hold is a
 * bound ρ on clock *rate* drift (see timing.ts: renewDeadline/(1−ρ) + maxWriteLatency <
 * leaseDuration/(1+ρ)):
 *
 * - A leader leads only until `renewedAtMs + renewDeadline`, where renewedAtMs is when it *sent*
 *   its last successful acquire or renew: at most renewDeadline/(1−ρ) of real time after that write.
 * - Another candidate can take over only after seeing that write's resourceVersion unchanged for
 *   leaseDuration on its clock; it saw it no earlier than the write, so at least
 *   leaseDuration/(1+ρ) of real time after it was sent. A candidate that never saw the write holds
 *   an older resourceVersion, and its update fails with 409 Conflict.
 * - So the old leader has stopped (and its writes, bounded by maxWriteLatency, have landed) before
 *   anyone else can lead. Two candidates racing for an expired Lease both update with the same
 *   resourceVersion; the API server lets exactly one through.
 *
 * Failover: after a crash, a candidate leads at most leaseDuration + 2·retryPeriod (plus a read's
 * latency) after the crashed leader's last renewal; after `release`, within retryPeriod.
 */

export interface LeaseTiming {
  /** How long a Lease not renewed stays another's (client-go LeaseDuration). */
  readonly leaseDurationMs: number;
  /** A leader that could not renew for this long stops leading (client-go RenewDeadline). */
  readonly renewDeadlineMs: number;
  /** How often a leader renews and a candidate reads (client-go RetryPeriod). */
  readonly retryPeriodMs: number;
}

export interface LeaseConfig extends LeaseTiming {
  /** Unique per process (pod name plus a random suffix): two processes must never share one. */
  readonly identity: string;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = Object.freeze({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });

/** The spec of a Lease, as read or written (times are RFC 3339 with microseconds). */
export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

/** What a read of the Lease returned: 404, or the object's spec and resourceVersion. */
export type LeaseObservation = { readonly exists: false } | { readonly exists: true; readonly spec: LeaseSpec; readonly resourceVersion: string };

export interface ElectorState {
  /** The Lease as last seen, and since when (own clock) it has been seen unchanged. */
  readonly observed?: { readonly lease: LeaseObservation; readonly sinceMs: number };
  /** When the last successful acquire or renew was sent (own clock); set only while leading. */
  readonly renewedAtMs?: number;
}

export const INITIAL_ELECTOR_STATE: ElectorState = Object.freeze({});

export type Decision =
  /** No Lease exists: create it (POST) naming this replica. */
  | { readonly kind: 'create'; readonly spec: LeaseSpec; readonly wakeAtMs: number }
  /** Acquire an expired or released Lease, or renew our own: PUT with the resourceVersion read. */
  | { readonly kind: 'update'; readonly purpose: 'acquire' | 'renew' | 'release'; readonly spec: LeaseSpec; readonly resourceVersion: string; readonly wakeAtMs: number }
  /** Nothing to write now; read the Lease again at wakeAtMs. */
  | { readonly kind: 'wait'; readonly holder: string | undefined; readonly wakeAtMs: number };

export type WriteResult = { readonly ok: true; readonly resourceVersion: string } | { readonly ok: false; readonly conflict: boolean };

/** RFC 3339 with microseconds, as Kubernetes MicroTime. */
export function microTime(wallMs: number): string {
  return new Date(wallMs).toISOString().replace(/Z$/, '000Z');
}

function sameLease(a: LeaseObservation, b: LeaseObservation): boolean {
  return a.exists === b.exists && (!a.exists || !b.exists || a.resourceVersion === b.resourceVersion);
}

/** Records a read of the Lease. A leader that sees the Lease gone or held by another stops leading. */
export function observe(state: ElectorState, lease: LeaseObservation, config: LeaseConfig, nowMs: number): ElectorState {
  const observed = state.observed && sameLease(state.observed.lease, lease) ? state.observed : { lease, sinceMs: nowMs };
  const lost = !lease.exists || lease.spec.holderIdentity !== config.identity;
  return lost ? { observed } : { ...state, observed };
}

export function isLeading(state: ElectorState, config: LeaseTiming, nowMs: number): boolean {
  return state.renewedAtMs !== undefined && nowMs < state.renewedAtMs + config.renewDeadlineMs;
}

/**
 * The own-clock time by which a leader must have stopped writing unless it renews first (undefined:
 * not leading at nowMs). Writers bound each request's timeout by it, and stop when it passes.
 */
export function leadingUntil(state: ElectorState, config: LeaseTiming, nowMs: number): number | undefined {
  return isLeading(state, config, nowMs) ? state.renewedAtMs! + config.renewDeadlineMs : undefined;
}

function held(config: LeaseConfig, wallMs: number, before: LeaseSpec | undefined): LeaseSpec {
  const ours = before?.holderIdentity === config.identity;
  return {
    holderIdentity: config.identity,
    leaseDurationSeconds: Math.ceil(config.leaseDurationMs / 1000),
    acquireTime: ours && before?.acquireTime ? before.acquireTime : microTime(wallMs),
    renewTime: microTime(wallMs),
    leaseTransitions: (before?.leaseTransitions ?? 0) + (before && !ours ? 1 : 0),
  };
}

/** What to do now, from the last observation. Call `observe` with a fresh read first. */
export function decide(state: ElectorState, config: LeaseConfig, nowMs: number, wallMs: number): Decision {
  const obs = state.observed;
  if (!obs) return { kind: 'wait', holder: undefined, wakeAtMs: nowMs };
  const lease = obs.lease;
  if (!lease.exists) return { kind: 'create', spec: held(config, wallMs, undefined), wakeAtMs: nowMs + config.retryPeriodMs };
  const holder = lease.spec.holderIdentity ?? '';
  const update = (purpose: 'acquire' | 'renew'): Decision => ({ kind: 'update', purpose, spec: held(config, wallMs, lease.spec), resourceVersion: lease.resourceVersion, wakeAtMs: nowMs + config.retryPeriodMs });
  if (holder === config.identity) {
    // Not leading but named: this replica stepped down at its renew deadline, or a write it sent
    // landed unconfirmed. Taking it again is safe: the update fails if anyone wrote since the read.
    if (!isLeading(state, config, nowMs)) return update('acquire');
    const due = state.renewedAtMs! + config.retryPeriodMs;
    return nowMs >= due ? update('renew') : { kind: 'wait', holder, wakeAtMs: due };
  }
  // The longer of our own duration and the holder's, so a replica configured differently is safe.
  const duration = Math.max(config.leaseDurationMs, (lease.spec.leaseDurationSeconds ?? 0) * 1000);
  const expiresAtMs = obs.sinceMs + duration;
  if (holder !== '' && nowMs < expiresAtMs) return { kind: 'wait', holder, wakeAtMs: Math.min(expiresAtMs, nowMs + config.retryPeriodMs) };
  return update('acquire');
}

/**
 * Records the result of writing `decision` (sent at `sentAtMs`). Success: leading from the send
 * time (conservative: the API server stored it no earlier). Conflict: someone else wrote; not
 * leading. Another error: unknown whether it landed; a leader keeps leading until its deadline,
 * a candidate does not lead (a later read shows whether the write landed).
 */
export function afterWrite(state: ElectorState, decision: Decision, result: WriteResult, sentAtMs: number): ElectorState {
  if (decision.kind === 'wait') return state;
  if (result.ok) {
    const lease: LeaseObservation = { exists: true, spec: decision.spec, resourceVersion: result.resourceVersion };
    if (decision.kind === 'update' && decision.purpose === 'release') return { observed: { lease, sinceMs: sentAtMs } };
    return { observed: { lease, sinceMs: sentAtMs }, renewedAtMs: sentAtMs };
  }
  if (result.conflict) return state.observed ? { observed: state.observed } : {};
  return state;
}

/**
 * Giving the Lease up on shutdown, so a successor need not wait for it to expire: the state stops
 * leading at once (the caller must have stopped its writers and let in-flight writes finish
 * before sending the release), and the decision empties the holder. Undefined when the last read
 * does not name this replica.
 */
export function release(state: ElectorState, config: LeaseConfig, wallMs: number): { state: ElectorState; decision: Decision | undefined } {
  const lease = state.observed?.lease;
  const stepped: ElectorState = state.observed ? { observed: state.observed } : {};
  if (!lease?.exists || lease.spec.holderIdentity !== config.identity) return { state: stepped, decision: undefined };
  const spec: LeaseSpec = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: microTime(wallMs), renewTime: microTime(wallMs), leaseTransitions: lease.spec.leaseTransitions ?? 0 };
  return { state: stepped, decision: { kind: 'update', purpose: 'release', spec, resourceVersion: lease.resourceVersion, wakeAtMs: Number.POSITIVE_INFINITY } };
}
