/**
 * When `metamesh serve` is ready, as a pure function of what it has read: ready once the first
 * build is served, every registry has been read completely once and a sync including all of them
 * was applied, and every Kubernetes kind has been listed once. Anything short of that is named
 * (what, and why), for /readyz, the log line at the ready timeout and its diagnostics.
 *
 * A source that was read once and is stale now does not make the server unready: its last good
 * content is what is served, and taking the replica out of rotation would serve nothing instead.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { RegistryStatus } from '../model/registry.js';

export interface ReadinessInput {
  /** The first build is done and served (xDS and HTTP listening). */
  readonly serving: boolean;
  readonly registries: readonly RegistryStatus[];
  /** A sync that had read every registry was applied (RegistryHub.applied()); true without registries. */
  readonly registriesApplied: boolean;
  /** The Kubernetes kinds read, if any (KubernetesSource.status()). */
  readonly kinds: readonly { readonly source: string; readonly synced: boolean; readonly error?: string | undefined }[];
}

/** Something serve waits for, with a sentence saying why. */
export interface Waiting {
  readonly what: 'server' | 'registry' | 'kubernetes';
  /** The registry (as configured) or the kind (`kubernetes <plural>.<group>`). */
  readonly name: string;
  readonly reason: string;
}

export interface Readiness {
  readonly ready: boolean;
  /** Empty when ready; in the order server, registries (as configured), kinds. */
  readonly waitingFor: readonly Waiting[];
}

export function readiness(input: ReadinessInput): Readiness {
  const waiting: Waiting[] = [];
  if (!input.serving) waiting.push({ what: 'server', name: 'metamesh', reason: 'the first build is not served yet (starting or stopping)' });
  const unread = input.registries.filter((s) => s.lastSyncMs === undefined);
  for (const s of unread) {
    waiting.push({ what: 'registry', name: s.registry, reason: `registry ${s.registry} has not been read completely yet (${s.state}${s.error ? `: ${s.error}` : ''})` });
  }
  if (unread.length === 0 && input.registries.length > 0 && !input.registriesApplied) {
    for (const s of input.registries) waiting.push({ what: 'registry', name: s.registry, reason: `registry ${s.registry} was read; its services are being applied` });
  }
  for (const k of input.kinds) {
    if (!k.synced) waiting.push({ what: 'kubernetes', name: k.source, reason: `${k.source} has not been listed yet (${k.error ?? 'no answer from the API server yet'})` });
  }
  return { ready: waiting.length === 0, waitingFor: waiting };
}

/** The diagnostics of a server still not ready at the ready timeout: one per registry or kind it waits for. */
export function notReadyDiagnostics(r: Readiness, timeoutMs: number): Diagnostic[] {
  return r.waitingFor
    .filter((w) => w.what !== 'server')
    .map((w) =>
      diag(
        'MM_SERVE_NOT_READY',
        w.what === 'registry' ? `Registry ${w.name}` : w.name,
        `not ready ${formatDuration(timeoutMs)} after the start: ${w.reason}. /readyz answers 503 until it is; what was read is served meanwhile. Check that it is reachable.`,
      ),
    );
}

/** `300000` → `5m`, `90000` → `90s`, `1500` → `1500ms`: how a duration flag would be written. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
