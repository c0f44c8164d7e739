/**
 * The catalog's plain-data models: what the outage policy keeps per registry between calls
 * (`CatalogState`), the registry-neutral services it publishes (`Catalog`), the decisions it took
 * and its options. Everything round-trips through YAML, so golden cases and /debug can show it.
 */
import type { RegistryInstance, RegistryService, RegistryState } from '../model/registry.js';

export interface CatalogOptions {
  /** How long an instance or service must be absent from a synced registry before it is removed. */
  readonly removalGraceMs: number;
  /**
   * The largest fraction (0 to 1) of a service's usable instances, or of a registry's services,
   * that one step may remove; a larger loss is refused and the previous set kept.
   */
  readonly protectionThreshold: number;
  /** How long a refused loss is held back; a loss still there after it is taken as intended. */
  readonly protectionHoldMs: number;
}

export const DEFAULT_CATALOG_OPTIONS: CatalogOptions = {
  removalGraceMs: 30_000,
  protectionThreshold: 0.5,
  protectionHoldMs: 300_000,
};

/** An instance as the policy keeps it: absent since when (milliseconds), if it is missing now. */
export interface KeptInstance extends RegistryInstance {
  readonly absentSinceMs?: number;
}

/** A service as the policy keeps it, with its absence and protection clocks. */
export interface KeptService extends Omit<RegistryService, 'instances'> {
  readonly instances: readonly KeptInstance[];
  readonly absentSinceMs?: number;
  /** Set while a loss of most of its usable instances is being refused. */
  readonly protectedSinceMs?: number;
}

/** What the catalog knows of one registry: its last-known services, sorted by key. */
export interface KeptRegistry {
  readonly registry: string;
  /** The state reported at the last step. */
  readonly state: RegistryState;
  /** Set while a loss of most of its services is being refused. */
  readonly protectedSinceMs?: number;
  readonly services: readonly KeptService[];
}

/** The input of the next step: one entry per registry ever seen and still configured, sorted. */
export interface CatalogState {
  readonly registries: readonly KeptRegistry[];
}

export const EMPTY_CATALOG_STATE: CatalogState = { registries: [] };

/** One instance of a catalog service, with the registry it came from. */
export interface CatalogInstance extends RegistryInstance {
  readonly registry: string;
}

/** A registry-neutral service: one host, one protocol, the instances of every registry that has it. */
export interface CatalogService {
  readonly host: string;
  readonly protocol: string;
  readonly interface?: string;
  readonly group?: string;
  readonly version?: string;
  readonly application?: string;
  readonly namespace?: string;
  /** The registries whose instances were merged, the one that defines the fields above first. */
  readonly registries: readonly string[];
  /** Sorted by address, then port. */
  readonly instances: readonly CatalogInstance[];
}

/** Sorted by host. */
export interface Catalog {
  readonly services: readonly CatalogService[];
}

/** What the policy did that a plain copy of the registries would not have done. */
export type DecisionKind =
  | 'registry-unavailable'
  | 'removal-pending'
  | 'removed'
  | 'protection-triggered'
  | 'protection-held'
  | 'protection-released';

export interface Decision {
  readonly kind: DecisionKind;
  readonly registry: string;
  /** The service key, for service-level decisions. */
  readonly service?: string;
  /** The instances (`address:port`) or services (keys) concerned, sorted. */
  readonly items?: readonly string[];
  /** When the decision will be reconsidered at the latest (grace or hold end), if it is a wait. */
  readonly untilMs?: number;
  /**
   * For a protection that is triggered or held, the numbers it compared: usable instances of the
   * service (service level) or services of the registry (registry level), before the step and what
   * the step would have left.
   */
  readonly before?: number;
  readonly after?: number;
}
