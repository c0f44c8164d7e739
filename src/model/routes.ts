/**
 * The MetaProtocol route model (the data plane's
 * `aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration`), as the route stage computes
 * it, before it is tunnelled into Envoy's HTTP RouteConfiguration for RDS (src/route/wire.ts).
 */

/** One metadata matcher; exactly one of exact/prefix/regex/present is set. */
export interface AttributeMatch {
  readonly name: string;
  readonly exact?: string;
  readonly prefix?: string;
  readonly regex?: string;
  readonly present?: true;
}

export interface ClusterWeight {
  readonly name: string;
  readonly weight: number;
}

export interface Mirror {
  readonly cluster: string;
  /** Fraction of requests, per million. */
  readonly perMillion: number;
}

export interface MetaProtocolRoute {
  readonly name: string;
  /** AND-ed; sorted by attribute name; empty = every request. */
  readonly match: readonly AttributeMatch[];
  /** Exactly one of `cluster` and `weightedClusters`. */
  readonly cluster?: string;
  readonly weightedClusters?: readonly ClusterWeight[];
  /** Metadata keys hashed for consistent-hash load balancing. */
  readonly hashPolicy: readonly string[];
  readonly mirrors: readonly Mirror[];
  readonly requestMutation: readonly { key: string; value: string }[];
  readonly responseMutation: readonly { key: string; value: string }[];
}

export interface MetaProtocolRouteConfiguration {
  /** `<host>_<port>` for sidecars, as named in the outbound EnvoyFilter's RDS. */
  readonly name: string;
  readonly routes: readonly MetaProtocolRoute[];
}
