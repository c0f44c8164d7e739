/**
 * The outage policy for one service of a synced registry: which instances it keeps after a read.
 *
 * - An instance the read no longer lists is kept, with the time it was first missed, until it has
 *   been missing for the removal grace period; then it is removed.
 * - Protection: when what would be kept has fewer usable instances (enabled, healthy, weight above
 *   0) than the kept set had, by more than the protection threshold, the loss is refused: the
 *   previous instances stay as they were (new ones are added) for at most the protection hold.
 *   The loss is measured in numbers, not addresses, so a rolling restart onto new addresses is no
 *   loss; a loss spread over several reads, each within the threshold, is accepted step by step.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { RegistryInstance, RegistryService } from '../model/registry.js';
import type { CatalogOptions, Decision, KeptInstance, KeptService } from './model.js';

export interface ServiceStep {
  readonly service: KeptService;
  readonly decisions: Decision[];
  readonly diagnostics: Diagnostic[];
}

export function instanceId(i: RegistryInstance): string {
  return `${i.address}:${i.port}`;
}

export function isUsable(i: RegistryInstance): boolean {
  return i.enabled && i.healthy && i.weight > 0;
}

function usableCount(list: readonly RegistryInstance[]): number {
  return list.filter(isUsable).length;
}

export function byInstanceId(a: RegistryInstance, b: RegistryInstance): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port;
}

const READ_FIELDS = new Set(['address', 'port', 'labels', 'weight', 'healthy', 'enabled']);

/** A kept instance without clocks: what the registry said (the instance itself when that is all it holds). */
function asRead(i: RegistryInstance): KeptInstance {
  if (Object.getPrototypeOf(i) === Object.prototype) {
    let n = 0;
    for (const k in i) if (READ_FIELDS.has(k)) n++;
    if (n === READ_FIELDS.size && Object.keys(i).length === n) return i;
  }
  const { address, port, labels, weight, healthy, enabled } = i;
  return { address, port, labels, weight, healthy, enabled };
}

/** The earliest absence among `items` (all have one); a loop, as a spread of 100,000 would overflow. */
export function earliest(items: readonly { absentSinceMs?: number }[]): number {
  let min = Infinity;
  for (const i of items) if (i.absentSinceMs !== undefined && i.absentSinceMs < min) min = i.absentSinceMs;
  return min;
}

export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/**
 * Kept services that are exactly a read's instances, without clocks, by the read they came from. A
 * read object stands for its content (snapshots are not mutated): stepping the same read again
 * from such a service keeps it as it is, whatever the time and the options (nothing is missing,
 * nothing is lost), so it is returned as it is, without work and with the same identity.
 */
const unchangedFrom = new WeakMap<KeptService, RegistryService>();

/** Whether a kept service is exactly the read it was stepped from: no clocks, nothing pending or protected. */
export function isPlain(s: KeptService): boolean {
  return unchangedFrom.has(s);
}

/** The kept form of a service that a synced read lists, given what was kept of it before. */
/** `unlisted`: the registry no longer lists the service at all (`read` then has no instances). */
export function stepService(registry: string, prev: KeptService | undefined, read: RegistryService, options: CatalogOptions, nowMs: number, unlisted = false): ServiceStep {
  if (prev !== undefined && unchangedFrom.get(prev) === read) return { service: prev, decisions: [], diagnostics: [] };
  const decisions: Decision[] = [];
  const diagnostics: Diagnostic[] = [];
  const object = `RegistryService ${read.key}`;
  const readIds = new Set(read.instances.map(instanceId));
  const fresh = read.instances.map(asRead);

  // Instances missing from this read: kept until their grace period is over.
  const pending: KeptInstance[] = [];
  const removed: string[] = [];
  for (const old of prev?.instances ?? []) {
    if (readIds.has(instanceId(old))) continue;
    const since = old.absentSinceMs ?? nowMs;
    if (nowMs - since >= options.removalGraceMs) removed.push(instanceId(old));
    else pending.push({ ...asRead(old), absentSinceMs: since });
  }
  const candidate = [...fresh, ...pending];

  const fields = serviceFields(read);
  const before = usableCount(prev?.instances ?? []);
  const after = usableCount(candidate);
  const lost = before - after;

  if (prev && before > 0 && lost / before > options.protectionThreshold) {
    const since = prev.protectedSinceMs ?? nowMs;
    if (nowMs - since < options.protectionHoldMs) {
      // Refuse the loss: the previous instances as they were, plus any new ones.
      const prevIds = new Set(prev.instances.map(instanceId));
      const kept = [
        ...prev.instances.map((i) => (readIds.has(instanceId(i)) ? asRead(i) : { ...asRead(i), absentSinceMs: i.absentSinceMs ?? nowMs })),
        ...fresh.filter((i) => !prevIds.has(instanceId(i))),
      ];
      const until = since + options.protectionHoldMs;
      decisions.push({ kind: prev.protectedSinceMs === undefined ? 'protection-triggered' : 'protection-held', registry, service: read.key, untilMs: until, before, after });
      diagnostics.push(
        diag(
          'MM_CATALOG_PROTECTED',
          object,
          `Registry ${registry} now offers ${after} usable instance(s) of ${read.host} instead of ${before}, a loss above the protection threshold of ${options.protectionThreshold * 100} %; the previous instances are kept until the loss is recovered or for at most ${seconds(until - nowMs)} more. Check the providers of ${read.host} and the registry.`,
        ),
      );
      return { service: finish(fields, kept, since), decisions, diagnostics };
    }
    decisions.push({ kind: 'protection-released', registry, service: read.key });
    diagnostics.push(
      diag('MM_CATALOG_PROTECTION_RELEASED', object, `The loss of usable instances of ${read.host} in registry ${registry} (${after} of ${before} left) lasted the protection hold of ${seconds(options.protectionHoldMs)}, so it is taken as intended and applied.`),
    );
  } else if (prev?.protectedSinceMs !== undefined) {
    decisions.push({ kind: 'protection-released', registry, service: read.key });
    diagnostics.push(diag('MM_CATALOG_PROTECTION_RELEASED', object, `Registry ${registry} offers ${after} usable instance(s) of ${read.host} again, within the protection threshold, so its protection is lifted.`));
  }

  if (removed.length > 0) decisions.push({ kind: 'removed', registry, service: read.key, items: removed.sort() });
  if (pending.length > 0) {
    const until = earliest(pending) + options.removalGraceMs;
    decisions.push({ kind: 'removal-pending', registry, service: read.key, items: pending.map(instanceId).sort(), untilMs: until });
    diagnostics.push(
      diag(
        'MM_CATALOG_REMOVAL_PENDING',
        object,
        unlisted
          ? `${read.host} is no longer in registry ${registry}; its ${pending.length} instance(s) are kept until they have been missing for ${seconds(options.removalGraceMs)} (the first goes in ${seconds(until - nowMs)}), then their loss is protected like any sudden loss.`
          : `${pending.length} instance(s) of ${read.host} are no longer in registry ${registry}; they are kept until they have been missing for ${seconds(options.removalGraceMs)} (the first goes in ${seconds(until - nowMs)}).`,
      ),
    );
  }
  const service = finish(fields, candidate, undefined);
  if (pending.length === 0) unchangedFrom.set(service, read);
  return { service, decisions, diagnostics };
}

type ServiceFields = Omit<RegistryService, 'instances'>;

/** What a service is, without its instances or clocks. */
export function serviceFields(s: RegistryService | KeptService): ServiceFields {
  const { key, protocol, host, interface: iface, group, version, application, namespace } = s;
  const optional = { interface: iface, group, version, application, namespace };
  return { key, protocol, host, ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) };
}

function finish(fields: ServiceFields, instances: readonly KeptInstance[], protectedSinceMs: number | undefined): KeptService {
  return { ...fields, instances: [...instances].sort(byInstanceId), ...(protectedSinceMs === undefined ? {} : { protectedSinceMs }) };
}
