/**
 * ServiceEntry validation with Istio's own rules: what the Kubernetes API server refuses (the CRD
 * schema and its CEL rules) and what istiod's ValidateServiceEntry refuses. A ServiceEntry with an
 * error here does not exist in a real cluster (the API server answers 422, istiod drops it), so
 * the input stage treats it as absent. Warnings mirror what istiod accepts but warns about.
 *
 * Pure and context-free: it needs only the resource itself.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { ServiceEntry, WorkloadEntrySpec } from '../model/resources.js';
import { isIstioLabel, istioFqdnProblem, istioWildcardDomainProblem } from '../util/hosts.js';
import { isCidr, isIpAddress } from '../util/ip.js';
import { exportToProblems } from './export-to.js';
import { labelProblems, selectorProblems } from './labels.js';
import { metadataProblems } from './metadata.js';

/** Appended to every error: what happens to the object. */
export const SERVICEENTRY_DROPPED = 'Istio rejects such a ServiceEntry, so metamesh treats it as absent and generates nothing for it.';

/** Port protocols istiod knows (case-insensitive); an empty protocol means "sniff". */
const PROTOCOLS = new Set(['tcp', 'udp', 'grpc', 'grpc-web', 'http', 'http_proxy', 'http2', 'https', 'tls', 'mongo', 'redis', 'mysql']);
/** Protocols whose requests name their host (HTTP authority or TLS SNI). */
const HOST_AWARE = new Set(['grpc', 'grpc-web', 'http', 'http_proxy', 'http2', 'https', 'tls']);
const UNIX = 'unix://';

/** CRD limits on list sizes. */
const MAX_HOSTS = 256;
const MAX_ADDRESSES = 256;
const MAX_PORTS = 256;
const MAX_ENDPOINTS = 4096;

type Report = (field: string, text: string) => void;

export function validateServiceEntry(se: ServiceEntry): Diagnostic[] {
  const ref = { kind: 'ServiceEntry', namespace: se.metadata.namespace, name: se.metadata.name };
  const out: Diagnostic[] = [];
  const error: Report = (field, text) => out.push(diag('MM_SERVICEENTRY_INVALID', ref, `${field} ${text}. ${SERVICEENTRY_DROPPED}`));
  const warn: Report = (field, text) => out.push(diag('MM_SERVICEENTRY_WARNING', ref, `${field} ${text}.`));
  const spec = se.spec;
  const resolution = spec.resolution ?? 'NONE';

  for (const p of metadataProblems(se.metadata)) error(p.field, p.text);
  checkHosts(spec.hosts ?? [], resolution, spec.endpoints, error, warn);
  checkAddresses(spec.addresses ?? [], resolution, error);
  const portNames = checkPorts(se, error);

  if (spec.workloadSelector !== undefined && spec.endpoints !== undefined) {
    error('spec.workloadSelector', 'and spec.endpoints are both set; Istio allows only one of them. Keep the endpoints and give the inbound selector in the "workloadSelector" annotation instead, or drop the endpoints');
  }
  if (spec.workloadSelector !== undefined) {
    const labels = spec.workloadSelector.labels ?? {};
    for (const p of selectorProblems(labels)) error('spec.workloadSelector.labels', p);
    if (Object.keys(labels).length === 0) {
      warn('spec.workloadSelector', 'has no labels, so istiod applies the ServiceEntry to every workload of its namespace; add the labels of the service\'s pods');
    }
    if (resolution === 'NONE' || resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') {
      warn('spec.workloadSelector', `is set with resolution ${resolution}; istiod warns that a workload selector belongs with resolution STATIC. Use STATIC to select workloads, or remove the selector`);
    }
  }

  const endpoints = spec.endpoints ?? [];
  if (endpoints.length > MAX_ENDPOINTS) error('spec.endpoints', `has ${endpoints.length} entries; Istio allows at most ${MAX_ENDPOINTS}. Split the service`);
  if (resolution === 'NONE' && spec.endpoints !== undefined) {
    error('spec.endpoints', 'is set (even an empty list counts) but resolution is NONE (the default), which takes no endpoints; set resolution STATIC or DNS, or remove the endpoints');
  }
  if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) {
    error('spec.endpoints', `has ${endpoints.length} entries but resolution DNS_ROUND_ROBIN allows at most one; use resolution DNS for several endpoints`);
  }
  endpoints.forEach((ep, i) => checkEndpoint(ep, `spec.endpoints[${i}]`, resolution, portNames, error, warn));

  const hosts = spec.hosts ?? [];
  if (resolution !== 'NONE' && hosts.length > 1) {
    const tcp = (spec.ports ?? []).find((p) => !HOST_AWARE.has((p.protocol ?? '').toLowerCase()));
    if (tcp) {
      error('spec.hosts', `lists ${hosts.length} hosts with resolution ${resolution} and the non-HTTP, non-TLS port ${tcp.number} (${tcp.name}); plain TCP cannot tell the hosts apart, so Istio requires one host. Write one ServiceEntry per host`);
    }
  }
  for (const p of exportToProblems(spec.exportTo ?? [], se.metadata.namespace, true)) {
    error('spec.exportTo', `${p}; use ".", "*", "~" alone, or namespace names`);
  }
  (spec.subjectAltNames ?? []).forEach((san, i) => {
    if (san === '') warn(`spec.subjectAltNames[${i}]`, 'is empty and matches no certificate; remove it');
  });
  return out;
}

function checkHosts(hosts: readonly string[], resolution: string, endpoints: readonly WorkloadEntrySpec[] | undefined, error: Report, warn: Report): void {
  if (hosts.length === 0) error('spec.hosts', 'is empty; Istio requires at least one host. Add the service\'s host name');
  if (hosts.length > MAX_HOSTS) error('spec.hosts', `has ${hosts.length} entries; Istio allows at most ${MAX_HOSTS}`);
  hosts.forEach((h, i) => {
    const field = `spec.hosts[${i}]`;
    if (h === '*') {
      error(field, 'is "*"; a ServiceEntry cannot stand for every host. Name the service\'s host');
      return;
    }
    const problem = istioWildcardDomainProblem(h);
    if (problem) {
      error(field, `${JSON.stringify(h)} is not a host Istio accepts: ${problem}. Use a DNS name (foo.example.com), a short name (foo) or a wildcard (*.example.com)`);
      return;
    }
    if (h.includes('*') && !h.startsWith('*.')) warn(field, `${JSON.stringify(h)} is a partial wildcard, which istiod warns about; use a whole first label ("*.example.com")`);
    if ((resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && (endpoints ?? []).length === 0 && istioFqdnProblem(h)) {
      error(field, `${JSON.stringify(h)} must be a DNS name without wildcard: with resolution ${resolution} and no endpoints, the host itself is resolved. Name a real host or add endpoints`);
    }
  });
}

function checkAddresses(addresses: readonly string[], resolution: string, error: Report): void {
  if (addresses.length > MAX_ADDRESSES) error('spec.addresses', `has ${addresses.length} entries; Istio allows at most ${MAX_ADDRESSES}`);
  let cidr = false;
  addresses.forEach((a, i) => {
    const isBlock = a.split('/').length === 2;
    cidr ||= a.includes('/');
    if (a.length > 64 || !(isBlock ? isCidr(a) : isIpAddress(a))) {
      error(`spec.addresses[${i}]`, `${JSON.stringify(a)} is not ${isBlock ? 'a CIDR block' : 'an IP address'}; Istio requires IP addresses or CIDR blocks (10.0.0.1, 10.0.0.0/24, 2001:db8::/64), not host names`);
    }
  });
  if (cidr && resolution !== 'NONE' && resolution !== 'STATIC') {
    error('spec.addresses', `has a CIDR block but resolution is ${resolution}; Istio allows CIDR addresses only with resolution NONE or STATIC. Use single IPs or change the resolution`);
  }
}

/** Checks the ports; returns the set of port names (endpoint `ports` must refer to them). */
function checkPorts(se: ServiceEntry, error: Report): Set<string> {
  const ports = se.spec.ports ?? [];
  const names = new Set<string>();
  const numbers = new Set<number>();
  if (ports.length > MAX_PORTS) error('spec.ports', `has ${ports.length} entries; Istio allows at most ${MAX_PORTS}`);
  ports.forEach((p, i) => {
    const field = `spec.ports[${i}]`;
    if (p.name === undefined || p.name === '') {
      error(`${field}.name`, 'is missing; Istio requires every port to have a name. Name it, e.g. tcp-metaprotocol-dubbo');
    } else if (!isIstioLabel(p.name)) {
      error(`${field}.name`, `${JSON.stringify(p.name)} is not a DNS label (letters, digits and inner hyphens, at most 63); rename the port`);
    } else if (names.has(p.name)) {
      error(`${field}.name`, `${JSON.stringify(p.name)} is used by an earlier port; Istio requires unique port names. Rename one of them`);
    }
    if (p.name) names.add(p.name);
    if (!Number.isInteger(p.number) || p.number < 1 || p.number > 65535) {
      error(`${field}.number`, `${p.number} is not a port number; Istio requires 1 to 65535`);
    } else if (numbers.has(p.number)) {
      error(`${field}.number`, `${p.number} is used by an earlier port; Istio requires unique port numbers. Remove or renumber one of them`);
    }
    numbers.add(p.number);
    if (p.protocol !== undefined && p.protocol !== '' && !PROTOCOLS.has(p.protocol.toLowerCase())) {
      error(`${field}.protocol`, `${JSON.stringify(p.protocol)} is not a protocol Istio knows; use TCP for MetaProtocol ports (or HTTP, HTTP2, HTTPS, GRPC, GRPC-Web, TLS, UDP, Mongo, Redis, MySQL)`);
    }
    if (p.targetPort !== undefined && p.targetPort !== 0) {
      if (!Number.isInteger(p.targetPort) || p.targetPort < 1 || p.targetPort > 65535) {
        error(`${field}.targetPort`, `${p.targetPort} is not a port number; Istio requires 1 to 65535`);
      }
    }
  });
  return names;
}

function checkEndpoint(ep: WorkloadEntrySpec, field: string, resolution: string, portNames: ReadonlySet<string>, error: Report, warn: Report): void {
  const address = ep.address ?? '';
  const unix = address.startsWith(UNIX);
  if (address === '' && (ep.network ?? '') === '') {
    error(`${field}.address`, 'is missing; Istio requires an address (or a network for a remote gateway). Add the endpoint\'s IP');
  } else if (address.length > 256) {
    error(`${field}.address`, `is ${address.length} characters long; Istio allows at most 256`);
  } else if (unix && resolution !== 'STATIC') {
    error(`${field}.address`, `${JSON.stringify(address)} is a Unix socket, which Istio allows only with resolution STATIC`);
  } else if (unix) {
    const path = address.slice(UNIX.length);
    if (!(path.startsWith('/') || path.startsWith('@')) || path.endsWith('/')) {
      error(`${field}.address`, `${JSON.stringify(address)} is not a Unix socket Istio accepts: after unix:// comes an absolute path to a file or an abstract socket (@name)`);
    }
    if (ep.ports !== undefined) error(`${field}.ports`, 'is set on a Unix socket endpoint, which takes no ports; remove it');
    if (portNames.size !== 1) {
      error(`${field}.address`, `is a Unix socket, which Istio allows only when the ServiceEntry has exactly one port (it has ${portNames.size})`);
    }
  } else if (address === '') {
    if (resolution === 'STATIC') warn(`${field}.address`, `is not set, only network ${JSON.stringify(ep.network)}; istiod warns about such endpoints`);
    else if (resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') error(`${field}.address`, `is missing; with resolution ${resolution} every endpoint needs an IP address or a host name`);
  } else if (resolution === 'STATIC' && !isIpAddress(address)) {
    error(`${field}.address`, `${JSON.stringify(address)} is not an IP address; with resolution STATIC Istio requires IPs (or unix:// sockets). Use the IP, or resolution DNS for host names`);
  } else if ((resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && !isIpAddress(address) && istioFqdnProblem(address)) {
    error(`${field}.address`, `${JSON.stringify(address)} is neither an IP address nor a DNS name: ${istioFqdnProblem(address)}`);
  }
  for (const [name, port] of Object.entries(ep.ports ?? {})) {
    if (name.length >= 63 || !/^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/.test(name)) {
      error(`${field}.ports`, `has the key ${JSON.stringify(name)}, which is not a port name (a DNS label shorter than 63 characters)`);
    } else if (resolution !== 'NONE' && !portNames.has(name)) {
      error(`${field}.ports`, `has the key ${JSON.stringify(name)}, but spec.ports has no port of that name; the keys must be names of spec.ports (${[...portNames].join(', ') || 'none'})`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) error(`${field}.ports.${name}`, `${port} is not a port number; Istio requires 1 to 65535`);
  }
  if (resolution !== 'NONE') {
    for (const p of labelProblems(ep.labels ?? {})) error(`${field}.labels`, `${p}; fix the label`);
  }
}
