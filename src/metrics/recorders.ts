/**
 * Small recorder functions the event sources call: the registry hub (registry events, sync lag,
 * failed applies), serve's builds, and the sinks (objects written, write errors). The MCP sink
 * (src/runtime/mcp.ts) uses them today; the Kubernetes apply sink calls `recordSinkWrites` with
 * what it applied and `recordSinkError` for each object it could not write (docs/metrics.md).
 */
import type { Metrics } from './metrics.js';

/** What a registry watcher reported: its services changed, or its connection state did. */
export type RegistryEventKind = 'snapshot' | 'status';

/** Observer of the registry hub (src/runtime/registries.ts); the metrics are one. */
export interface RegistryHubObserver {
  /** A registry's watcher reported a change. */
  event?(registry: string, kind: RegistryEventKind): void;
  /** A sync took in the changes of these registries, `lagMs` after the first of each was reported. */
  applied?(lagMs: ReadonlyMap<string, number>): void;
  /** A sync could not be applied (it is retried). */
  failed?(): void;
}

export function registryMetrics(metrics: Pick<Metrics, 'registries'>): RegistryHubObserver {
  const m = metrics.registries;
  return {
    event: (registry, kind) => m.events.inc({ registry, kind }),
    applied: (lagMs) => {
      for (const [registry, ms] of lagMs) m.syncLag.observe({ registry }, Math.max(0, ms) / 1000);
    },
    failed: () => m.applyFailures.inc(),
  };
}

/** What triggered a build: the start, a change of the files (or Kubernetes objects), or the registries. */
export type BuildTrigger = 'start' | 'files' | 'registries';

export function recordBuild(metrics: Pick<Metrics, 'pipeline'>, trigger: BuildTrigger, ms: number): void {
  metrics.pipeline.build.observe({ trigger }, Math.max(0, ms) / 1000);
}

/** The sinks, a closed set (a label value). */
export type SinkName = 'mcp' | 'kubernetes';
export type WriteOperation = 'create' | 'update' | 'delete';

/** Objects of one kind written with one operation. */
export interface SinkWrite {
  readonly kind: string;
  readonly operation: WriteOperation;
  readonly count: number;
}

/** Kinds a sink writes; anything else is counted as `other`, so a label never grows without bound. */
const SINK_KINDS: ReadonlySet<string> = new Set(['ServiceEntry', 'EnvoyFilter', 'VirtualService', 'DestinationRule', 'MetaRouter', 'ApplicationProtocol']);

export function kindLabel(kind: string): string {
  return SINK_KINDS.has(kind) ? kind : 'other';
}

export function recordSinkWrites(metrics: Pick<Metrics, 'sinks'>, sink: SinkName, writes: readonly SinkWrite[]): void {
  for (const w of writes) if (w.count > 0) metrics.sinks.written.inc({ sink, kind: kindLabel(w.kind), operation: w.operation }, w.count);
}

export function recordSinkError(metrics: Pick<Metrics, 'sinks'>, sink: SinkName, kind: string, count = 1): void {
  if (count > 0) metrics.sinks.errors.inc({ sink, kind: kindLabel(kind) }, count);
}

/**
 * The write operation of an apply-plan action (src/sink/plan-types.ts), for the Kubernetes sink:
 * create is a create; update, adopt and amend change an existing object; release withdraws
 * metamesh's fields and delete the object.
 */
export function operationOfAction(action: 'create' | 'update' | 'adopt' | 'amend' | 'release' | 'delete'): WriteOperation {
  if (action === 'create') return 'create';
  return action === 'release' || action === 'delete' ? 'delete' : 'update';
}
