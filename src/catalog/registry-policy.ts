/**
 * The outage policy for one registry: what the catalog keeps of it after one step.
 *
 * - Not synced (connecting, disconnected, expired, failing, or no status): its last-known services
 *   are kept unchanged and its snapshot, possibly partial, is not used. The absence and protection
 *   clocks are cleared: after an outage, providers re-register over several seconds (ZooKeeper's
 *   ephemeral nodes are gone after a session expiry), so absences are counted afresh once synced.
 * - Synced: each service it lists goes through the service policy (service-policy.ts). A service it
 *   no longer lists goes through it too, as listed with no instances: in ZooKeeper a service exists
 *   only through its instances (provider URLs, instance nodes, ServerSet members), so "every
 *   provider crashed" and "the service was removed" look the same, and the loss of its instances is
 *   graced and protected like any other. The service itself is removed once nothing of it is kept
 *   and it has been missing for the removal grace period. When more than the protection threshold
 *   of the registry's services are missing at once, they are one registry-level matter instead:
 *   kept unchanged for the grace period, then their removal refused for at most the hold.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { RegistryService, RegistrySnapshot, RegistryStatus } from '../model/registry.js';
import { canonicalJson } from '../util/canonical.js';
import type { CatalogOptions, Decision, KeptRegistry, KeptService } from './model.js';
import { earliest, isPlain, seconds, serviceFields, stepService } from './service-policy.js';

export interface RegistryStep {
  readonly registry: KeptRegistry;
  readonly decisions: Decision[];
  readonly diagnostics: Diagnostic[];
}

function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** A service with its clocks cleared. */
function withoutClocks(s: KeptService): KeptService {
  return { ...serviceFields(s), instances: s.instances.map(({ absentSinceMs: _, ...i }) => i) };
}

/**
 * One service per key; of duplicates (an adapter's bug), the one whose canonical JSON sorts first,
 * whatever the read order. Canonical JSON is computed only for duplicates: reads are large.
 */
function uniqueByKey(services: readonly RegistryService[]): Map<string, RegistryService> {
  const out = new Map<string, RegistryService>();
  for (const s of services) {
    const other = out.get(s.key);
    if (other === undefined || canonicalJson(s) < canonicalJson(other)) out.set(s.key, s);
  }
  return out;
}

/** Up to five names, sorted, and how many more: messages stay short at 10,000 services. */
function sample(names: string[]): string {
  const sorted = [...names].sort();
  const more = sorted.length > 5 ? `, and ${sorted.length - 5} more` : '';
  return sorted.slice(0, 5).join(', ') + more;
}

function unavailable(prev: KeptRegistry | undefined, status: RegistryStatus): RegistryStep {
  const services = (prev?.services ?? []).map(withoutClocks);
  const instances = services.reduce((n, s) => n + s.instances.length, 0);
  const why = status.error ? ` (${status.error})` : '';
  const kept =
    services.length > 0
      ? `its ${services.length} last-known service(s) with ${instances} instance(s) are kept unchanged until it is synced again`
      : 'nothing is known of it yet, so it contributes no services';
  return {
    registry: { registry: status.registry, state: status.state, services },
    decisions: [{ kind: 'registry-unavailable', registry: status.registry }],
    diagnostics: [diag('MM_REGISTRY_UNAVAILABLE', `Registry ${status.registry}`, `Registry ${status.registry} is ${status.state}${why}; ${kept}. Check that it is reachable.`)],
  };
}

/**
 * Kept registries that are exactly their read, position for position, by that read (the snapshot's
 * services array): the services were sorted and unique by key, nothing was pending or protected,
 * and each kept service is the plain step of the read at its position. Such a registry stepped
 * with a read that differs only in some services at the same positions (same keys) gives the same
 * registry but for those: stepPlain() computes just them. At 10,000 services one changed service
 * then costs a comparison of two arrays, not a walk over every service.
 */
const plainFrom = new WeakMap<KeptRegistry, readonly RegistryService[]>();

function stepPlain(prev: KeptRegistry, read: readonly RegistryService[], status: RegistryStatus, options: CatalogOptions, nowMs: number): RegistryStep | undefined {
  const from = plainFrom.get(prev);
  if (from === undefined || from.length !== read.length || prev.protectedSinceMs !== undefined || prev.registry !== status.registry) return undefined;
  const decisions: Decision[] = [];
  const diagnostics: Diagnostic[] = [];
  let services: KeptService[] | undefined;
  let plain = true;
  for (let i = 0; i < read.length; i++) {
    const s = read[i]!;
    if (s === from[i]) continue;
    if (s.key !== from[i]!.key) return undefined;
    const r = stepService(status.registry, prev.services[i], s, options, nowMs);
    (services ??= [...prev.services])[i] = r.service;
    for (const d of r.decisions) decisions.push(d);
    for (const d of r.diagnostics) diagnostics.push(d);
    if (!isPlain(r.service)) plain = false;
  }
  const registry: KeptRegistry = { registry: status.registry, state: status.state, services: services ?? prev.services };
  if (plain) plainFrom.set(registry, read);
  return { registry, decisions, diagnostics };
}

/** Whether the services are sorted by key with no key twice. */
function strictlyByKey(services: readonly RegistryService[]): boolean {
  for (let i = 1; i < services.length; i++) if (!(services[i - 1]!.key < services[i]!.key)) return false;
  return true;
}

export function stepRegistry(prev: KeptRegistry | undefined, snapshot: RegistrySnapshot | undefined, status: RegistryStatus, options: CatalogOptions, nowMs: number): RegistryStep {
  if (status.state !== 'synced' || snapshot === undefined) return unavailable(prev, snapshot === undefined && status.state === 'synced' ? { ...status, state: 'failing', error: 'synced, but no snapshot was given' } : status);
  const quick = prev === undefined ? undefined : stepPlain(prev, snapshot.services, status, options, nowMs);
  if (quick !== undefined) return quick;
  const registry = status.registry;
  const decisions: Decision[] = [];
  const diagnostics: Diagnostic[] = [];
  const read = uniqueByKey(snapshot.services);
  const previous = new Map<string, KeptService>();
  for (const s of prev?.services ?? []) previous.set(s.key, s);

  const kept: KeptService[] = [];
  const pending: KeptService[] = [];
  const due: KeptService[] = [];
  for (const s of read.values()) {
    const r = stepService(registry, previous.get(s.key), s, options, nowMs);
    kept.push(r.service);
    for (const d of r.decisions) decisions.push(d);
    for (const d of r.diagnostics) diagnostics.push(d);
  }
  const absent = [...previous.values()].filter((old) => !read.has(old.key));
  // Most of the registry gone at once (a wrong root, a wiped tree) is one registry-level matter
  // below, not thousands of service-level ones.
  const massAbsence = absent.length / previous.size > options.protectionThreshold;
  for (const old of absent) {
    const since = old.absentSinceMs ?? nowMs;
    if (massAbsence) {
      if (nowMs - since >= options.removalGraceMs) due.push(old);
      else pending.push({ ...old, absentSinceMs: since });
      continue;
    }
    // In ZooKeeper a service is its instances: every provider gone looks like the service gone. So
    // its instances go through the service policy as if it were listed with none (each kept for
    // the grace period, then the loss protected for the hold); the service itself goes once
    // nothing of it is kept and it has been missing for the grace period.
    const missed = old.absentSinceMs === undefined ? old : { ...old, instances: old.instances.map((i) => ({ ...i, absentSinceMs: i.absentSinceMs ?? since })) };
    const r = stepService(registry, missed, { ...serviceFields(old), instances: [] }, options, nowMs, true);
    decisions.push(...r.decisions);
    diagnostics.push(...r.diagnostics);
    if (r.service.instances.length > 0) kept.push({ ...r.service, absentSinceMs: since });
    else if (nowMs - since >= options.removalGraceMs) due.push(old);
    else pending.push({ ...r.service, absentSinceMs: since });
  }

  let protectedSinceMs: number | undefined;
  const before = previous.size;
  if (due.length > 0 && due.length / before > options.protectionThreshold) {
    const since = prev?.protectedSinceMs ?? nowMs;
    if (nowMs - since < options.protectionHoldMs) {
      protectedSinceMs = since;
      const until = since + options.protectionHoldMs;
      pending.push(...due.splice(0));
      decisions.push({ kind: prev?.protectedSinceMs === undefined ? 'protection-triggered' : 'protection-held', registry, items: pending.map((s) => s.key).sort(), untilMs: until, before, after: before - pending.length });
      diagnostics.push(
        diag(
          'MM_CATALOG_PROTECTED',
          `Registry ${registry}`,
          `Registry ${registry} no longer lists ${pending.length} of its ${before} services, a loss above the protection threshold of ${options.protectionThreshold * 100} %; they are kept until they come back or for at most ${seconds(until - nowMs)} more. Check the registry's root path and contents.`,
        ),
      );
    } else {
      decisions.push({ kind: 'protection-released', registry });
      diagnostics.push(diag('MM_CATALOG_PROTECTION_RELEASED', `Registry ${registry}`, `The loss of ${due.length} of the ${before} services of registry ${registry} lasted the protection hold, so it is taken as intended and applied.`));
    }
  } else if (prev?.protectedSinceMs !== undefined) {
    decisions.push({ kind: 'protection-released', registry });
    diagnostics.push(diag('MM_CATALOG_PROTECTION_RELEASED', `Registry ${registry}`, `Registry ${registry} lists its services again within the protection threshold, so its protection is lifted.`));
  }

  if (due.length > 0) decisions.push({ kind: 'removed', registry, items: due.map((s) => s.key).sort() });
  if (pending.length > 0 && protectedSinceMs === undefined) {
    const until = earliest(pending) + options.removalGraceMs;
    decisions.push({ kind: 'removal-pending', registry, items: pending.map((s) => s.key).sort(), untilMs: until });
    diagnostics.push(
      diag(
        'MM_CATALOG_REMOVAL_PENDING',
        `Registry ${registry}`,
        `${pending.length} service(s) are no longer in registry ${registry} (${sample(pending.map((s) => s.host))}); they are kept until they have been missing for ${seconds(options.removalGraceMs)} (the first goes in ${seconds(until - nowMs)}).`,
      ),
    );
  }
  const result: KeptRegistry = { registry, state: status.state, ...(protectedSinceMs === undefined ? {} : { protectedSinceMs }), services: [...kept, ...pending].sort(byKey) };
  if (pending.length === 0 && due.length === 0 && protectedSinceMs === undefined && kept.every(isPlain) && strictlyByKey(snapshot.services)) plainFrom.set(result, snapshot.services);
  return { registry: result, decisions, diagnostics };
}
