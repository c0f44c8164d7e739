/**
 * What a service registry holds, in a registry-neutral form: the seam between the registry adapters
 * (src/registry/<kind>/: a watcher, effectful, and a parser, pure) and the catalog (src/catalog/,
 * pure), which merges every registry's snapshot into the services metamesh generates
 * ServiceEntries for. Plain data: snapshots round-trip through YAML as golden fixtures.
 */
import type { Diagnostic } from './diagnostics.js';

/** One address of a service, as registered. */
export interface RegistryInstance {
  /** IP address (or host name) the provider listens on. */
  readonly address: string;
  readonly port: number;
  /** Labels for subsets and selection: version, group, application, zone… (sanitized later). */
  readonly labels: Readonly<Record<string, string>>;
  /** Load-balancing weight (Dubbo default 100); 0 takes the instance out of rotation. */
  readonly weight: number;
  /** False for an instance the registry reports unhealthy (Nacos `healthy: false`). */
  readonly healthy: boolean;
  /** False for an instance disabled by the registry or an override (Nacos `enabled`, Dubbo `disabled=true`). */
  readonly enabled: boolean;
}

/** One service of one registry: an interface (Dubbo), an application (Dubbo 3), a ServerSet (Thrift). */
export interface RegistryService {
  /** Unique within its registry and stable across reads, e.g. `dubbo:demo.GreetingService:g1:1.0.0`. */
  readonly key: string;
  /** The MetaProtocol application protocol (a protocols/ entry): `dubbo`, `thrift`, … */
  readonly protocol: string;
  /** The service host metamesh gives it (lower case, DNS-safe; dubbo2istio's naming for Dubbo). */
  readonly host: string;
  /** What it is, for labels, annotations and messages. */
  readonly interface?: string;
  readonly group?: string;
  readonly version?: string;
  readonly application?: string;
  /** The namespace the registry asks for (`aeraki_meta_app_namespace`), if any. */
  readonly namespace?: string;
  readonly instances: readonly RegistryInstance[];
}

/** Everything one registry holds at one moment. */
export interface RegistrySnapshot {
  /** The registry, as configured: `zookeeper://127.0.0.1:2181/dubbo`, `nacos://…`. */
  readonly registry: string;
  readonly services: readonly RegistryService[];
  /** Records that could not be read (bad URL encoding, malformed JSON…): one each, never a throw. */
  readonly diagnostics: readonly Diagnostic[];
}

/** How a registry's connection stands; the catalog's outage policy acts on it. */
export type RegistryState = 'connecting' | 'synced' | 'disconnected' | 'expired' | 'failing';

export interface RegistryStatus {
  readonly registry: string;
  readonly state: RegistryState;
  /** Milliseconds since the epoch of the last complete, successful read, if any. */
  readonly lastSyncMs?: number;
  readonly error?: string;
}

/**
 * A ZooKeeper subtree as read: node path → data (UTF-8). Children are the paths one level below.
 * The ZooKeeper watcher produces it; the pure parsers read it, so parsing is tested without a server.
 */
export type ZkTree = ReadonlyMap<string, string>;
