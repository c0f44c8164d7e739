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

export function mergeCatalog(registries: readonly KeptRegistry[]): { catalog: Catalog; diagnostics: Diagnostic[] } {
  const byHost = new Map<string, Source[]>();
  const ordered = [...registries].sort((a, b) => (a.registry < b.registry ? -1 : a.registry > b.registry ? 1 : 0));
  for (const r of ordered) {
    for (const service of [...r.services].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
      const list = byHost.get(service.host) ?? [];
      list.push({ registry: r.registry, service });
      byHost.set(service.host, list);
    }
  }

  const diagnostics: Diagnostic[] = [];
  const services: CatalogService[] = [];
  for (const [host, sources] of [...byHost].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const first = sources[0]!;
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
    services.push({
      host,
      protocol: f.protocol,
      ...(f.interface === undefined ? {} : { interface: f.interface }),
      ...(f.group === undefined ? {} : { group: f.group }),
      ...(f.version === undefined ? {} : { version: f.version }),
      ...(f.application === undefined ? {} : { application: f.application }),
      ...(f.namespace === undefined ? {} : { namespace: f.namespace }),
      registries: registriesOfHost,
      instances: [...instances.values()].sort(byInstanceId),
    });
  }
  return { catalog: { services }, diagnostics };
}
