/**
 * Resolve stage, per service host: from the resources that concern a host to its HostModel. Pure.
 *
 * It decides everything the later stages must not decide on their own:
 * - which MetaRouter applies to the host's sidecars (the oldest valid one; MM_ROUTER_CONFLICT for
 *   the others; gateway-only MetaRouters are the gateway stage's);
 * - which service owns each port when several define the host (the oldest; MM_SERVICE_DUPLICATE_HOST);
 * - whether the host is its service's first host (MM_SERVICE_MULTIPLE_HOSTS otherwise);
 * - what every host name in the MetaRouter means (names.ts), and which DestinationRules apply to the
 *   hosts it routes to.
 * `dependsOn` lists every host whose services or DestinationRule the result read, so the engine can
 * recompute the host when one of them changes.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { DestinationRuleModel, HostModel, HostPortModel, ProtocolModel, RouterModel } from '../model/host.js';
import type { DestinationRule, MetaRouter } from '../model/resources.js';
import type { MetaService } from '../model/service.js';
import { byPrecedence } from './precedence.js';
import { serviceHost } from './names.js';
import { resolveRouter, type HostLookup } from './router.js';

export interface RouterEntry {
  readonly router: MetaRouter;
  readonly ref: string;
  readonly creationTimestamp: string;
}

export interface ResolveHostInput extends HostLookup {
  readonly host: string;
  /** Every service that lists this host, in any order. */
  readonly services: readonly MetaService[];
  /** Every valid MetaRouter whose host means this host, in any order. */
  readonly routers: readonly RouterEntry[];
  /** The protocol table (protocolModels in router.ts). */
  readonly protocols: ReadonlyMap<string, ProtocolModel>;
}

export interface ResolvedHost {
  readonly model: HostModel;
  readonly dependsOn: readonly string[];
}

export function resolveHostModel(input: ResolveHostInput): ResolvedHost {
  const { host } = input;
  const diagnostics: Diagnostic[] = [];
  const deps = new Set<string>([host]);
  const routers = input.routers.filter((r) => appliesToMesh(r.router)).sort(byPrecedence);
  const winner = routers[0];
  for (const loser of routers.slice(1)) {
    diagnostics.push(diag('MM_ROUTER_CONFLICT', loser.ref, `${winner!.ref} also targets ${host} and takes precedence (older, or first by namespace/name); this MetaRouter is not applied. Merge the two.`));
  }
  if (input.services.length === 0) {
    for (const r of input.routers) {
      diagnostics.push(diag('MM_ROUTER_NO_SERVICE', r.ref, `host ${host} is not a MetaProtocol service (no ServiceEntry or Service with a tcp-metaprotocol-<protocol> port defines it); check the host name.`));
    }
    return { model: { host, ports: [], destinationRules: {}, diagnostics }, dependsOn: [...deps] };
  }

  const ports = ownPorts(host, input, diagnostics);
  const destinationRules: Record<string, DestinationRuleModel> = {};
  const lookup = (h: string): void => {
    deps.add(h);
    const dr = input.destinationRule(h);
    if (dr && !destinationRules[h]) destinationRules[h] = destinationRuleModel(dr);
  };
  lookup(host);
  let router: RouterModel | undefined;
  if (winner) {
    const r = resolveRouter(winner, host, input);
    router = r.model;
    r.hosts.forEach(lookup);
    r.candidates.forEach((h) => deps.add(h));
  }
  return {
    model: { host, ports, ...(router ? { router } : {}), destinationRules: sortedRecord(destinationRules), diagnostics },
    dependsOn: [...deps],
  };
}

/** One service per port: the oldest definition wins. */
function ownPorts(host: string, input: ResolveHostInput, diagnostics: Diagnostic[]): HostPortModel[] {
  const services = [...input.services].sort((a, b) => byPrecedence(age(a), age(b)));
  const owned = new Map<number, HostPortModel>();
  for (const svc of services) {
    for (const port of svc.ports) {
      const owner = owned.get(port.number);
      if (owner) {
        diagnostics.push(diag('MM_SERVICE_DUPLICATE_HOST', svc.ref, `${owner.owner.ref} also defines ${host} port ${port.number} and takes precedence; this definition of the port is ignored.`));
        continue;
      }
      const primary = svc.hosts[0] === host;
      if (!primary) {
        diagnostics.push(diag('MM_SERVICE_MULTIPLE_HOSTS', svc.ref, `${host} is not the first of its hosts, so its route table for port ${port.number} is served but no sidecar listener uses it; only ${svc.hosts[0]} gets sidecar patches. Use one host per ServiceEntry.`));
      }
      owned.set(port.number, {
        number: port.number,
        name: port.name,
        ...(port.targetPort !== undefined ? { targetPort: port.targetPort } : {}),
        protocol: input.protocols.get(port.protocol)!,
        owner: {
          ref: svc.ref,
          kind: svc.kind,
          namespace: svc.namespace,
          primary,
          addresses: svc.addresses,
          ...(svc.selector ? { selector: svc.selector } : {}),
        },
      });
    }
  }
  return [...owned.values()].sort((a, b) => a.number - b.number);
}

function age(s: MetaService) {
  return { creationTimestamp: s.creationTimestamp, ref: s.ref };
}

/** Like a VirtualService: no `gateways` means sidecars; otherwise sidecars only if `mesh` is listed. */
export function appliesToMesh(r: MetaRouter): boolean {
  const g = r.spec.gateways ?? [];
  return g.length === 0 || g.includes('mesh');
}

export function destinationRuleModel(dr: DestinationRule): DestinationRuleModel {
  return { ref: `DestinationRule ${dr.metadata.namespace}/${dr.metadata.name}`, spec: dr.spec };
}

export function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  const keys = Object.keys(r);
  if (keys.length < 2) return r;
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The host a MetaRouter is for (its single spec.hosts entry), as the service host it means. */
export function routerHost(mr: MetaRouter, lookup: HostLookup): string {
  return serviceHost(mr.spec.hosts![0]!, mr.metadata.namespace, lookup.domain, lookup.isServiceHost);
}
