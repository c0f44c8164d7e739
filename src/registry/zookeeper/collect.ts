/**
 * Gathers instances into services: one address:port once per service (the first source added wins,
 * so callers add their most detailed source first), one protocol per service, instances sorted and
 * capped. Output is sorted by key, so it does not depend on the order the tree was read in.
 *
 * Sources add candidates in batches (one per service and source). Given the memo of the previous
 * read, a service whose batches are the very same arrays as then (a part of the tree that did not
 * change) is not gathered again: its RegistryService object and diagnostics are reused, so later
 * stages can tell by identity that it did not change.
 */
import { cmp, diag, type Diagnostic } from '../../model/diagnostics.js';
import type { RegistryInstance, RegistryService } from '../../model/registry.js';
import { joinPath } from './options.js';
import { zkObject } from './tree.js';

export type ServiceHead = Omit<RegistryService, 'instances' | 'protocol' | 'namespace'>;

export interface Candidate {
  readonly protocol: string;
  readonly instance: RegistryInstance;
  /** The namespace this record asks for (`aeraki_meta_app_namespace`). */
  readonly namespace?: string;
  /**
   * The diagnostic object of the record it came from, or the node it is made from: it is needed only
   * for a diagnostic, and at 100,000 providers the clipped node paths would be kept for nothing.
   */
  readonly object: string | NodeRef;
}

/** A node by its directory and name (both strings the reader holds anyway). */
export interface NodeRef {
  readonly dir: string;
  readonly name: string;
}

export function candidateObject(c: Candidate): string {
  return typeof c.object === 'string' ? c.object : zkObject(joinPath(c.object.dir, c.object.name));
}

interface Entry {
  readonly head: ServiceHead;
  readonly batches: (readonly Candidate[])[];
}

/** What one service came to, and from what. */
export interface CollectedService {
  readonly head: ServiceHead;
  readonly batches: readonly (readonly Candidate[])[];
  readonly service: RegistryService;
  readonly diagnostics: readonly Diagnostic[];
}

/** Service key → what it came to at the last read. */
export type CollectMemo = Map<string, CollectedService>;

export class ServiceCollector {
  private readonly services = new Map<string, Entry>();

  constructor(
    private readonly maxInstances: number,
    private readonly diagnostics: Diagnostic[],
  ) {}

  add(head: ServiceHead, c: Candidate): void {
    this.addBatch(head, [c]);
  }

  /** Candidates of one service from one source, in their order. */
  addBatch(head: ServiceHead, cs: readonly Candidate[]): void {
    const e = this.services.get(head.key);
    if (e === undefined) this.services.set(head.key, { head, batches: [cs] });
    else e.batches.push(cs);
  }

  /**
   * The services, sorted by key. With `memo` (what the previous read left), unchanged services are
   * reused; `memo` is then replaced by this read's.
   */
  finish(memo?: CollectMemo): RegistryService[] {
    const out: RegistryService[] = [];
    const next: CollectMemo = new Map();
    for (const key of [...this.services.keys()].sort(cmp)) {
      const { head, batches } = this.services.get(key)!;
      const before = memo?.get(key);
      const done = before !== undefined && before.head === head && sameItems(before.batches, batches) ? before : gatherService(head, batches, this.maxInstances);
      for (const d of done.diagnostics) this.diagnostics.push(d);
      out.push(done.service);
      next.set(key, done);
    }
    if (memo) {
      memo.clear();
      for (const [k, v] of next) memo.set(k, v);
    }
    return out;
  }
}

/** One service from its batches, in the order they were added. */
export function gatherService(head: ServiceHead, batches: readonly (readonly Candidate[])[], maxInstances: number): CollectedService {
  const diagnostics: Diagnostic[] = [];
  const byAddress = new Map<string, Candidate>();
  for (const batch of batches) {
    for (const c of batch) {
      const at = `${c.instance.address}:${c.instance.port}`;
      if (!byAddress.has(at)) byAddress.set(at, c);
    }
  }
  const all = [...byAddress.values()].sort((a, b) => cmp(a.instance.address, b.instance.address) || a.instance.port - b.instance.port);
  const protocol = majorityProtocol(all)!;
  const kept: Candidate[] = [];
  for (const c of all) {
    if (c.protocol === protocol) kept.push(c);
    else
      diagnostics.push(
        diag('MM_REGISTRY_PROTOCOL_MIXED', candidateObject(c), `${head.key} is served with ${protocol} by most instances, but ${c.instance.address}:${c.instance.port} registered ${c.protocol}; that instance was left out. Give each protocol its own service (a group or version).`),
      );
  }
  if (kept.length > maxInstances) {
    diagnostics.push(
      diag('MM_REGISTRY_TOO_MANY', `Service ${head.key}`, `${head.key} has ${kept.length} instances, over the limit of ${maxInstances}; the first ${maxInstances} by address were kept.`),
    );
    kept.length = maxInstances;
  }
  const namespace = kept.find((c) => c.namespace !== undefined)?.namespace;
  const service: RegistryService = { ...head, protocol, ...(namespace !== undefined ? { namespace } : {}), instances: kept.map((c) => c.instance) };
  return { head, batches, service, diagnostics };
}

/** Whether two lists hold the same items (by identity) in the same order. */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The protocol most instances use; ties go to the name first in order; undefined for none. */
function majorityProtocol(cs: readonly Candidate[]): string | undefined {
  const counts = new Map<string, number>();
  for (const c of cs) counts.set(c.protocol, (counts.get(c.protocol) ?? 0) + 1);
  let best: string | undefined;
  for (const [p, n] of [...counts].sort((a, b) => cmp(a[0], b[0]))) if (best === undefined || n > counts.get(best)!) best = p;
  return best;
}
