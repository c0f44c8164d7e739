/**
 * Gathers instances into services: one address:port once per service (the first source added wins,
 * so callers add their most detailed source first), one protocol per service, instances sorted and
 * capped. Output is sorted by key, so it does not depend on the order the tree was read in.
 */
import { cmp, diag, type Diagnostic } from '../../model/diagnostics.js';
import type { RegistryInstance, RegistryService } from '../../model/registry.js';

export type ServiceHead = Omit<RegistryService, 'instances' | 'protocol' | 'namespace'>;

export interface Candidate {
  readonly protocol: string;
  readonly instance: RegistryInstance;
  /** The namespace this record asks for (`aeraki_meta_app_namespace`). */
  readonly namespace?: string;
  /** The diagnostic object of the record it came from. */
  readonly object: string;
}

interface Entry {
  head: ServiceHead;
  byAddress: Map<string, Candidate>;
}

export class ServiceCollector {
  private readonly services = new Map<string, Entry>();

  constructor(
    private readonly maxInstances: number,
    private readonly diagnostics: Diagnostic[],
  ) {}

  add(head: ServiceHead, c: Candidate): void {
    let e = this.services.get(head.key);
    if (e === undefined) this.services.set(head.key, (e = { head, byAddress: new Map() }));
    const at = `${c.instance.address}:${c.instance.port}`;
    if (!e.byAddress.has(at)) e.byAddress.set(at, c);
  }

  finish(): RegistryService[] {
    const out: RegistryService[] = [];
    for (const key of [...this.services.keys()].sort(cmp)) {
      const { head, byAddress } = this.services.get(key)!;
      const all = [...byAddress.values()].sort((a, b) => cmp(a.instance.address, b.instance.address) || a.instance.port - b.instance.port);
      const protocol = majorityProtocol(all)!;
      const kept: Candidate[] = [];
      for (const c of all) {
        if (c.protocol === protocol) kept.push(c);
        else
          this.diagnostics.push(
            diag('MM_REGISTRY_PROTOCOL_MIXED', c.object, `${head.key} is served with ${protocol} by most instances, but ${c.instance.address}:${c.instance.port} registered ${c.protocol}; that instance was left out. Give each protocol its own service (a group or version).`),
          );
      }
      if (kept.length > this.maxInstances) {
        this.diagnostics.push(
          diag('MM_REGISTRY_TOO_MANY', `Service ${head.key}`, `${head.key} has ${kept.length} instances, over the limit of ${this.maxInstances}; the first ${this.maxInstances} by address were kept.`),
        );
        kept.length = this.maxInstances;
      }
      const namespace = kept.find((c) => c.namespace !== undefined)?.namespace;
      out.push({ ...head, protocol, ...(namespace !== undefined ? { namespace } : {}), instances: kept.map((c) => c.instance) });
    }
    return out;
  }
}

/** The protocol most instances use; ties go to the name first in order; undefined for none. */
function majorityProtocol(cs: readonly Candidate[]): string | undefined {
  const counts = new Map<string, number>();
  for (const c of cs) counts.set(c.protocol, (counts.get(c.protocol) ?? 0) + 1);
  let best: string | undefined;
  for (const [p, n] of [...counts].sort((a, b) => cmp(a[0], b[0]))) if (best === undefined || n > counts.get(best)!) best = p;
  return best;
}
