/** Questions the explain stage asks of a PipelineState. Pure; linear scans (one query at a time). */
import type { GatewayListenerModel } from '../model/host.js';
import type { DestinationRuleView, HostView, PipelineState, RouterView, ServiceView } from '../model/pipeline-state.js';
import { gatewayRouteConfigName } from '../route/clusters.js';

export function hostView(state: PipelineState, host: string): HostView | undefined {
  return state.hosts.find((h) => h.model.host === host);
}

/** Every ServiceEntry or Service that lists `host`, MetaProtocol or not. */
export function servicesOf(state: PipelineState, host: string): ServiceView[] {
  return state.services.filter((s) => s.hosts.includes(host));
}

/** Every MetaRouter whose spec.hosts means `host`, valid or not. */
export function routersOf(state: PipelineState, host: string): RouterView[] {
  return state.routers.filter((r) => r.host === host);
}

export function rulesOf(state: PipelineState, host: string): DestinationRuleView[] {
  return state.destinationRules.filter((r) => r.host === host);
}

export function gatewayListenersOf(state: PipelineState, host: string): GatewayListenerModel[] {
  return state.gateway.model.listeners.filter((l) => l.host === host);
}

export function listenerTable(l: GatewayListenerModel): string {
  return gatewayRouteConfigName(l.gateway.namespace, l.gateway.name, l.host, l.port);
}

/** Hosts that some MetaProtocol service defines. */
export function metaHosts(state: PipelineState): string[] {
  return [...new Set(state.services.flatMap((s) => s.meta?.hosts ?? []))].sort();
}

/** Every host metamesh knows a name for: services (MetaProtocol or not) and MetaRouter hosts. */
export function knownHosts(state: PipelineState): string[] {
  const all = new Set<string>();
  for (const s of state.services) for (const h of s.hosts) all.add(h);
  for (const r of state.routers) if (r.host) all.add(r.host);
  return [...all].sort();
}

/** Why `winner` takes precedence over `other` (src/resolve/precedence.ts: older, then by name). */
export function precedenceReason(winner: { creationTimestamp: string; ref: string }, other: { creationTimestamp: string; ref: string }): string {
  if (winner.creationTimestamp !== other.creationTimestamp) {
    const when = (t: string) => (t === '' ? 'has no creation time, which counts as oldest' : `was created ${t}`);
    return `is older (it ${when(winner.creationTimestamp)}; ${other.ref} ${when(other.creationTimestamp)})`;
  }
  return `is as old and comes first by namespace/name`;
}
