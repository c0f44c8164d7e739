/**
 * A chosen MetaRouter as the later stages see it: every host it names resolved to the service host
 * it means (names.ts), so route building needs neither the namespace rules nor the service set.
 */
import type { ProtocolModel, RouterModel } from '../model/host.js';
import type { Destination, DestinationRule, MetaRouter } from '../model/resources.js';
import type { ProtocolDescriptor } from '../protocol/table.js';
import { candidateHosts, serviceHost } from './names.js';

/** What resolution may ask about the rest of the configuration. */
export interface HostLookup {
  readonly domain: string;
  /** Whether some MetaProtocol service defines exactly this host. */
  readonly isServiceHost: (host: string) => boolean;
  /** The DestinationRule that applies to a host (precedence already decided). */
  readonly destinationRule: (host: string) => DestinationRule | undefined;
}

export interface ResolvedRouter {
  readonly model: RouterModel;
  /** The hosts the router routes and mirrors to, resolved. */
  readonly hosts: readonly string[];
  /** Every host a name in the router could have meant: a service appearing there changes the result. */
  readonly candidates: readonly string[];
}

export function resolveRouter(entry: { router: MetaRouter; ref: string }, host: string, lookup: HostLookup): ResolvedRouter {
  const mr = entry.router;
  const ns = mr.metadata.namespace;
  const hosts = new Set<string>();
  const candidates = new Set<string>();
  const resolve = (d: Destination): Destination => {
    for (const c of candidateHosts(d.host, ns, lookup.domain)) candidates.add(c);
    const h = serviceHost(d.host, ns, lookup.domain, lookup.isServiceHost);
    hosts.add(h);
    return { ...d, host: h };
  };
  for (const c of candidateHosts(mr.spec.hosts?.[0] ?? host, ns, lookup.domain)) candidates.add(c);
  const spec = {
    ...mr.spec,
    hosts: [host],
    ...(mr.spec.routes
      ? {
          routes: mr.spec.routes.map((r) => ({
            ...r,
            ...(r.route ? { route: r.route.map((d) => ({ ...d, destination: resolve(d.destination) })) } : {}),
            ...(r.mirror ? { mirror: resolve(r.mirror) } : {}),
          })),
        }
      : {}),
  };
  return { model: { ref: entry.ref, namespace: ns, spec }, hosts: [...hosts], candidates: [...candidates] };
}

export function protocolModel(d: ProtocolDescriptor): ProtocolModel {
  return { name: d.name, codec: d.codec, attributes: [...d.attributes], openAttributes: d.openAttributes, mutations: d.mutations };
}
