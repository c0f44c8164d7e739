/**
 * Merges what the policy keeps of every registry into registry-neutral services, one per host.
 *
 * Sources of one host are taken in a fixed order, registry then service key, whatever order the
 * registries were read in. The first source defines the protocol and the descriptive fields
 * (interface, group, version, application, namespace). A source with the same protocol adds its
 * instances (an `address:port` already present keeps the first source's instance) and is reported
 * as merged; a source with another protocol is left out and reported as a conflict. Different
 * groups or versions of one interface never collide: they already differ by host.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { Catalog, CatalogInstance, CatalogService, KeptRegistry, KeptService } from './model.js';
import { byInstanceId, instanceId } from './service-policy.js';

interface Source {
  readonly registry: string;
  readonly service: KeptService;
}

function name(s: Source): string {
  return `${s.service.key} of registry ${s.registry}`;
}

/**
 * The catalog service of a host with a single source, by that source's kept service, for the
 * registry it was merged for. A kept service stands for its content (states are not mutated), so
 * the same one merged alone again gives the same catalog service: the object is reused, and later
 * stages can tell by identity that the host did not change.
 */
const mergedAlone = new WeakMap<KeptService, { readonly registry: string; readonly service: CatalogService }>();

export function mergeCatalog(registries: readonly KeptRegistry[]): { catalog: Catalog; diagnostics: Diagnostic[] } {
  // Every source in registry then key order; a stable sort by host then lists each host's sources
  // in that order. (A registry's services are kept sorted by key already: the sorts are cheap.)
  const all: Source[] = [];
  for (const r of [...registries].sort((a, b) => (a.registry < b.registry ? -1 : a.registry > b.registry ? 1 : 0))) {
    for (const service of [...r.services].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) all.push({ registry: r.registry, service });
  }
  all.sort((a, b) => (a.service.host < b.service.host ? -1 : a.service.host > b.service.host ? 1 : 0));

  const diagnostics: Diagnostic[] = [];
  const services: CatalogService[] = [];
  for (let i = 0, j = 0; i < all.length; i = j) {
    const host = all[i]!.service.host;
    for (j = i + 1; j < all.length && all[j]!.service.host === host; j++);
    const first = all[i]!;
    const alone = j === i + 1 ? mergedAlone.get(first.service) : undefined;
    if (alone !== undefined && alone.registry === first.registry) {
      services.push(alone.service);
      continue;
    }
    const sources = all.slice(i, j);
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
    const registriesOfHost = [...new Set(same.map((s) => s.registry))];
    const merged: CatalogService = {
      host,
      protocol: f.protocol,
      ...(f.interface === undefined ? {} : { interface: f.interface }),
      ...(f.group === undefined ? {} : { group: f.group }),
      ...(f.version === undefined ? {} : { version: f.version }),
      ...(f.application === undefined ? {} : { application: f.application }),
      ...(f.namespace === undefined ? {} : { namespace: f.namespace }),
      registries: registriesOfHost,
      instances: [...instances.values()].sort(byInstanceId),
    };
    if (sources.length === 1) mergedAlone.set(f, { registry: first.registry, service: merged });
    services.push(merged);
  }
  return { catalog: { services }, diagnostics };
}
