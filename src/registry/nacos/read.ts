/**
 * What the Nacos watcher read from one server, before any interpretation: the input of the pure
 * `parseNacos`. Hosts are kept as the raw JSON objects of `/nacos/v1/ns/instance/list` (real Nacos
 * and rnacos name some fields differently), so a golden file can hold exactly what a server
 * answered. Plain data: it round-trips through YAML.
 */

/** One Nacos service (namespace id + group + name) and the `hosts` its instance list returned. */
export interface NacosServiceRead {
  /** The namespace id (`public` is the default namespace). */
  readonly namespace: string;
  /** The Nacos group (`DEFAULT_GROUP` by default); not the Dubbo group. */
  readonly group: string;
  /** The service name without the `GROUP@@` prefix, e.g. `providers:demo.GreetingService:1.0.0:g1`. */
  readonly name: string;
  readonly hosts: readonly unknown[];
}

/** A Dubbo 3 service-name mapping: config dataId = interface, group `mapping`, content `app1,app2`. */
export interface NacosMappingRead {
  readonly namespace: string;
  readonly interface: string;
  readonly content: string;
}

export interface NacosRead {
  readonly services: readonly NacosServiceRead[];
  readonly mappings: readonly NacosMappingRead[];
  /** Services listed beyond the watcher's maxServices, left unread (MM_REGISTRY_TOO_MANY_SERVICES). */
  readonly unreadServices?: number;
}

export interface NacosParseOptions {
  /** The registry as configured (`nacos://127.0.0.1:8848?namespace=…`), copied to the snapshot. */
  readonly registry: string;
  /** Protocol names that have a MetaProtocol codec (the protocol table's names). */
  readonly protocols: readonly string[];
  /** Instances kept per service; more yield MM_REGISTRY_TOO_MANY. */
  readonly maxInstancesPerService: number;
}

export const DEFAULT_NAMESPACE = 'public';
export const DEFAULT_GROUP = 'DEFAULT_GROUP';
