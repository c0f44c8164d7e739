/**
 * When lease timings are safe (lease.ts explains the argument). With every replica's clock rate
 * within a factor (1 ± ρ) of real time, and every write the leader starts landing within
 * maxWriteLatency, at most one replica writes at any time when
 *
 *     renewDeadline / (1 − ρ) + maxWriteLatency  <  leaseDuration / (1 + ρ)
 *
 * and renewing works when retryPeriod < renewDeadline (a leader gets several tries before its
 * deadline). The defaults, 15 s / 10 s / 2 s, allow ρ = 0.1 with writes up to 2.5 s; ordinary
 * crystal clocks drift by less than 0.0001.
 */
import type { LeaseTiming } from './lease.js';

export interface ClockAssumptions {
  /** Bound on clock rate drift, as a fraction (0.01 = 1 %). */
  readonly maxDriftRate: number;
  /** Bound on how long after it is sent a leader's write can still land (request timeout). */
  readonly maxWriteLatencyMs: number;
}

export const DEFAULT_CLOCK_ASSUMPTIONS: ClockAssumptions = Object.freeze({ maxDriftRate: 0.01, maxWriteLatencyMs: 2_000 });

/** What is wrong with the timing under the assumptions, one sentence each; empty when it is safe. */
export function checkTiming(t: LeaseTiming, a: ClockAssumptions = DEFAULT_CLOCK_ASSUMPTIONS): string[] {
  const problems: string[] = [];
  for (const [name, v] of Object.entries(t)) if (!(Number.isFinite(v) && v > 0)) problems.push(`${name} must be a positive number of milliseconds (got ${v}).`);
  if (problems.length > 0) return problems;
  if (t.retryPeriodMs >= t.renewDeadlineMs) problems.push(`retryPeriod (${t.retryPeriodMs} ms) must be shorter than renewDeadline (${t.renewDeadlineMs} ms), or a leader cannot renew before its deadline.`);
  const rho = a.maxDriftRate;
  const leaderStops = t.renewDeadlineMs / (1 - rho) + a.maxWriteLatencyMs;
  const othersStart = t.leaseDurationMs / (1 + rho);
  if (!(rho >= 0 && rho < 1) || leaderStops >= othersStart) {
    problems.push(
      `leaseDuration (${t.leaseDurationMs} ms) is too short for renewDeadline (${t.renewDeadlineMs} ms) with writes landing up to ${a.maxWriteLatencyMs} ms late and clocks drifting by ${rho}: a leader may still write ${Math.round(leaderStops)} ms after its last renewal, another may lead after ${Math.round(othersStart)} ms. Lengthen leaseDuration or shorten renewDeadline.`,
    );
  }
  return problems;
}
