/**
 * Merges what the policy keeps of every registry into registry-neutral services, one per host.
 *
 * Sources of one host are taken in a fixed order, registry then service key, whatever order the
 * registries were read in. The first source defines the protocol and the descriptive fields
 * (interface, group, version, application, namespace). A source with the same protocol adds its
 * instances (an `address:port` already present keeps the first source's instance) and is reported
 * as merged; a source with another protocol is left out and reported as a conflict. Different
 * groups or versions of one interface never collide: they already differ by host.
 *
 * Kept services and registries stand for their content (states are not mutated). The last merge is
 * remembered, so a merge of the same registries in which some services changed but kept their host,
 * a host they had alone, only merges those hosts again (a comparison of arrays for the rest).
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { Catalog, CatalogInstance, CatalogService, KeptRegistry, KeptService } from './model.js';
import { byInstanceId, instanceId } from './service-policy.js';

interface Source {
  readonly registry: string;
  readonly service: KeptService;
  /** The registry's place in the merge and the service's index in its `services`. */
  readonly r: number;
  readonly i: number;
}

function name(s: Source): string {
  return `${s.service.key} of registry ${s.registry}`;
}

type Merged = { catalog: Catalog; diagnostics: Diagnostic[] };

/**
 * The last merge: the registries' names and services arrays it read, its result, and for each
 * service (by registry and index) the position of its catalog service when it had its host alone
 * (else -1).
 */
let last: { readonly names: readonly string[]; readonly inputs: readonly (readonly KeptService[])[]; readonly result: Merged; readonly positions: readonly Int32Array[] } | undefined;

/** The catalog service of a host with a single source, by that source's kept service and registry. */
const mergedAlone = new WeakMap<KeptService, { readonly registry: string; readonly service: CatalogService }>();

export function mergeCatalog(registries: readonly KeptRegistry[]): Merged {
  const ordered = [...registries].sort((a, b) => (a.registry < b.registry ? -1 : a.registry > b.registry ? 1 : 0));
  const quick = mergeChanged(ordered);
  if (quick !== undefined) return quick;

  // Every source in registry then key order; a stable sort by host then lists each host's sources
  // in that order. (A registry's services are kept sorted by key already: the sorts are cheap.)
  const all: Source[] = [];
  ordered.forEach((reg, r) => {
    const indexed = reg.services.map((service, i) => ({ registry: reg.registry, service, r, i }));
    for (const s of indexed.sort((a, b) => (a.service.key < b.service.key ? -1 : a.service.key > b.service.key ? 1 : 0))) all.push(s);
  });
  all.sort((a, b) => (a.service.host < b.service.host ? -1 : a.service.host > b.service.host ? 1 : 0));

  const diagnostics: Diagnostic[] = [];
  const services: CatalogService[] = [];
  const positions = ordered.map((reg) => new Int32Array(reg.services.length).fill(-1));
  for (let i = 0, j = 0; i < all.length; i = j) {
    const host = all[i]!.service.host;
    for (j = i + 1; j < all.length && all[j]!.service.host === host; j++);
    if (j === i + 1) positions[all[i]!.r]![all[i]!.i] = services.length;
    services.push(mergeHost(host, all.slice(i, j), diagnostics));
  }
  const result: Merged = { catalog: { services }, diagnostics };
  last = { names: ordered.map((r) => r.registry), inputs: ordered.map((r) => r.services), result, positions };
  return result;
}

/**
 * The last merge with the hosts of changed services merged again, or undefined when that is not
 * enough: other registries, a different number of services, a service whose host changed, or one
 * whose host had several sources.
 */
function mergeChanged(ordered: readonly KeptRegistry[]): Merged | undefined {
  const m = last;
  if (m === undefined || m.names.length !== ordered.length) return undefined;
  for (let r = 0; r < ordered.length; r++) if (ordered[r]!.registry !== m.names[r] || ordered[r]!.services.length !== m.inputs[r]!.length) return undefined;
  let services: CatalogService[] | undefined;
  for (let r = 0; r < ordered.length; r++) {
    const now = ordered[r]!.services;
    const before = m.inputs[r]!;
    for (let i = 0; i < now.length; i++) {
      const s = now[i]!;
      if (s === before[i]) continue;
      const at = m.positions[r]![i]!;
      if (at < 0 || s.host !== before[i]!.host) return undefined;
      (services ??= [...m.result.catalog.services])[at] = mergeHost(s.host, [{ registry: m.names[r]!, service: s, r, i }], []);
    }
  }
  const result = services === undefined ? m.result : { catalog: { services }, diagnostics: m.result.diagnostics };
  last = { ...m, inputs: ordered.map((r) => r.services), result };
  return result;
}

/** The catalog service of one host from its sources (in merge order); diagnostics go to `diagnostics`. */
function mergeHost(host: string, sources: readonly Source[], diagnostics: Diagnostic[]): CatalogService {
  const first = sources[0]!;
  if (sources.length === 1) {
    const alone = mergedAlone.get(first.service);
    if (alone !== undefined && alone.registry === first.registry) return alone.service;
  }
  const same = sources.filter((s) => s.service.protocol === first.service.protocol);
  const other = sources.filter((s) => s.service.protocol !== first.service.protocol);
  const object = `CatalogService ${host}`;
  if (same.length > 1) {
    diagnostics.push(diag('MM_CATALOG_HOST_MERGED', object, `Host ${host} (${first.service.protocol}) comes from ${same.map(name).join(', ')}; their instances were merged, and ${name(first)} gives its description.`));
  }
  for (const o of other) {
    diagnostics.push(
      diag(
        'MM_CATALOG_HOST_CONFLICT',
        object,
        `Host ${host} is ${first.service.protocol} in ${name(first)} but ${o.service.protocol} in ${name(o)}; the first was used and the instances of the second are left out. Give the services different names or groups.`,
      ),
    );
  }

  const instances = new Map<string, CatalogInstance>();
  for (const s of same) {
    for (const i of s.service.instances) {
      const id = instanceId(i);
      if (instances.has(id)) continue;
      const { absentSinceMs: _, ...read } = i;
      instances.set(id, { ...read, registry: s.registry });
    }
  }
  const f = first.service;
  const merged: CatalogService = {
    host,
    protocol: f.protocol,
    ...(f.interface === undefined ? {} : { interface: f.interface }),
    ...(f.group === undefined ? {} : { group: f.group }),
    ...(f.version === undefined ? {} : { version: f.version }),
    ...(f.application === undefined ? {} : { application: f.application }),
    ...(f.namespace === undefined ? {} : { namespace: f.namespace }),
    registries: [...new Set(same.map((s) => s.registry))],
    instances: [...instances.values()].sort(byInstanceId),
  };
  if (sources.length === 1) mergedAlone.set(f, { registry: first.registry, service: merged });
  return merged;
}
