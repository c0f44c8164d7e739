/**
 * The incremental pipeline. It holds the current resources and the per-host results, and on each
 * change recomputes only what depends on it:
 *
 *   MetaRouter        → its old and new host (and the gateway stage if it names gateways)
 *   DestinationRule   → its host, and every host whose routes point at that host
 *   ServiceEntry/Service → its hosts (and every ServiceEntry whose virtual IP moved)
 *   Gateway           → the gateway stage
 *   ApplicationProtocol, options → everything (rare, and they change what every port means)
 *
 * The engine is deterministic: its output depends only on the set of resources, never on the order
 * of changes (tests compare incremental results with full rebuilds). It does no I/O.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { Options } from '../model/options.js';
import type * as R from '../model/resources.js';
import type { MetaService } from '../model/service.js';
import { buildProtocolTable, type ProtocolDescriptor, type ProtocolTable } from '../protocol/table.js';
import { detectKubeService, detectServiceEntry, type Detected } from '../protocol/detect.js';
import { allocateVips } from '../serviceentry/vip.js';
import { validateMetaRouter } from '../validate/metarouter.js';
import { addressIp, resolveHost } from '../util/hosts.js';
import type { JsonObject } from '../route/wire.js';
import { computeHost, type HostOutput, type RouterEntry } from './host.js';
import { computeGateways, type GatewayStageOutput } from './gateway.js';
import { byPrecedence } from './precedence.js';
import { objKey, type Change, type PipelineOutput } from './types.js';
import { assembleOutput } from './assemble.js';

export { ALLOCATED_ADDRESS_ANNOTATION } from './assemble.js';

interface RouterState {
  entry: RouterEntry;
  host: string | undefined;
  valid: boolean;
  hasGateways: boolean;
  diagnostics: Diagnostic[];
}

/** What changed in the last flush: the RDS resources an xDS server must push or withdraw. */
export interface Delta {
  readonly changedRoutes: ReadonlySet<string>;
  readonly removedRoutes: ReadonlySet<string>;
  readonly hostsRecomputed: number;
}

export class Engine {
  private options: Options;
  private table: ProtocolTable;
  private tableDiagnostics: Diagnostic[];
  private readonly builtins: readonly ProtocolDescriptor[];

  private readonly serviceEntries = new Map<string, R.ServiceEntry>();
  private readonly kubeServices = new Map<string, R.KubeService>();
  private readonly destinationRules = new Map<string, R.DestinationRule>();
  private readonly gateways = new Map<string, R.Gateway>();
  private readonly applicationProtocols = new Map<string, R.ApplicationProtocol>();
  private readonly routers = new Map<string, RouterState>();

  private readonly detected = new Map<string, Detected>();
  private vips = new Map<string, string>();
  private vipDiagnostics: Diagnostic[] = [];
  private readonly servicesByHost = new Map<string, Set<string>>();
  private readonly routersByHost = new Map<string, Set<string>>();
  private readonly rulesByHost = new Map<string, Set<string>>();
  /** host → hosts whose output read its DestinationRule. */
  private readonly dependents = new Map<string, Set<string>>();

  private readonly hostOutputs = new Map<string, HostOutput>();
  private gatewayOutput: GatewayStageOutput | undefined;
  private readonly routeOwner = new Map<string, JsonObject>();

  private readonly dirtyHosts = new Set<string>();
  private dirtyGateways = true;
  private dirtyVips = false;
  private dirtyAll = false;

  constructor(builtins: readonly ProtocolDescriptor[], options: Options, private inputDiagnostics: Diagnostic[] = []) {
    this.builtins = builtins;
    this.options = options;
    const t = buildProtocolTable(builtins, []);
    this.table = t.table;
    this.tableDiagnostics = t.diagnostics;
  }

  setOptions(options: Options): void {
    this.options = options;
    this.dirtyAll = true;
  }

  /** Replaces the diagnostics of reading the input (reported by output(); no recomputation). */
  setInputDiagnostics(diagnostics: Diagnostic[]): void {
    this.inputDiagnostics = diagnostics;
  }

  /** The current RDS resource of that name (as in output().routes), after flush(). */
  route(name: string): JsonObject | undefined {
    return this.routeOwner.get(name);
  }

  apply(changes: Iterable<Change>): void {
    for (const c of changes) {
      if (c.op === 'upsert') this.upsert(c.resource);
      else this.remove(c.kind, c.namespace, c.name);
    }
  }

  private upsert(r: R.Resource<string, unknown>): void {
    const key = objKey(r.kind, r.metadata.namespace, r.metadata.name);
    switch (r.kind) {
      case 'ServiceEntry': {
        const prev = this.addressesOf(key);
        this.serviceEntries.set(key, r as R.ServiceEntry);
        return this.serviceChanged(key, prev);
      }
      case 'Service': {
        const prev = this.addressesOf(key);
        this.kubeServices.set(key, r as R.KubeService);
        return this.serviceChanged(key, prev);
      }
      case 'MetaRouter':
        return this.routerChanged(key, r as R.MetaRouter);
      case 'DestinationRule':
        this.ruleChanged(key, r as R.DestinationRule);
        return;
      case 'Gateway':
        this.gateways.set(key, r as R.Gateway);
        this.dirtyGateways = true;
        return;
      case 'ApplicationProtocol':
        this.applicationProtocols.set(key, r as R.ApplicationProtocol);
        this.dirtyAll = true;
        return;
      default:
        throw new Error(`bug: engine given unsupported kind ${r.kind}`);
    }
  }

  private remove(kind: string, namespace: string, name: string): void {
    const key = objKey(kind, namespace, name);
    switch (kind) {
      case 'ServiceEntry':
      case 'Service': {
        const prev = this.addressesOf(key);
        if (this.serviceEntries.delete(key) || this.kubeServices.delete(key)) this.serviceChanged(key, prev);
        return;
      }
      case 'MetaRouter':
        return this.routerChanged(key, undefined);
      case 'DestinationRule':
        return this.ruleChanged(key, undefined);
      case 'Gateway':
        if (this.gateways.delete(key)) this.dirtyGateways = true;
        return;
      case 'ApplicationProtocol':
        if (this.applicationProtocols.delete(key)) this.dirtyAll = true;
        return;
      default:
        throw new Error(`bug: engine given unsupported kind ${kind}`);
    }
  }

  // --- change handlers: update indexes, mark dirty ------------------------------------------------

  /** Every address a ServiceEntry or Service holds, MetaProtocol or not (VIPs must avoid them all). */
  private addressesOf(key: string): string[] {
    const se = this.serviceEntries.get(key);
    if (se) return (se.spec.addresses ?? []).map(addressIp);
    const svc = this.kubeServices.get(key);
    return svc ? (svc.spec.clusterIPs ?? [svc.spec.clusterIP ?? '']) : [];
  }

  private serviceChanged(key: string, prevAddresses: readonly string[] = this.addressesOf(key)): void {
    const old = this.detected.get(key);
    if (old?.service) for (const h of old.service.hosts) this.unindex(this.servicesByHost, h, key);
    const d = this.detect(key);
    if (d) {
      this.detected.set(key, d);
      if (d.service) for (const h of d.service.hosts) this.index(this.servicesByHost, h, key);
    } else {
      this.detected.delete(key);
    }
    // Allocation only moves when a service needs a VIP, or an address inside the block comes or goes.
    const inBlock = (ip: string) => ipInCidr(ip, this.options.vipCidr);
    if (old?.needsVip || d?.needsVip || prevAddresses.some(inBlock) || this.addressesOf(key).some(inBlock)) this.dirtyVips = true;
    for (const h of [...(old?.service?.hosts ?? []), ...(d?.service?.hosts ?? [])]) this.markHost(h);
  }

  private detect(key: string): Detected | undefined {
    const se = this.serviceEntries.get(key);
    if (se) return withVip(detectServiceEntry(se, this.table, this.options.domain), this.vips.get(key));
    const svc = this.kubeServices.get(key);
    if (svc) return detectKubeService(svc, this.table, this.options.domain);
    return undefined;
  }

  private routerChanged(key: string, mr: R.MetaRouter | undefined): void {
    const old = this.routers.get(key);
    if (old) {
      if (old.host) {
        this.unindex(this.routersByHost, old.host, key);
        this.markHost(old.host);
      }
      if (old.hasGateways) this.dirtyGateways = true;
    }
    if (!mr) {
      this.routers.delete(key);
      return;
    }
    const state = this.routerState(key, mr);
    this.routers.set(key, state);
    if (state.host && state.valid) this.index(this.routersByHost, state.host, key);
    if (state.host) this.markHost(state.host);
    if (state.hasGateways) this.dirtyGateways = true;
  }

  private routerState(key: string, mr: R.MetaRouter): RouterState {
    const diagnostics = validateMetaRouter(mr, this.options.domain);
    const valid = !diagnostics.some((d) => d.severity === 'error');
    if (!valid) {
      diagnostics.push(diag('MM_ROUTER_NOT_APPLIED', key, 'was not applied because of the errors reported on it; its host keeps its default route (or the next MetaRouter for it). Fix them and re-apply.'));
    }
    const hosts = mr.spec.hosts ?? [];
    const host = hosts.length === 1 ? resolveHost(hosts[0]!, mr.metadata.namespace, this.options.domain) : undefined;
    const gws = (mr.spec.gateways ?? []).filter((g) => g !== 'mesh');
    return {
      entry: { router: mr, ref: key, creationTimestamp: mr.metadata.creationTimestamp ?? '' },
      host,
      valid,
      hasGateways: valid && gws.length > 0,
      diagnostics,
    };
  }

  private ruleChanged(key: string, dr: R.DestinationRule | undefined): void {
    const old = this.destinationRules.get(key);
    if (old) this.ruleHostChanged(this.ruleHost(old), key, false);
    if (dr) {
      this.destinationRules.set(key, dr);
      this.ruleHostChanged(this.ruleHost(dr), key, true);
    } else {
      this.destinationRules.delete(key);
    }
  }

  private ruleHostChanged(host: string, key: string, add: boolean): void {
    if (add) this.index(this.rulesByHost, host, key);
    else this.unindex(this.rulesByHost, host, key);
    this.markHost(host);
    for (const h of this.dependents.get(host) ?? []) this.markHost(h);
  }

  private ruleHost(dr: R.DestinationRule): string {
    return resolveHost(dr.spec.host ?? '', dr.metadata.namespace, this.options.domain);
  }

  private markHost(host: string): void {
    this.dirtyHosts.add(host);
    if (this.gatewayOutput?.dependsOn.has(host)) this.dirtyGateways = true;
  }

  private index(m: Map<string, Set<string>>, host: string, key: string): void {
    const s = m.get(host);
    if (s) s.add(key);
    else m.set(host, new Set([key]));
  }

  private unindex(m: Map<string, Set<string>>, host: string, key: string): void {
    const s = m.get(host);
    if (!s) return;
    s.delete(key);
    if (s.size === 0) m.delete(host);
  }

  // --- recomputation --------------------------------------------------------------------------

  /** The DestinationRule that applies to a host: the oldest of those naming it. */
  readonly destinationRule = (host: string): R.DestinationRule | undefined => {
    const keys = this.rulesByHost.get(host);
    if (!keys || keys.size === 0) return undefined;
    let best: R.DestinationRule | undefined;
    let bestKey = '';
    for (const k of keys) {
      const dr = this.destinationRules.get(k)!;
      const cand = { creationTimestamp: dr.metadata.creationTimestamp ?? '', ref: k };
      if (!best || byPrecedence(cand, { creationTimestamp: best.metadata.creationTimestamp ?? '', ref: bestKey }) < 0) {
        best = dr;
        bestKey = k;
      }
    }
    return best;
  };

  private servicesOf = (host: string): MetaService[] =>
    [...(this.servicesByHost.get(host) ?? [])].map((k) => this.detected.get(k)!.service!);

  /** Recomputes everything that is dirty and reports which RDS resources changed. */
  flush(): Delta {
    if (this.dirtyAll) this.rebuildAll();
    if (this.dirtyVips) this.reallocateVips();
    const changed = new Set<string>();
    const removed = new Set<string>();
    const hosts = [...this.dirtyHosts];
    this.dirtyHosts.clear();
    for (const host of hosts) {
      const before = this.hostOutputs.get(host);
      this.setDependencies(host, before?.dependsOn ?? [], false);
      const out = computeHost({
        host,
        services: this.servicesOf(host),
        routers: [...(this.routersByHost.get(host) ?? [])].map((k) => this.routers.get(k)!.entry),
        destinationRule: this.destinationRule,
        table: this.table,
        options: this.options,
      });
      this.setDependencies(host, out.dependsOn, true);
      if (out.routes.size === 0 && out.envoyFilters.length === 0 && out.diagnostics.length === 0) this.hostOutputs.delete(host);
      else this.hostOutputs.set(host, out);
      this.diffRoutes(before?.routes, out.routes, changed, removed);
    }
    if (this.dirtyGateways) {
      const before = this.gatewayOutput;
      this.gatewayOutput = computeGateways({
        gateways: [...this.gateways.values()],
        routers: [...this.routers.values()].filter((s) => s.hasGateways).map((s) => s.entry),
        servicesOf: this.servicesOf,
        destinationRule: this.destinationRule,
        table: this.table,
        options: this.options,
      });
      this.dirtyGateways = false;
      this.diffRoutes(before?.routes, this.gatewayOutput.routes, changed, removed);
    }
    return { changedRoutes: changed, removedRoutes: removed, hostsRecomputed: hosts.length };
  }

  private diffRoutes(before: Map<string, JsonObject> | undefined, after: Map<string, JsonObject>, changed: Set<string>, removed: Set<string>): void {
    for (const [name, wire] of after) {
      const prev = this.routeOwner.get(name);
      if (!prev || JSON.stringify(prev) !== JSON.stringify(wire)) changed.add(name);
      this.routeOwner.set(name, wire);
      removed.delete(name);
    }
    for (const name of before?.keys() ?? []) {
      if (!after.has(name)) {
        this.routeOwner.delete(name);
        removed.add(name);
        changed.delete(name);
      }
    }
  }

  private setDependencies(host: string, deps: readonly string[], add: boolean): void {
    for (const d of deps) {
      if (d === host) continue;
      if (add) this.index(this.dependents, d, host);
      else this.unindex(this.dependents, d, host);
    }
  }

  private rebuildAll(): void {
    this.dirtyAll = false;
    const t = buildProtocolTable(this.builtins, [...this.applicationProtocols.values()]);
    this.table = t.table;
    this.tableDiagnostics = t.diagnostics;
    for (const key of [...this.serviceEntries.keys(), ...this.kubeServices.keys()]) this.serviceChanged(key);
    for (const [key, s] of this.routers) this.routerChanged(key, s.entry.router);
    for (const [key, dr] of [...this.destinationRules]) this.ruleChanged(key, dr);
    for (const h of this.hostOutputs.keys()) this.dirtyHosts.add(h);
    this.dirtyGateways = true;
    this.dirtyVips = true;
  }

  private reallocateVips(): void {
    this.dirtyVips = false;
    const needing: string[] = [];
    const used = new Set<string>();
    for (const [key, d] of this.detected) if (d.needsVip) needing.push(key);
    // Every address in use, MetaProtocol or not, is off limits.
    for (const se of this.serviceEntries.values()) for (const a of se.spec.addresses ?? []) used.add(addressIp(a));
    for (const svc of this.kubeServices.values()) for (const ip of svc.spec.clusterIPs ?? [svc.spec.clusterIP ?? '']) used.add(ip);
    const { assigned, exhausted } = allocateVips(needing, used, this.options.vipCidr);
    const before = this.vips;
    this.vips = assigned;
    this.vipDiagnostics = exhausted.map((k) => diag('MM_SERVICE_VIP_EXHAUSTED', k, `no free address is left in ${this.options.vipCidr}; give the ServiceEntry spec.addresses or widen vipCidr.`));
    for (const key of new Set([...before.keys(), ...assigned.keys()])) {
      if (before.get(key) !== assigned.get(key)) this.serviceChanged(key);
    }
    // serviceChanged marks VIPs dirty again for ServiceEntries; the allocation is already current.
    this.dirtyVips = false;
  }

  // --- output ---------------------------------------------------------------------------------

  /** The full, sorted output. Call after flush(). */
  output(): PipelineOutput {
    return assembleOutput({
      options: this.options,
      diagnostics: [...this.inputDiagnostics, ...this.tableDiagnostics, ...this.vipDiagnostics],
      detected: this.detected.values(),
      routers: this.routers.values(),
      hosts: this.hostOutputs.values(),
      gateway: this.gatewayOutput,
      rulesByHost: this.rulesByHost,
      destinationRule: this.destinationRule,
      vips: this.vips,
      serviceEntries: this.serviceEntries,
    });
  }
}

function ipInCidr(ip: string, cidr: string): boolean {
  const toInt = (s: string) => s.split('.').reduce((n, p) => n * 256 + Number(p), 0);
  const [base, bits] = cidr.split('/');
  const n = toInt(ip);
  const b = toInt(base!);
  return n >= b && n < b + 2 ** (32 - Number(bits));
}

function withVip(d: Detected, vip: string | undefined): Detected {
  if (!d.service || !d.needsVip || !vip) return d;
  return { ...d, service: { ...d.service, addresses: [vip] } };
}
