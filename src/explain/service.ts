/**
 * The "service" facts of a host: which ServiceEntries or Services define it, which of its ports
 * are MetaProtocol and why (the detection rule that fired), who owns each port, and its address.
 * Pure.
 */
import type { Fact } from '../model/explanation.js';
import type { HostView, ServiceView } from '../model/pipeline-state.js';
import { count, list, ordinal } from './words.js';

export function serviceFacts(host: string, services: readonly ServiceView[], view: HostView | undefined): Fact[] {
  const facts: Fact[] = [];
  const fact = (sentence: string, object?: string) => facts.push({ section: 'service', ...(object ? { object } : {}), sentence });
  for (const s of services) {
    if (!s.meta) {
      fact(`${s.ref} defines ${host}, but none of its ports is a MetaProtocol port, so metamesh configures nothing for it from there: ${portsWords(s)}. Name a port tcp-metaprotocol-<protocol> (for example tcp-metaprotocol-dubbo)${s.kind === 'Service' ? ' or set its appProtocol to metaprotocol.aeraki.io/<protocol>' : ''}.`, s.ref);
      continue;
    }
    const i = s.meta.hosts.indexOf(host);
    const position =
      s.meta.hosts.length === 1 ? '' : i === 0 ? ` (the first of its ${count(s.meta.hosts.length, 'host')}, so the one that gets sidecar patches)` : ` as its ${ordinal(i + 1)} host; only its first host, ${s.meta.hosts[0]}, gets sidecar patches, so this one gets route tables only`;
    fact(`${s.ref} defines ${host}${position}.`, s.ref);
  }
  const ports = view?.model.ports ?? [];
  for (const p of ports) {
    const meta = services.find((s) => s.ref === p.owner.ref)?.meta;
    const reason = meta?.ports.find((mp) => mp.number === p.number)?.reason ?? `protocol ${p.protocol.name}`;
    const target = p.targetPort !== undefined && p.targetPort !== p.number ? `; its workloads receive it on port ${p.targetPort}` : '';
    fact(`Port ${p.number} ("${p.name}" of ${p.owner.ref}) speaks ${p.protocol.name}, detected from the ${reason}${target}.`, p.owner.ref);
    for (const s of services) {
      if (s.ref === p.owner.ref || !s.meta?.ports.some((mp) => mp.number === p.number)) continue;
      fact(`${s.ref} also defines ${host} port ${p.number}, but ${p.owner.ref} is older (or first by namespace/name) and owns it; that definition is ignored.`, s.ref);
    }
  }
  const owners = [...new Map(ports.map((p) => [p.owner.ref, p.owner])).values()];
  for (const o of owners) {
    const allocated = services.find((s) => s.ref === o.ref)?.allocatedAddress;
    const portList = ports.filter((p) => p.owner.ref === o.ref).map((p) => p.number);
    if (!o.primary) {
      const first = services.find((s) => s.ref === o.ref)?.meta?.hosts[0] ?? 'its first host';
      fact(`${o.ref} is reached at ${o.addresses.length > 0 ? list(o.addresses) : 'no address'}, but the sidecar listener${o.addresses.length > 0 ? ` ${listenerNames(o.addresses, portList)}` : ''} carries the route table of ${first}, its first host: ${host}'s own route tables are served, yet no sidecar uses them.`, o.ref);
    } else if (o.addresses.length === 0) {
      fact(`${o.ref} has no address, so sidecars have no outbound listener for ${host} to patch (clients calling it are not routed by metamesh); its route tables are still served.`, o.ref);
    } else if (allocated) {
      fact(`${o.ref} has no spec.addresses, so metamesh gave it the virtual IP ${allocated}; apply the ServiceEntry that \`metamesh generate -o manifests\` prints so that Istio uses it. Sidecars intercept ${listenerNames(o.addresses, portList)}.`, o.ref);
    } else {
      fact(`Clients reach ${host} at ${list(o.addresses)}; sidecars intercept ${listenerNames(o.addresses, portList)}.`, o.ref);
    }
  }
  return facts;
}

function listenerNames(addresses: readonly string[], ports: readonly number[]): string {
  return list(addresses.flatMap((a) => ports.map((p) => `${a}_${p}`)));
}

function portsWords(s: ServiceView): string {
  if (s.ports.length === 0) return 'it has no ports';
  return s.ports
    .map((p) => `port ${p.number} is named "${p.name}"${p.appProtocol ? ` with appProtocol "${p.appProtocol}"` : ''}`)
    .join(', ');
}
