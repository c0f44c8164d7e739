/**
 * Typed models of the Kubernetes and Istio resources metamesh reads. They keep the YAML shape
 * (camelCase field names) so golden inputs are plain manifests. Only fields metamesh uses are
 * modelled; src/input checks types and reports the rest.
 */

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** RFC 3339; used to pick the oldest of conflicting resources, as Istio does. */
  creationTimestamp?: string;
  generation?: number;
}

export interface Resource<K extends string, S> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
}

// --- networking.istio.io ------------------------------------------------------------------------

export interface ServicePort {
  number: number;
  name: string;
  protocol?: string;
  targetPort?: number;
}

export interface WorkloadEntrySpec {
  address?: string;
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  network?: string;
  locality?: string;
  weight?: number;
  serviceAccount?: string;
}

export interface ServiceEntrySpec {
  hosts: string[];
  addresses?: string[];
  ports?: ServicePort[];
  location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  resolution?: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  endpoints?: WorkloadEntrySpec[];
  workloadSelector?: { labels?: Record<string, string> };
  exportTo?: string[];
  subjectAltNames?: string[];
}
/** One address Istio allocated to a ServiceEntry without spec.addresses (Istio 1.23+, `status.addresses`). */
export interface ServiceEntryAddress {
  value: string;
  /** The host it was allocated for (one per host); absent in older Istio versions. */
  host?: string;
}
/** What metamesh reads of a ServiceEntry's status (written by istiod, read from the live object). */
export interface ServiceEntryStatus {
  addresses?: ServiceEntryAddress[];
}
export type ServiceEntry = Resource<'ServiceEntry', ServiceEntrySpec> & { status?: ServiceEntryStatus };

export interface ConsistentHash {
  httpHeaderName?: string;
  [other: string]: unknown;
}
export interface TrafficPolicy {
  loadBalancer?: { consistentHash?: ConsistentHash; [other: string]: unknown };
  [other: string]: unknown;
}
export interface Subset {
  name: string;
  labels?: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}
export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
  exportTo?: string[];
}
export type DestinationRule = Resource<'DestinationRule', DestinationRuleSpec>;

export interface GatewayServer {
  port: { number: number; name: string; protocol: string; targetPort?: number };
  hosts: string[];
  bind?: string;
  name?: string;
}
export interface GatewaySpec {
  selector?: Record<string, string>;
  servers: GatewayServer[];
}
export type Gateway = Resource<'Gateway', GatewaySpec>;

// --- core/v1 Service -----------------------------------------------------------------------------

export interface KubeServicePort {
  name?: string;
  port: number;
  /** A number, or the name of a container port. */
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}
export interface KubeServiceSpec {
  ports?: KubeServicePort[];
  selector?: Record<string, string>;
  clusterIP?: string;
  clusterIPs?: string[];
  type?: string;
}
export type KubeService = Resource<'Service', KubeServiceSpec>;

// --- metaprotocol.aeraki.io ----------------------------------------------------------------------

export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}
export interface MetaRouteMatch {
  attributes?: Record<string, StringMatch | null>;
}
export interface Destination {
  host: string;
  subset?: string;
  port?: { number?: number };
}
export interface MetaRouteDestination {
  destination: Destination;
  weight?: number;
}
export interface KeyValue {
  key: string;
  value: string;
}
export interface MetaRoute {
  name?: string;
  match?: MetaRouteMatch;
  route?: MetaRouteDestination[];
  mirror?: Destination;
  mirrorPercentage?: { value?: number };
  requestMutation?: KeyValue[];
  responseMutation?: KeyValue[];
}
export interface TokenBucket {
  maxTokens?: number;
  tokensPerFill?: number | null;
  fillInterval?: string;
}
export interface LocalRateLimit {
  tokenBucket?: TokenBucket;
  conditions?: { match?: MetaRouteMatch; tokenBucket?: TokenBucket }[];
}
export interface GlobalRateLimit {
  match?: MetaRouteMatch;
  domain?: string;
  requestTimeout?: string;
  denyOnFail?: boolean;
  rateLimitService?: string;
  descriptors?: { property?: string; descriptorKey?: string }[];
}
export interface MetaRouterSpec {
  hosts?: string[];
  gateways?: string[];
  routes?: MetaRoute[];
  localRateLimit?: LocalRateLimit;
  globalRateLimit?: GlobalRateLimit;
  exportTo?: string[];
}
export type MetaRouter = Resource<'MetaRouter', MetaRouterSpec>;

export interface ApplicationProtocolSpec {
  protocol?: string;
  codec?: string;
}
export type ApplicationProtocol = Resource<'ApplicationProtocol', ApplicationProtocolSpec>;
