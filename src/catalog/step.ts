/**
 * The catalog as a pure function of the previous state, the registries' snapshots and statuses,
 * the options and the time: `step(previous, snapshots, statuses, options, nowMs)`. The caller keeps
 * the returned state and passes it to the next call; nothing else is remembered.
 *
 * The registries are those with a status. A registry in the previous state without a status now is
 * no longer configured: it is dropped with its services (a configuration change, not an outage).
 * A snapshot without a status is ignored. The snapshots' own diagnostics (records that could not be
 * read) are passed through.
 */
import { normalizeDiagnostics, type Diagnostic } from '../model/diagnostics.js';
import type { RegistrySnapshot, RegistryStatus } from '../model/registry.js';
import { mergeCatalog } from './merge.js';
import type { Catalog, CatalogOptions, CatalogState, Decision, KeptRegistry } from './model.js';
import { stepRegistry } from './registry-policy.js';

export interface CatalogStep {
  readonly state: CatalogState;
  readonly catalog: Catalog;
  /** Sorted; the registries' own diagnostics included. */
  readonly diagnostics: readonly Diagnostic[];
  /** Sorted by registry, then service; the order within one service is the policy's. */
  readonly decisions: readonly Decision[];
}

export function step(previous: CatalogState, snapshots: readonly RegistrySnapshot[], statuses: readonly RegistryStatus[], options: CatalogOptions, nowMs: number): CatalogStep {
  const prevByName = new Map(previous.registries.map((r) => [r.registry, r]));
  const snapByName = new Map<string, RegistrySnapshot>();
  for (const s of snapshots) if (!snapByName.has(s.registry)) snapByName.set(s.registry, s);

  const registries: KeptRegistry[] = [];
  const decisions: Decision[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const status of [...statuses].sort((a, b) => (a.registry < b.registry ? -1 : a.registry > b.registry ? 1 : 0))) {
    if (seen.has(status.registry)) continue;
    seen.add(status.registry);
    const snapshot = snapByName.get(status.registry);
    const r = stepRegistry(prevByName.get(status.registry), snapshot, status, options, nowMs);
    registries.push(r.registry);
    decisions.push(...r.decisions);
    diagnostics.push(...r.diagnostics, ...(snapshot?.diagnostics ?? []));
  }
  const merged = mergeCatalog(registries);
  return {
    state: { registries },
    catalog: merged.catalog,
    diagnostics: normalizeDiagnostics([...diagnostics, ...merged.diagnostics]),
    decisions: [...decisions].sort((a, b) => cmpDecision(a, b)),
  };
}

function cmpDecision(a: Decision, b: Decision): number {
  const ka = `${a.registry}\u0000${a.service ?? ''}`;
  const kb = `${b.registry}\u0000${b.service ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
