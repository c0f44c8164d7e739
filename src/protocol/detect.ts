/**
 * Detect stage: which ports of which services speak a MetaProtocol application protocol, with
 * which codec, and why. Pure; one service at a time, so one bad service never affects another.
 *
 * Rules, in order (the first that names a protocol wins):
 *  1. the port name `<anything>-metaprotocol-<protocol>[-<free text>]` (Aeraki's convention,
 *     case-insensitive; `tcp-metaprotocol` alone is an error, not a crash);
 *  2. a Kubernetes Service port's `appProtocol: metaprotocol.aeraki.io/<protocol>`.
 * The protocol → codec mapping comes from the protocol table (built-ins + ApplicationProtocols).
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { KubeService, ServiceEntry } from '../model/resources.js';
import type { MetaPort, MetaService } from '../model/service.js';
import { addressIp, isValidHost } from '../util/hosts.js';
import { protocolFromPortName } from './portname.js';
import { istioAddresses } from '../serviceentry/address.js';
import type { ProtocolTable } from './table.js';

export const APP_PROTOCOL_PREFIX = 'metaprotocol.aeraki.io/';
/** Aeraki's annotation carrying an inbound selector (`app` value, or `key:value`). */
export const WORKLOAD_SELECTOR_ANNOTATION = 'workloadSelector';

export interface Detected {
  service: MetaService | undefined;
  /**
   * The ServiceEntry needs a virtual IP from metamesh: it has MetaProtocol ports and no address,
   * neither in spec.addresses nor allocated by istiod in status.addresses.
   */
  needsVip: boolean;
  diagnostics: Diagnostic[];
}

interface PortInput {
  number: number;
  name: string;
  targetPort: number | string | undefined;
  appProtocol: string | undefined;
}

function detectPort(p: PortInput, ref: string, table: ProtocolTable, out: Diagnostic[]): MetaPort | undefined {
  const fromName = protocolFromPortName(p.name);
  const app = p.appProtocol?.toLowerCase();
  const fromApp = app?.startsWith(APP_PROTOCOL_PREFIX) ? app.slice(APP_PROTOCOL_PREFIX.length) : undefined;
  let protocol: string;
  let reason: string;
  if (fromName.kind === 'incomplete') {
    out.push(diag('MM_DETECT_INCOMPLETE_PORT_NAME', ref, `port ${p.number} is named "${p.name}", which names no application protocol; name it tcp-metaprotocol-<protocol> (for example tcp-metaprotocol-dubbo). The port was skipped.`));
    return undefined;
  } else if (fromName.kind === 'protocol') {
    protocol = fromName.protocol;
    reason = `port name "${p.name}"`;
    if (fromApp !== undefined && fromApp !== protocol) {
      out.push(diag('MM_DETECT_CONFLICT', ref, `port ${p.number}: the name "${p.name}" says ${protocol} but appProtocol says ${fromApp}; the port name wins. Make them agree.`));
    }
  } else if (fromApp !== undefined) {
    protocol = fromApp;
    reason = `appProtocol "${p.appProtocol}"`;
  } else {
    return undefined;
  }
  const d = table.get(protocol);
  if (!d) {
    const known = [...table.keys()].sort().join(', ');
    out.push(diag('MM_DETECT_UNKNOWN_PROTOCOL', ref, `port ${p.number} (${reason}) names application protocol "${protocol}", which is not known (known: ${known}). Fix the name or add an ApplicationProtocol for it. The port was skipped.`));
    return undefined;
  }
  const via = d.source === 'builtin' ? 'built-in' : d.source;
  return {
    number: p.number,
    name: p.name,
    targetPort: typeof p.targetPort === 'number' ? p.targetPort : p.targetPort === undefined ? p.number : undefined,
    protocol,
    codec: d.codec,
    reason: `${reason}; codec ${d.codec} (${via})`,
  };
}

export function detectServiceEntry(se: ServiceEntry, table: ProtocolTable): Detected {
  const diagnostics: Diagnostic[] = [];
  const { namespace, name } = se.metadata;
  const ref = `ServiceEntry ${namespace}/${name}`;
  const ports = (se.spec.ports ?? [])
    .map((p) => detectPort({ number: p.number, name: p.name ?? '', targetPort: p.targetPort, appProtocol: undefined }, ref, table, diagnostics))
    .filter((p): p is MetaPort => p !== undefined);
  if (ports.length === 0) return { service: undefined, needsVip: false, diagnostics };

  const hosts = hostsOf(se.spec.hosts ?? [], ref, diagnostics);
  if (hosts.length === 0) {
    diagnostics.push(diag('MM_SERVICE_NO_HOSTS', ref, 'has MetaProtocol ports but no usable hosts; add a host. Only this ServiceEntry was skipped.'));
    return { service: undefined, needsVip: false, diagnostics };
  }
  // A missing resolution is NONE, as in Istio (the enum's zero value).
  const resolution = se.spec.resolution ?? 'NONE';
  if (resolution === 'NONE') {
    diagnostics.push(diag('MM_SERVICE_RESOLUTION', ref, `has resolution NONE${se.spec.resolution === undefined ? ' (none is given, and NONE is the default)' : ''}: its clusters forward to the original destination, so subsets, weights and mirrors have no effect. Use STATIC or DNS.`));
  }
  let addresses = (se.spec.addresses ?? []).map(addressIp).filter((a) => a !== '');
  const istio = addresses.length === 0 ? istioAddresses(se) : [];
  if (istio.length > 0) {
    addresses = istio;
    diagnostics.push(diag('MM_SERVICE_ISTIO_ADDRESS', ref, `has no spec.addresses; istiod allocated ${istio.join(', ')} to ${se.spec.hosts[0]} (status.addresses), so the outbound patch uses that and metamesh allocates nothing.`));
  }
  return {
    service: {
      ref,
      kind: 'ServiceEntry',
      namespace,
      name,
      hosts,
      addresses,
      ports,
      selector: serviceEntrySelector(se, ref, diagnostics),
      creationTimestamp: se.metadata.creationTimestamp ?? '',
    },
    needsVip: addresses.length === 0 && resolution !== 'NONE',
    diagnostics,
  };
}

export function detectKubeService(svc: KubeService, table: ProtocolTable, domain: string): Detected {
  const diagnostics: Diagnostic[] = [];
  const { namespace, name } = svc.metadata;
  const ref = `Service ${namespace}/${name}`;
  const ports = (svc.spec.ports ?? [])
    .map((p) => detectPort({ number: p.port, name: p.name ?? '', targetPort: p.targetPort, appProtocol: p.appProtocol }, ref, table, diagnostics))
    .filter((p): p is MetaPort => p !== undefined);
  if (ports.length === 0) return { service: undefined, needsVip: false, diagnostics };
  const ips = svc.spec.clusterIPs ?? (svc.spec.clusterIP ? [svc.spec.clusterIP] : []);
  const addresses = ips.filter((ip) => ip !== '' && ip.toLowerCase() !== 'none');
  if (addresses.length === 0) {
    diagnostics.push(diag('MM_SERVICE_NO_ADDRESS', ref, 'has no cluster IP (headless, or not yet allocated), so clients have no outbound listener to patch; routes are still served.'));
  }
  const selector = svc.spec.selector && Object.keys(svc.spec.selector).length > 0 ? svc.spec.selector : undefined;
  return {
    service: {
      ref,
      kind: 'Service',
      namespace,
      name,
      hosts: [`${name}.${namespace}.svc.${domain}`],
      addresses,
      ports,
      selector,
      creationTimestamp: svc.metadata.creationTimestamp ?? '',
    },
    needsVip: false,
    diagnostics,
  };
}

/** Istio takes ServiceEntry hosts literally (a short name stays short); only case is folded. */
function hostsOf(raw: readonly string[], ref: string, out: Diagnostic[]): string[] {
  const hosts: string[] = [];
  for (const h of raw) {
    const fqdn = h.trim().toLowerCase();
    if (!isValidHost(fqdn)) {
      out.push(diag('MM_SERVICE_INVALID_HOST', ref, `host ${JSON.stringify(h)} is not a DNS name (wildcards cannot carry MetaProtocol routes); it was skipped.`));
      continue;
    }
    if (!hosts.includes(fqdn)) hosts.push(fqdn);
  }
  return hosts;
}

/**
 * The inbound selector of a ServiceEntry: `spec.workloadSelector.labels`, else Aeraki's
 * `workloadSelector` annotation (`v` → {app: v}, `k:v` → {k: v}). Never a selector with an empty
 * value: that would patch workloads that merely lack the label.
 */
function serviceEntrySelector(se: ServiceEntry, ref: string, out: Diagnostic[]): Record<string, string> | undefined {
  const labels = se.spec.workloadSelector?.labels;
  if (labels && Object.keys(labels).length > 0) {
    if (Object.values(labels).some((v) => v === '')) {
      out.push(diag('MM_INBOUND_BAD_SELECTOR', ref, 'spec.workloadSelector.labels has an empty value; no inbound patch was made. Give every label a value.'));
      return undefined;
    }
    return labels;
  }
  const annotation = se.metadata.annotations?.[WORKLOAD_SELECTOR_ANNOTATION];
  if (annotation === undefined) return undefined;
  const parts = annotation.replace(/\s+/g, '').split(':');
  const [a, b] = parts;
  if (parts.length === 1 && a) return { app: a };
  if (parts.length === 2 && a && b) return { [a]: b };
  out.push(diag('MM_INBOUND_BAD_SELECTOR', ref, `annotation ${WORKLOAD_SELECTOR_ANNOTATION}=${JSON.stringify(annotation)} must be "<app>" or "<label>:<value>"; no inbound patch was made.`));
  return undefined;
}
