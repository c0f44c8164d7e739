/**
 * Gathers the engine's state into the plain-data PipelineState (src/model/pipeline-state.ts) that
 * `metamesh explain` reads. Pure: it copies references to what the engine holds (never changes
 * them) and sorts every list, so the snapshot does not depend on the order of changes.
 */
import { cmp, type Diagnostic } from '../model/diagnostics.js';
import type { Options } from '../model/options.js';
import type * as R from '../model/resources.js';
import type { DestinationRuleView, HostView, PipelineState, RouterView, ServiceView } from '../model/pipeline-state.js';
import type { Detected } from '../protocol/detect.js';
import { appliesToMesh } from '../resolve/host.js';
import { serviceHost } from '../resolve/names.js';
import type { GatewayStageOutput } from './gateway.js';
import type { HostOutput } from './host.js';
import type { RouterState } from './routers.js';
import { byObjectKey } from './assemble.js';

export type { PipelineState };

export interface StateSources {
  readonly options: Options;
  readonly serviceEntries: ReadonlyMap<string, R.ServiceEntry>;
  readonly kubeServices: ReadonlyMap<string, R.KubeService>;
  readonly detected: ReadonlyMap<string, Detected>;
  /** ServiceEntry key → allocated virtual IP. */
  readonly vips: ReadonlyMap<string, string>;
  readonly hosts: Iterable<HostOutput>;
  readonly gateway: GatewayStageOutput | undefined;
  readonly routers: ReadonlyMap<string, RouterState>;
  readonly destinationRules: ReadonlyMap<string, R.DestinationRule>;
  /** DestinationRule key → the host it is indexed under. */
  readonly ruleHosts: ReadonlyMap<string, string>;
  readonly destinationRule: (host: string) => R.DestinationRule | undefined;
  readonly isServiceHost: (host: string) => boolean;
  readonly diagnostics: readonly Diagnostic[];
}

export function pipelineState(s: StateSources): PipelineState {
  const gw = s.gateway;
  return {
    domain: s.options.domain,
    rootNamespace: s.options.rootNamespace,
    proxySelector: s.options.proxySelector,
    services: services(s),
    hosts: [...s.hosts].map(hostView).sort((a, b) => cmp(a.model.host, b.model.host)),
    gateway: {
      model: gw?.model ?? { listeners: [], diagnostics: [] },
      routes: byName(gw?.routes.values() ?? []),
      envoyFilters: [...(gw?.envoyFilters ?? [])].sort(byObjectKey),
      virtualServices: [...(gw?.virtualServices ?? [])].sort(byObjectKey),
    },
    routers: [...s.routers].map(([ref, r]) => routerView(ref, r, s)).sort((a, b) => cmp(a.ref, b.ref)),
    destinationRules: [...s.destinationRules].map(([ref, dr]) => ruleView(ref, dr, s)).sort((a, b) => cmp(a.ref, b.ref)),
    diagnostics: s.diagnostics,
  };
}

function services(s: StateSources): ServiceView[] {
  const out: ServiceView[] = [];
  for (const [ref, se] of s.serviceEntries) {
    const meta = s.detected.get(ref)?.service;
    const vip = s.vips.get(ref);
    out.push({
      ref,
      kind: 'ServiceEntry',
      hosts: (se.spec.hosts ?? []).map((h) => h.trim().toLowerCase()),
      ports: (se.spec.ports ?? []).map((p) => ({ number: p.number, name: p.name ?? '' })),
      ...(meta ? { meta } : {}),
      ...(vip ? { allocatedAddress: vip } : {}),
    });
  }
  for (const [ref, svc] of s.kubeServices) {
    const meta = s.detected.get(ref)?.service;
    out.push({
      ref,
      kind: 'Service',
      hosts: [`${svc.metadata.name}.${svc.metadata.namespace}.svc.${s.options.domain}`],
      ports: (svc.spec.ports ?? []).map((p) => ({ number: p.port, name: p.name ?? '', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) })),
      ...(meta ? { meta } : {}),
    });
  }
  return out.sort((a, b) => cmp(a.ref, b.ref));
}

function hostView(o: HostOutput): HostView {
  return { model: o.model, routes: byName(o.routes.values()), envoyFilters: [...o.envoyFilters].sort(byObjectKey) };
}

function byName(tables: Iterable<{ readonly [k: string]: unknown }>): { readonly [k: string]: unknown }[] {
  return [...tables].sort((a, b) => cmp(String(a.name), String(b.name)));
}

function routerView(ref: string, r: RouterState, s: StateSources): RouterView {
  const mr = r.entry.router;
  const hosts = mr.spec.hosts ?? [];
  return {
    ref,
    namespace: mr.metadata.namespace,
    name: mr.metadata.name,
    creationTimestamp: r.entry.creationTimestamp,
    valid: r.valid,
    mesh: appliesToMesh(mr),
    ...(hosts.length === 1 ? { host: serviceHost(hosts[0]!, mr.metadata.namespace, s.options.domain, s.isServiceHost) } : {}),
    spec: mr.spec,
  };
}

function ruleView(ref: string, dr: R.DestinationRule, s: StateSources): DestinationRuleView {
  const host = s.ruleHosts.get(ref) ?? '';
  const applied = s.destinationRule(host);
  return {
    ref,
    host,
    creationTimestamp: dr.metadata.creationTimestamp ?? '',
    applies: applied === dr,
    spec: dr.spec,
  };
}
