/**
 * Resolve stage for gateways: which MetaRouter each MetaProtocol gateway port carries. Pure.
 *
 * A MetaRouter reaches a gateway through `spec.gateways` (`<namespace>/<name>` or a bare name in its
 * own namespace). It claims the gateway's MetaProtocol servers (port named
 * `<x>-metaprotocol-<protocol>`) whose port one of its destinations names, or, when no destination
 * names a port, those that speak its service's protocol. One listener carries one RDS table, so when
 * several MetaRouters claim one gateway port the oldest wins (MM_GATEWAY_CONFLICT for the others).
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { DestinationRuleModel, GatewayListenerModel, GatewayModel, ProtocolModel } from '../model/host.js';
import type { Gateway } from '../model/resources.js';
import type { MetaService } from '../model/service.js';
import { protocolFromPortName } from '../protocol/portname.js';
import { destinationRuleModel, routerHost, sortedRecord, type RouterEntry } from './host.js';
import { byPrecedence } from './precedence.js';
import { resolveRouter, type HostLookup } from './router.js';

export interface ResolveGatewaysInput extends HostLookup {
  readonly gateways: readonly Gateway[];
  /** Valid MetaRouters that list at least one gateway. */
  readonly routers: readonly RouterEntry[];
  readonly servicesOf: (host: string) => readonly MetaService[];
  readonly protocols: ReadonlyMap<string, ProtocolModel>;
}

export interface ResolvedGateways {
  readonly model: GatewayModel;
  /** Hosts whose services or DestinationRules were read: a change to one re-runs this stage. */
  readonly dependsOn: ReadonlySet<string>;
}

interface Claim {
  readonly gateway: Gateway;
  readonly port: number;
  readonly protocol: string;
  readonly routers: RouterEntry[];
}

export function resolveGateways(input: ResolveGatewaysInput): ResolvedGateways {
  const diagnostics: Diagnostic[] = [];
  const deps = new Set<string>();
  const claims = claimPorts(input, diagnostics, deps);
  const listeners: GatewayListenerModel[] = [];
  for (const c of [...claims.values()].sort(cmpClaim)) {
    const gwNs = c.gateway.metadata.namespace;
    const gwName = c.gateway.metadata.name;
    const [winner, ...losers] = c.routers;
    for (const l of losers) {
      diagnostics.push(diag('MM_GATEWAY_CONFLICT', l.ref, `${winner!.ref} already carries Gateway ${gwNs}/${gwName} port ${c.port} and takes precedence; this MetaRouter is not applied there.`));
    }
    const d = input.protocols.get(c.protocol);
    if (!d) {
      diagnostics.push(diag('MM_DETECT_UNKNOWN_PROTOCOL', `Gateway ${gwNs}/${gwName}`, `server port ${c.port} names application protocol "${c.protocol}", which is not known; the port was skipped.`));
      continue;
    }
    const host = routerHost(winner!.router, input);
    deps.add(host);
    // Destinations without a port go to the service's MetaProtocol port when it has exactly one.
    const svcPorts = new Set(input.servicesOf(host).flatMap((s) => s.ports.map((p) => p.number)));
    const router = resolveRouter(winner!, host, input);
    router.candidates.forEach((h) => deps.add(h));
    const destinationRules: Record<string, DestinationRuleModel> = {};
    for (const h of [host, ...router.hosts]) {
      deps.add(h);
      const dr = input.destinationRule(h);
      if (dr) destinationRules[h] = destinationRuleModel(dr);
    }
    listeners.push({
      gateway: { namespace: gwNs, name: gwName, selector: { ...(c.gateway.spec.selector ?? {}) } },
      port: c.port,
      protocol: d,
      host,
      defaultPort: svcPorts.size === 1 ? [...svcPorts][0]! : c.port,
      router: router.model,
      destinationRules: sortedRecord(destinationRules),
    });
  }
  return { model: { listeners, diagnostics }, dependsOn: deps };
}

function claimPorts(input: ResolveGatewaysInput, diagnostics: Diagnostic[], deps: Set<string>): Map<string, Claim> {
  const gateways = new Map(input.gateways.map((g) => [`${g.metadata.namespace}/${g.metadata.name}`, g]));
  const claims = new Map<string, Claim>();
  for (const entry of [...input.routers].sort(byPrecedence)) {
    const r = entry.router;
    for (const ref of r.spec.gateways ?? []) {
      if (ref === 'mesh') continue;
      const key = ref.includes('/') ? ref : `${r.metadata.namespace}/${ref}`;
      const gw = gateways.get(key);
      if (!gw) {
        diagnostics.push(diag('MM_GATEWAY_NOT_FOUND', entry.ref, `spec.gateways names Gateway ${key}, which does not exist; nothing was configured on it.`));
        continue;
      }
      const servers = (gw.spec.servers ?? []).flatMap((s) => {
        const p = protocolFromPortName(s.port?.name ?? '');
        return p.kind === 'protocol' ? [{ number: s.port.number, protocol: p.protocol }] : [];
      });
      if (servers.length === 0) {
        diagnostics.push(diag('MM_GATEWAY_NO_SERVER', entry.ref, `Gateway ${key} has no server whose port is named tcp-metaprotocol-<protocol>; add one to carry this MetaRouter.`));
        continue;
      }
      const host = routerHost(r, input);
      deps.add(host); // its services decide which servers it can take
      const hostProtocols = new Set(input.servicesOf(host).flatMap((svc) => svc.ports.map((p) => p.protocol)));
      const destPorts = new Set((r.spec.routes ?? []).flatMap((rt) => (rt.route ?? []).map((d) => d.destination.port?.number).filter((n): n is number => !!n)));
      const claimed = servers.filter((s) => (destPorts.size > 0 ? destPorts.has(s.number) : hostProtocols.has(s.protocol)));
      if (claimed.length === 0) {
        diagnostics.push(diag('MM_GATEWAY_NO_SERVER', entry.ref, `Gateway ${key} has no MetaProtocol server ${destPorts.size > 0 ? `on port ${[...destPorts].join(' or ')}` : `speaking the protocol of its host (${[...hostProtocols].join(', ') || 'the host is not a MetaProtocol service'})`}; nothing was configured on it.`));
        continue;
      }
      for (const s of claimed) {
        const claimKey = `${key}:${s.number}`;
        const c = claims.get(claimKey) ?? { gateway: gw, port: s.number, protocol: s.protocol, routers: [] };
        if (!c.routers.includes(entry)) c.routers.push(entry);
        claims.set(claimKey, c);
      }
    }
  }
  return claims;
}

function cmpClaim(a: Claim, b: Claim): number {
  const ka = `${a.gateway.metadata.namespace}/${a.gateway.metadata.name}`;
  const kb = `${b.gateway.metadata.namespace}/${b.gateway.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : a.port - b.port;
}
