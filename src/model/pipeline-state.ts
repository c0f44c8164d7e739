/**
 * Everything the engine decided, as one plain-data snapshot: what `metamesh explain` reads
 * (src/explain/). The engine produces it (Engine.state(), gathered by src/pipeline/state.ts) from
 * its resources, detection results, per-host and gateway outputs and diagnostics; nothing in it is
 * recomputed by the reader, so an explanation can only say what the pipeline really did.
 *
 * Lists are sorted by their `ref` (or host), so equal input gives an equal snapshot.
 */
import type { Diagnostic } from './diagnostics.js';
import type { DestinationRuleSpec, MetaRouterSpec } from './resources.js';
import type { GatewayModel, HostModel } from './host.js';
import type { OutputObject } from './output.js';
import type { MetaService } from './service.js';

/** A route table in RDS wire form (proto3 JSON of envoy.config.route.v3.RouteConfiguration). */
export type WireRouteTable = { readonly [k: string]: unknown };

export interface PortAsWritten {
  readonly number: number;
  readonly name: string;
  readonly appProtocol?: string;
}

/** A ServiceEntry or Service as read, and what detection made of it. */
export interface ServiceView {
  /** `ServiceEntry ns/name` or `Service ns/name`. */
  readonly ref: string;
  readonly kind: 'ServiceEntry' | 'Service';
  /** Its hosts, lowercase (a Service has one: `<name>.<namespace>.svc.<domain>`). */
  readonly hosts: readonly string[];
  /** Every port as written, MetaProtocol or not. */
  readonly ports: readonly PortAsWritten[];
  /** The MetaProtocol service detection made of it (allocated address included); absent if none. */
  readonly meta?: MetaService;
  /** The virtual IP metamesh gave it (a ServiceEntry without spec.addresses). */
  readonly allocatedAddress?: string;
}

/** What the engine computed for one host. */
export interface HostView {
  readonly model: HostModel;
  /** Its RDS tables as served, by name order. */
  readonly routes: readonly WireRouteTable[];
  readonly envoyFilters: readonly OutputObject[];
}

export interface GatewayView {
  readonly model: GatewayModel;
  readonly routes: readonly WireRouteTable[];
  readonly envoyFilters: readonly OutputObject[];
  readonly virtualServices: readonly OutputObject[];
}

/** A MetaRouter as read, valid or not. */
export interface RouterView {
  /** `MetaRouter ns/name`. */
  readonly ref: string;
  readonly namespace: string;
  readonly name: string;
  readonly creationTimestamp: string;
  /** Without errors (an invalid one is never applied: MM_ROUTER_NOT_APPLIED). */
  readonly valid: boolean;
  /** Whether it applies to sidecars: no spec.gateways, or `mesh` among them. */
  readonly mesh: boolean;
  /** The service host its single spec.hosts entry means (src/resolve/names.ts); absent without exactly one. */
  readonly host?: string;
  readonly spec: MetaRouterSpec;
}

export interface DestinationRuleView {
  /** `DestinationRule ns/name`. */
  readonly ref: string;
  /** Its spec.host, resolved in its namespace. */
  readonly host: string;
  readonly creationTimestamp: string;
  /** Whether it is the one that applies to its host (the oldest; MM_DESTINATIONRULE_CONFLICT otherwise). */
  readonly applies: boolean;
  readonly spec: DestinationRuleSpec;
}

export interface PipelineState {
  readonly domain: string;
  readonly rootNamespace: string;
  /** Labels of the sidecars that get outbound patches (`{}`: every sidecar). */
  readonly proxySelector: Readonly<Record<string, string>>;
  readonly services: readonly ServiceView[];
  /** Hosts for which the engine produced something (routes, patches or diagnostics). */
  readonly hosts: readonly HostView[];
  readonly gateway: GatewayView;
  readonly routers: readonly RouterView[];
  readonly destinationRules: readonly DestinationRuleView[];
  /** Every diagnostic, as `generate` prints them. */
  readonly diagnostics: readonly Diagnostic[];
}
