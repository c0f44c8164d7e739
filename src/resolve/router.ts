/**
 * A chosen MetaRouter as the later stages see it: every host it names resolved to the service host
 * it means (names.ts), so route building needs neither the namespace rules nor the service set.
 */
import type { ProtocolModel, RouterModel } from '../model/host.js';
import type { Destination, DestinationRule, MetaRouter } from '../model/resources.js';
import type { ProtocolTable } from '../protocol/table.js';
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
  let rewritten = mr.spec.hosts?.[0] !== host;
  const resolve = (d: Destination): Destination => {
    for (const c of candidateHosts(d.host, ns, lookup.domain)) candidates.add(c);
    const h = serviceHost(d.host, ns, lookup.domain, lookup.isServiceHost);
    hosts.add(h);
    if (h === d.host) return d;
    rewritten = true;
    return { ...d, host: h };
  };
  for (const c of candidateHosts(mr.spec.hosts?.[0] ?? host, ns, lookup.domain)) candidates.add(c);
  const routes = mr.spec.routes?.map((r) => {
    const route = r.route?.map((d) => {
      const destination = resolve(d.destination);
      return destination === d.destination ? d : { ...d, destination };
    });
    const mirror = r.mirror && resolve(r.mirror);
    return route?.every((d, i) => d === r.route![i]) !== false && mirror === r.mirror ? r : { ...r, ...(route ? { route } : {}), ...(mirror ? { mirror } : {}) };
  });
  // Most MetaRouters name their hosts as they are meant: then the spec is shared, not copied.
  const spec = rewritten ? { ...mr.spec, hosts: [host], ...(routes ? { routes } : {}) } : mr.spec;
  return { model: { ref: entry.ref, namespace: ns, spec }, hosts: [...hosts], candidates: [...candidates] };
}

/** The protocol table as the later stages see it: built once per table, shared by every port. */
export function protocolModels(table: ProtocolTable): ReadonlyMap<string, ProtocolModel> {
  return new Map(
    [...table].map(([name, d]) => [name, { name: d.name, codec: d.codec, attributes: d.attributes, openAttributes: d.openAttributes, mutations: d.mutations }]),
  );
}
