/**
 * Everything metamesh emits for one service host: its RDS route tables, its outbound and inbound
 * EnvoyFilters, and the diagnostics about it. Pure; the engine calls it for dirty hosts only.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { Options } from '../model/options.js';
import type { OutputObject } from '../model/output.js';
import type { DestinationRule, MetaRouter } from '../model/resources.js';
import type { MetaService } from '../model/service.js';
import type { ProtocolTable } from '../protocol/table.js';
import { buildRouteConfiguration } from '../route/build.js';
import { routeConfigName } from '../route/clusters.js';
import { toWire, type JsonObject } from '../route/wire.js';
import { inboundEnvoyFilter, outboundEnvoyFilters } from '../envoyfilter/build.js';
import { byPrecedence } from './precedence.js';

export interface RouterEntry {
  readonly router: MetaRouter;
  readonly ref: string;
  readonly creationTimestamp: string;
}

export interface HostInput {
  readonly host: string;
  /** Every service that lists this host, in any order. */
  readonly services: readonly MetaService[];
  /** Every valid MetaRouter for this host, in any order. */
  readonly routers: readonly RouterEntry[];
  readonly destinationRule: (host: string) => DestinationRule | undefined;
  readonly table: ProtocolTable;
  readonly options: Options;
}

export interface HostOutput {
  /** RDS resources by name, in wire form. */
  readonly routes: Map<string, JsonObject>;
  readonly envoyFilters: OutputObject[];
  readonly diagnostics: Diagnostic[];
  /** Hosts whose DestinationRules were read. */
  readonly dependsOn: readonly string[];
}

export function computeHost(input: HostInput): HostOutput {
  const { host, options } = input;
  const diagnostics: Diagnostic[] = [];
  const routes = new Map<string, JsonObject>();
  const envoyFilters: OutputObject[] = [];
  const deps = new Set<string>([host]);

  // Only MetaRouters that apply to sidecars compete here; gateway-only ones are the gateway stage's.
  const routers = input.routers.filter((r) => appliesToMesh(r.router)).sort(byPrecedence);
  const router = routers[0];
  for (const loser of routers.slice(1)) {
    diagnostics.push(diag('MM_ROUTER_CONFLICT', loser.ref, `${router!.ref} also targets ${host} and takes precedence (older, or first by namespace/name); this MetaRouter is not applied. Merge the two.`));
  }
  if (input.services.length === 0) {
    for (const r of input.routers) {
      diagnostics.push(diag('MM_ROUTER_NO_SERVICE', r.ref, `host ${host} is not a MetaProtocol service (no ServiceEntry or Service with a tcp-metaprotocol-<protocol> port defines it); check the host name.`));
    }
    return { routes, envoyFilters, diagnostics, dependsOn: [...deps] };
  }

  // One service per port: the oldest definition wins.
  const services = [...input.services].sort((a, b) => byPrecedence(age(a), age(b)));
  const claimed = new Map<number, MetaService>();
  for (const svc of services) {
    for (const port of svc.ports) {
      const owner = claimed.get(port.number);
      if (owner) {
        diagnostics.push(diag('MM_SERVICE_DUPLICATE_HOST', svc.ref, `${owner.ref} also defines ${host} port ${port.number} and takes precedence; this definition of the port is ignored.`));
        continue;
      }
      claimed.set(port.number, svc);
    }
  }

  for (const [portNumber, svc] of [...claimed].sort(([a], [b]) => a - b)) {
    const port = svc.ports.find((p) => p.number === portNumber)!;
    const protocol = input.table.get(port.protocol)!;
    const name = routeConfigName(host, port.number);
    const built = buildRouteConfiguration({
      name,
      host,
      defaultPort: port.number,
      protocol,
      router: router?.router,
      destinationRule: input.destinationRule,
      domain: options.domain,
    });
    routes.set(name, toWire(built.config));
    diagnostics.push(...built.diagnostics);
    built.dependsOn.forEach((h) => deps.add(h));

    // Sidecar patches hang off the service's primary host only: its listeners are per address.
    if (svc.hosts[0] !== host) {
      diagnostics.push(diag('MM_SERVICE_MULTIPLE_HOSTS', svc.ref, `${host} is not the first of its hosts, so its route table ${name} is served but no sidecar listener uses it; only ${svc.hosts[0]} gets sidecar patches. Use one host per ServiceEntry.`));
      continue;
    }
    const sources = [svc.ref, ...(router ? [router.ref] : [])];
    if (svc.addresses.length > 0) {
      envoyFilters.push(
        ...outboundEnvoyFilters({
          service: svc,
          host,
          port,
          routeConfigName: name,
          namespaces: exportNamespaces(router?.router, options),
          sources,
          options,
        }),
      );
    }
    if (!svc.selector) {
      diagnostics.push(diag('MM_INBOUND_NO_SELECTOR', svc.ref, `no workload selector is known for ${host}, so no inbound patch was made for port ${port.number} (rate limits and server-side stats need one). ${svc.kind === 'ServiceEntry' ? 'Set spec.workloadSelector.labels or the workloadSelector annotation.' : 'Give the Service a selector.'}`));
    } else if (port.targetPort === undefined) {
      diagnostics.push(diag('MM_INBOUND_NAMED_TARGET_PORT', svc.ref, `port ${port.number} targets a named container port, whose number metamesh cannot know; no inbound patch was made. Use a numeric targetPort.`));
    } else {
      envoyFilters.push(
        inboundEnvoyFilter({
          service: svc,
          host,
          port,
          selector: { ...options.proxySelector, ...svc.selector },
          localRateLimit: router?.router.spec.localRateLimit,
          globalRateLimit: router?.router.spec.globalRateLimit,
          sources,
          options,
        }),
      );
    }
  }
  return { routes, envoyFilters, diagnostics, dependsOn: [...deps] };
}

function age(s: MetaService) {
  return { creationTimestamp: s.creationTimestamp, ref: s.ref };
}

/** Like a VirtualService: no `gateways` means sidecars; otherwise sidecars only if `mesh` is listed. */
export function appliesToMesh(r: MetaRouter): boolean {
  const g = r.spec.gateways ?? [];
  return g.length === 0 || g.includes('mesh');
}

/** Outbound patches go to the root namespace (all sidecars), or to the MetaRouter's exportTo. */
function exportNamespaces(r: MetaRouter | undefined, options: Options): string[] {
  const list = r?.spec.exportTo ?? [];
  if (list.length === 0) return [options.rootNamespace];
  const out = new Set(list.map((e) => (e === '.' ? r!.metadata.namespace : e === '*' ? options.rootNamespace : e)));
  return [...out].sort();
}
