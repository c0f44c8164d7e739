/**
 * EnvoyFilter stage for one host: the outbound patches (per address of the owning service, in the
 * root namespace or the MetaRouter's exportTo namespaces) and the inbound patch (in the service's
 * namespace, on the target port). Pure. Only a service's first host gets sidecar patches.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { HostModel, RouterModel } from '../model/host.js';
import type { Options } from '../model/options.js';
import type { OutputObject } from '../model/output.js';
import { routeConfigName } from '../route/clusters.js';
import { inboundEnvoyFilter, outboundEnvoyFilters } from './build.js';

export interface HostEnvoyFilters {
  readonly envoyFilters: OutputObject[];
  readonly diagnostics: Diagnostic[];
}

export function buildHostEnvoyFilters(model: HostModel, options: Options): HostEnvoyFilters {
  const envoyFilters: OutputObject[] = [];
  const diagnostics: Diagnostic[] = [];
  const { host, router } = model;
  for (const port of model.ports) {
    const owner = port.owner;
    if (!owner.primary) continue;
    const sources = [owner.ref, ...(router ? [router.ref] : [])];
    if (owner.addresses.length > 0) {
      envoyFilters.push(
        ...outboundEnvoyFilters({
          addresses: owner.addresses,
          host,
          port,
          routeConfigName: routeConfigName(host, port.number),
          namespaces: exportNamespaces(router, options),
          sources,
          options,
        }),
      );
    }
    if (!owner.selector) {
      diagnostics.push(diag('MM_INBOUND_NO_SELECTOR', owner.ref, `no workload selector is known for ${host}, so no inbound patch was made for port ${port.number} (rate limits and server-side stats need one). ${owner.kind === 'ServiceEntry' ? 'Set spec.workloadSelector.labels or the workloadSelector annotation.' : 'Give the Service a selector.'}`));
    } else if (port.targetPort === undefined) {
      diagnostics.push(diag('MM_INBOUND_NAMED_TARGET_PORT', owner.ref, `port ${port.number} targets a named container port, whose number metamesh cannot know; no inbound patch was made. Use a numeric targetPort.`));
    } else {
      envoyFilters.push(
        inboundEnvoyFilter({
          namespace: owner.namespace,
          host,
          port,
          targetPort: port.targetPort,
          selector: { ...options.proxySelector, ...owner.selector },
          localRateLimit: router?.spec.localRateLimit,
          globalRateLimit: router?.spec.globalRateLimit,
          sources,
          options,
        }),
      );
    }
  }
  return { envoyFilters, diagnostics };
}

/** Outbound patches go to the root namespace (all sidecars), or to the MetaRouter's exportTo. */
function exportNamespaces(r: RouterModel | undefined, options: Options): string[] {
  const list = r?.spec.exportTo ?? [];
  if (list.length === 0) return [options.rootNamespace];
  const out = new Set(list.map((e) => (e === '.' ? r!.namespace : e === '*' ? options.rootNamespace : e)));
  return [...out].sort();
}
