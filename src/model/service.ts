/**
 * The registry-neutral view of a service that the detect stage produces from ServiceEntries and
 * Kubernetes Services, and the later stages consume.
 */

/** One MetaProtocol port of a service, with the reason metamesh treats it as such. */
export interface MetaPort {
  /** The service port (what clients dial; part of the listener and cluster names). */
  readonly number: number;
  readonly name: string;
  /** The workload port (the inbound listener's filter chain), if known. */
  readonly targetPort: number | undefined;
  readonly protocol: string;
  readonly codec: string;
  /** Human-readable: why this port is MetaProtocol (port name, appProtocol, ApplicationProtocol). */
  readonly reason: string;
}

export interface MetaService {
  /** `ServiceEntry ns/name` or `Service ns/name`. */
  readonly ref: string;
  readonly kind: 'ServiceEntry' | 'Service';
  readonly namespace: string;
  readonly name: string;
  /** FQDNs, lowercase, in the resource's order. `hosts[0]` is the primary host. */
  readonly hosts: readonly string[];
  /** Virtual IPs of the service (outbound listeners are named `<ip>_<port>`). */
  readonly addresses: readonly string[];
  readonly ports: readonly MetaPort[];
  /** Labels selecting the service's own workloads (for inbound patches), if derivable. */
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly creationTimestamp: string;
}
