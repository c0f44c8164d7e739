/**
 * A chosen MetaRouter as the later stages see it: every host it names resolved to the service host
 * it means (names.ts), so route building needs neither the namespace rules nor the service set.
 */
import type { ProtocolModel, RouterModel } from '../model/host.js';
import type { Destination, DestinationRule, MetaRouter, MetaRouterSpec } from '../model/resources.js';
import type { ProtocolTable } from '../protocol/table.js';
import { candidateHosts } from './names.js';

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
  /** The hosts the router names (its own, and those it routes and mirrors to), resolved. */
  readonly hosts: readonly string[];
  /** Every host a name in the router could have meant: a service appearing there changes the result. */
  readonly candidates: readonly string[];
}

export function resolveRouter(entry: { router: MetaRouter; ref: string }, host: string, lookup: HostLookup): ResolvedRouter {
  const mr = entry.router;
  const ns = mr.metadata.namespace;
  const candidates = new Set<string>();
  /** Name as written → the host it means (a MetaRouter names the same few hosts in every route). */
  const meaning = new Map<string, string>();
  const mean = (name: string): string => {
    let h = meaning.get(name);
    if (h === undefined) {
      const c = candidateHosts(name, ns, lookup.domain);
      c.forEach((x) => candidates.add(x));
      h = c.length === 1 || lookup.isServiceHost(c[0]!) ? c[0]! : c[1]!;
      meaning.set(name, h);
    }
    return h;
  };
  mean(mr.spec.hosts?.[0] ?? host);
  let rewritten = mr.spec.hosts?.[0] !== host;
  for (const r of mr.spec.routes ?? []) {
    for (const d of r.route ?? []) if (mean(d.destination.host) !== d.destination.host) rewritten = true;
    if (r.mirror && mean(r.mirror.host) !== r.mirror.host) rewritten = true;
  }
  const hosts = [...new Set(meaning.values())];
  // Most MetaRouters name their hosts as they are meant: then the spec is shared, not copied.
  const spec = rewritten ? rewrite(mr.spec, host, mean) : mr.spec;
  return { model: { ref: entry.ref, namespace: ns, spec }, hosts, candidates: [...candidates] };
}

function rewrite(spec: MetaRouterSpec, host: string, mean: (name: string) => string): MetaRouterSpec {
  const dest = (d: Destination): Destination => (mean(d.host) === d.host ? d : { ...d, host: mean(d.host) });
  return {
    ...spec,
    hosts: [host],
    ...(spec.routes
      ? {
          routes: spec.routes.map((r) => ({
            ...r,
            ...(r.route ? { route: r.route.map((d) => ({ ...d, destination: dest(d.destination) })) } : {}),
            ...(r.mirror ? { mirror: dest(r.mirror) } : {}),
          })),
        }
      : {}),
  };
}

/** The protocol table as the later stages see it: built once per table, shared by every port. */
export function protocolModels(table: ProtocolTable): ReadonlyMap<string, ProtocolModel> {
  return new Map(
    [...table].map(([name, d]) => [name, { name: d.name, codec: d.codec, attributes: d.attributes, openAttributes: d.openAttributes, mutations: d.mutations }]),
  );
}
