/**
 * Gateway stage: MetaRouters whose `gateways` name an Istio Gateway with a MetaProtocol server
 * (port named tcp-metaprotocol-<protocol>) get a gateway EnvoyFilter, its own RDS table and the
 * VirtualService that makes Istio open the listener. Pure. One listener carries one RDS table, so
 * several MetaRouters on one gateway port is a conflict with a deterministic winner.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { Options } from '../model/options.js';
import type { OutputObject } from '../model/output.js';
import type { DestinationRule, Gateway } from '../model/resources.js';
import type { MetaService } from '../model/service.js';
import type { ProtocolTable } from '../protocol/table.js';
import { buildRouteConfiguration } from '../route/build.js';
import { gatewayRouteConfigName } from '../route/clusters.js';
import { toWire, type JsonObject } from '../route/wire.js';
import { gatewayEnvoyFilter, gatewayVirtualService, gatewayXdsClusterEnvoyFilter } from '../envoyfilter/build.js';
import { resolveHost } from '../util/hosts.js';
import { byPrecedence } from './precedence.js';
import type { RouterEntry } from './host.js';

export interface GatewayStageInput {
  readonly gateways: readonly Gateway[];
  /** Valid MetaRouters that list at least one gateway. */
  readonly routers: readonly RouterEntry[];
  readonly servicesOf: (host: string) => readonly MetaService[];
  readonly destinationRule: (host: string) => DestinationRule | undefined;
  readonly table: ProtocolTable;
  readonly options: Options;
}

export interface GatewayStageOutput {
  readonly envoyFilters: OutputObject[];
  readonly virtualServices: OutputObject[];
  readonly routes: Map<string, JsonObject>;
  readonly diagnostics: Diagnostic[];
  /** Hosts read (services and DestinationRules): a change to one re-runs this stage. */
  readonly dependsOn: ReadonlySet<string>;
}

export function computeGateways(input: GatewayStageInput): GatewayStageOutput {
  const out: GatewayStageOutput = { envoyFilters: [], virtualServices: [], routes: new Map(), diagnostics: [], dependsOn: new Set() };
  const deps = out.dependsOn as Set<string>;
  const gateways = new Map(input.gateways.map((g) => [`${g.metadata.namespace}/${g.metadata.name}`, g]));
  // (gateway key, port) → candidate routers
  const claims = new Map<string, { gateway: Gateway; port: number; protocol: string; routers: RouterEntry[] }>();

  for (const entry of [...input.routers].sort(byPrecedence)) {
    const r = entry.router;
    for (const ref of r.spec.gateways ?? []) {
      if (ref === 'mesh') continue;
      const key = ref.includes('/') ? ref : `${r.metadata.namespace}/${ref}`;
      const gw = gateways.get(key);
      if (!gw) {
        out.diagnostics.push(diag('MM_GATEWAY_NOT_FOUND', entry.ref, `spec.gateways names Gateway ${key}, which does not exist; nothing was configured on it.`));
        continue;
      }
      const servers = (gw.spec.servers ?? []).filter((s) => /^[^-]*-metaprotocol-[^-]+/i.test(s.port?.name ?? ''));
      if (servers.length === 0) {
        out.diagnostics.push(diag('MM_GATEWAY_NO_SERVER', entry.ref, `Gateway ${key} has no server whose port is named tcp-metaprotocol-<protocol>; add one to carry this MetaRouter.`));
        continue;
      }
      const routerHost = resolveHost(r.spec.hosts![0]!, r.metadata.namespace, input.options.domain);
      deps.add(routerHost); // its services decide which servers it can take
      const hostProtocols = new Set(input.servicesOf(routerHost).flatMap((svc) => svc.ports.map((p) => p.protocol)));
      const destPorts = new Set((r.spec.routes ?? []).flatMap((rt) => (rt.route ?? []).map((d) => d.destination.port?.number).filter((n): n is number => !!n)));
      // A MetaRouter takes a server whose port its destinations name, or else (no ports named)
      // one that speaks its service's protocol. Aeraki took whatever came first.
      const claimed = servers.filter((s) => {
        const protocol = s.port.name.toLowerCase().split('-')[2]!;
        return destPorts.size > 0 ? destPorts.has(s.port.number) : hostProtocols.has(protocol);
      });
      if (claimed.length === 0) {
        out.diagnostics.push(diag('MM_GATEWAY_NO_SERVER', entry.ref, `Gateway ${key} has no MetaProtocol server ${destPorts.size > 0 ? `on port ${[...destPorts].join(' or ')}` : `speaking the protocol of its host (${[...hostProtocols].join(', ') || 'the host is not a MetaProtocol service'})`}; nothing was configured on it.`));
        continue;
      }
      for (const s of claimed) {
        const protocol = s.port.name.toLowerCase().split('-')[2]!;
        const claimKey = `${key}:${s.port.number}`;
        const c = claims.get(claimKey) ?? { gateway: gw, port: s.port.number, protocol, routers: [] };
        if (!c.routers.includes(entry)) c.routers.push(entry);
        claims.set(claimKey, c);
      }
    }
  }

  const withCluster = new Set<string>();
  for (const c of [...claims.values()].sort((a, b) => cmpClaim(a, b))) {
    const gwNs = c.gateway.metadata.namespace;
    const gwName = c.gateway.metadata.name;
    const [winner, ...losers] = c.routers;
    for (const l of losers) {
      out.diagnostics.push(diag('MM_GATEWAY_CONFLICT', l.ref, `${winner!.ref} already carries Gateway ${gwNs}/${gwName} port ${c.port} and takes precedence; this MetaRouter is not applied there.`));
    }
    const d = input.table.get(c.protocol);
    if (!d) {
      out.diagnostics.push(diag('MM_DETECT_UNKNOWN_PROTOCOL', `Gateway ${gwNs}/${gwName}`, `server port ${c.port} names application protocol "${c.protocol}", which is not known; the port was skipped.`));
      continue;
    }
    const r = winner!.router;
    const host = resolveHost(r.spec.hosts![0]!, r.metadata.namespace, input.options.domain);
    deps.add(host);
    // Destinations without a port go to the service's MetaProtocol port when it has exactly one.
    const svcPorts = new Set(input.servicesOf(host).flatMap((s) => s.ports.map((p) => p.number)));
    const defaultPort = svcPorts.size === 1 ? [...svcPorts][0]! : c.port;
    const name = gatewayRouteConfigName(gwNs, gwName, host, c.port);
    const built = buildRouteConfiguration({
      name,
      host,
      defaultPort,
      protocol: d,
      router: r,
      destinationRule: input.destinationRule,
      domain: input.options.domain,
    });
    built.dependsOn.forEach((h) => deps.add(h));
    out.routes.set(name, toWire(built.config));
    out.diagnostics.push(...built.diagnostics);
    const gi = {
      gatewayNamespace: gwNs,
      gatewayName: gwName,
      selector: c.gateway.spec.selector ?? {},
      gatewayPort: c.port,
      protocol: c.protocol,
      codec: d.codec,
      host,
      routeConfigName: name,
      sources: [`Gateway ${gwNs}/${gwName}`, winner!.ref],
      options: input.options,
    };
    out.envoyFilters.push(gatewayEnvoyFilter(gi));
    if (!withCluster.has(`${gwNs}/${gwName}`)) {
      withCluster.add(`${gwNs}/${gwName}`);
      out.envoyFilters.push(gatewayXdsClusterEnvoyFilter(gwNs, gwName, gi.selector, input.options));
    }
    out.virtualServices.push(gatewayVirtualService(gi, defaultPort));
  }
  return out;
}

function cmpClaim(a: { gateway: Gateway; port: number }, b: { gateway: Gateway; port: number }): number {
  const ka = `${a.gateway.metadata.namespace}/${a.gateway.metadata.name}`;
  const kb = `${b.gateway.metadata.namespace}/${b.gateway.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : a.port - b.port;
}
