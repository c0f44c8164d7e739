/**
 * The resolved models at the heart of the pipeline: everything the route and EnvoyFilter stages need
 * for one service host (HostModel) or one gateway listener (GatewayListenerModel), as plain data.
 *
 * The resolve stage (src/resolve/) produces them from the resources: it has already chosen the
 * MetaRouter that applies, the service that owns each port, the DestinationRules that apply, and
 * turned every host name written in a MetaRouter into the service host it means. The stages after
 * it read nothing else, so each model round-trips through YAML and is a golden test fixture.
 */
import type { Diagnostic } from './diagnostics.js';
import type { DestinationRuleSpec, MetaRouterSpec } from './resources.js';

/** A protocol table entry as the later stages need it. */
export interface ProtocolModel {
  readonly name: string;
  readonly codec: string;
  /** Routable metadata keys the codec exposes; `openAttributes` means any key may be used. */
  readonly attributes: readonly string[];
  readonly openAttributes: boolean;
  /** Whether the codec applies request/response mutations. */
  readonly mutations: boolean;
}

/** The service that owns a MetaProtocol port of a host. */
export interface PortOwner {
  /** `ServiceEntry ns/name` or `Service ns/name`. */
  readonly ref: string;
  readonly kind: 'ServiceEntry' | 'Service';
  readonly namespace: string;
  /**
   * Whether this host is the service's first host. Sidecar listeners are per address, so only the
   * first host of a service gets sidecar patches; the others get a route table only.
   */
  readonly primary: boolean;
  /** Virtual IPs (outbound listeners are named `<ip>_<port>`); empty means no outbound patch. */
  readonly addresses: readonly string[];
  /** Labels of the service's own workloads, when known (needed for the inbound patch). */
  readonly selector?: Readonly<Record<string, string>>;
}

export interface HostPortModel {
  /** The service port: what clients dial; part of listener, cluster and route-table names. */
  readonly number: number;
  readonly name: string;
  /** The workload port, when known (a named container port leaves it unknown). */
  readonly targetPort?: number;
  readonly protocol: ProtocolModel;
  readonly owner: PortOwner;
}

/**
 * A MetaRouter as the later stages see it: valid, chosen, and with every host it names (spec.hosts,
 * destinations, mirrors) already resolved to the service host it means.
 */
export interface RouterModel {
  /** `MetaRouter ns/name`. */
  readonly ref: string;
  readonly namespace: string;
  readonly spec: MetaRouterSpec;
}

/** A DestinationRule that applies to a host (precedence already decided). */
export interface DestinationRuleModel {
  readonly ref: string;
  readonly spec: DestinationRuleSpec;
}

export interface HostModel {
  readonly host: string;
  /** MetaProtocol ports of the host, by number; each has one owner. */
  readonly ports: readonly HostPortModel[];
  /** The MetaRouter that applies to sidecars for this host, if any. */
  readonly router?: RouterModel;
  /** The DestinationRule of this host and of every host the router routes or mirrors to, by host. */
  readonly destinationRules: Readonly<Record<string, DestinationRuleModel>>;
  /** What resolution found (conflicts, duplicate ports, MetaRouters without a service). */
  readonly diagnostics: readonly Diagnostic[];
}

/** One gateway port carrying one MetaRouter's routes. */
export interface GatewayListenerModel {
  readonly gateway: { readonly namespace: string; readonly name: string; readonly selector: Readonly<Record<string, string>> };
  readonly port: number;
  readonly protocol: ProtocolModel;
  /** The service host the router is for. */
  readonly host: string;
  /** Where a destination without a port goes: the service's MetaProtocol port if it has one, else the gateway port. */
  readonly defaultPort: number;
  readonly router: RouterModel;
  readonly destinationRules: Readonly<Record<string, DestinationRuleModel>>;
}

export interface GatewayModel {
  readonly listeners: readonly GatewayListenerModel[];
  readonly diagnostics: readonly Diagnostic[];
}
