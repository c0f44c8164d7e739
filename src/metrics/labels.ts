/**
 * Label values of metamesh's metrics, and the pure functions that turn state into samples. Every
 * label has a bounded set of values: type URLs are mapped onto the ones metamesh serves (anything
 * else is `other`), registries are the configured ones, diagnostic codes come from the catalogue
 * (src/model/codes.ts), states and decisions from closed unions. Nothing a client chooses (node
 * ids, peers, resource names) becomes a label.
 */
import type { CatalogState, Decision, DecisionKind } from '../catalog/model.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { RegistryState, RegistryStatus } from '../model/registry.js';
import { ISTIOD_TYPE_URLS, SERVED_KINDS, isMcpTypeUrl } from '../mcp/types.js';
import { ROUTE_CONFIGURATION_TYPE_URL } from '../route/wire.js';

/** One sample of a labelled gauge. */
export interface Sample<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  readonly value: number;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set([ROUTE_CONFIGURATION_TYPE_URL, ...ISTIOD_TYPE_URLS, ...SERVED_KINDS.map((k) => k.typeUrl)]);

/**
 * The `type` label of an xDS type URL: RouteConfiguration and the Istio config type URLs istiod
 * asks for as they are; any other Istio config type URL (answered, empty) `mcp-other`; anything
 * else (not served, the request is rejected) `other`.
 */
export function typeLabel(typeUrl: string): string {
  if (KNOWN_TYPES.has(typeUrl)) return typeUrl;
  return isMcpTypeUrl(typeUrl) ? 'mcp-other' : 'other';
}

export const REGISTRY_STATES: readonly RegistryState[] = ['connecting', 'synced', 'disconnected', 'expired', 'failing'];

/** One sample per registry and state: 1 for the state it is in, 0 for the others. */
export function registryStateSamples(statuses: readonly RegistryStatus[]): Sample<'registry' | 'state'>[] {
  return statuses.flatMap((s) => REGISTRY_STATES.map((state) => ({ labels: { registry: s.registry, state }, value: s.state === state ? 1 : 0 })));
}

/** The time of each registry's last complete read, in seconds since the epoch (registries never read have none). */
export function lastSyncSamples(statuses: readonly RegistryStatus[]): Sample<'registry'>[] {
  return statuses.filter((s) => s.lastSyncMs !== undefined).map((s) => ({ labels: { registry: s.registry }, value: s.lastSyncMs! / 1000 }));
}

/** Services and instances per registry as the outage policy keeps them (held-back ones included). */
export function catalogSizes(state: CatalogState): { services: Sample<'registry'>[]; instances: Sample<'registry'>[] } {
  const services: Sample<'registry'>[] = [];
  const instances: Sample<'registry'>[] = [];
  for (const r of state.registries) {
    services.push({ labels: { registry: r.registry }, value: r.services.length });
    instances.push({ labels: { registry: r.registry }, value: r.services.reduce((n, s) => n + s.instances.length, 0) });
  }
  return { services, instances };
}

export const DECISION_KINDS: readonly DecisionKind[] = ['registry-unavailable', 'removal-pending', 'removed', 'protection-triggered', 'protection-held', 'protection-released'];

/** The outage policy's decisions of the last sync, counted per registry and kind (every kind of every registry, zeros included). */
export function decisionSamples(registries: readonly string[], decisions: readonly Decision[]): Sample<'registry' | 'decision'>[] {
  const counts = new Map<string, number>();
  for (const d of decisions) counts.set(`${d.registry}\u0000${d.kind}`, (counts.get(`${d.registry}\u0000${d.kind}`) ?? 0) + 1);
  return registries.flatMap((registry) => DECISION_KINDS.map((decision) => ({ labels: { registry, decision }, value: counts.get(`${registry}\u0000${decision}`) ?? 0 })));
}

/** Current diagnostics per code (with its severity), sorted by code; codes with none are left out. */
export function diagnosticSamples(diagnostics: readonly Diagnostic[]): Sample<'code' | 'severity'>[] {
  const counts = new Map<string, { severity: string; n: number }>();
  for (const d of diagnostics) {
    const c = counts.get(d.code);
    if (c) c.n++;
    else counts.set(d.code, { severity: d.severity, n: 1 });
  }
  return [...counts.keys()].sort().map((code) => ({ labels: { code, severity: counts.get(code)!.severity }, value: counts.get(code)!.n }));
}
