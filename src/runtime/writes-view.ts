/**
 * What the apply sink and the status writer read of a running `serve`: the desired objects from the
 * engine's output and the registries' generated ServiceEntries, the health of every input, and
 * the MetaRouters and ApplicationProtocols as last read with the diagnostics about them. Also the
 * one step the registries need with the sink: a generated ServiceEntry takes the address its live
 * copy carries, so a restart or a new leader keeps every allocation. No effects of its own.
 */
import type { ServiceEntry } from '../model/resources.js';
import type { Engine } from '../pipeline/engine.js';
import type { Change } from '../pipeline/types.js';
import { carryOverAllocation } from '../serviceentry/address.js';
import { desiredObjects } from '../sink/desired.js';
import { fromRegistryStatus, fromSourceStatus } from '../sink/inputs.js';
import { asLive } from './sink-live.js';
import { isOwnOutput, type SinkIdentity } from '../sink/objects.js';
import type { ConfigStore } from '../store/store.js';
import type { KubernetesSource } from '../store/kubernetes/source.js';
import type { KubeWrites, WritesView } from './kube-writes.js';
import type { RegistryHub } from './registries.js';

export interface ViewSources {
  readonly engine: Engine;
  readonly store: ConfigStore;
  readonly registries: RegistryHub | undefined;
  readonly kube: KubernetesSource | undefined;
  /** The ServiceEntries the registries generated at their last sync. */
  readonly generated: () => readonly ServiceEntry[];
}

export function pipelineView(s: ViewSources): WritesView {
  return {
    desired: () => desiredObjects(s.engine.output(), s.generated()),
    inputs: () => [...s.store.status().map(fromSourceStatus), ...(s.registries?.statuses() ?? []).map(fromRegistryStatus)],
    statusTargets: () => s.kube?.statusTargets() ?? [],
    diagnostics: () => s.engine.output().diagnostics,
  };
}

/** The registry changes with every generated ServiceEntry carrying its live copy's allocation. */
export function withLiveAllocations(changes: readonly Change[], writes: KubeWrites | undefined): Change[] {
  const live = writes?.live;
  if (!live) return [...changes];
  return changes.map((c) => {
    if (c.op !== 'upsert' || c.resource.kind !== 'ServiceEntry') return c;
    const se = c.resource as unknown as ServiceEntry;
    const carried = carryOverAllocation(se, live.serviceEntry(se.metadata.namespace, se.metadata.name) as Parameters<typeof carryOverAllocation>[1]);
    return carried === se ? c : { ...c, resource: carried as unknown as typeof c.resource };
  });
}

/** The Kubernetes source's filter with the apply sink: this instance's own objects are output, not input. */
export function ownOutputFilter(identity: SinkIdentity): (o: Record<string, unknown>, apiVersion: string, kind: string) => boolean {
  return (o, apiVersion, kind) => {
    const l = asLive(o, apiVersion, kind);
    return l !== undefined && isOwnOutput(l, identity);
  };
}
