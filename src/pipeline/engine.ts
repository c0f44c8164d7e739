/**
 * The incremental pipeline. It holds the current resources and the per-host results, and on each
 * change recomputes only what depends on it:
 *
 *   MetaRouter           → the hosts it may mean (and the gateway stage if it names gateways)
 *   DestinationRule      → its host, and every host whose output read that host
 *   ServiceEntry/Service → its hosts, every host whose output read them, the MetaRouters that may
 *                          mean them (and every ServiceEntry whose virtual IP moved)
 *   Gateway              → the gateway stage
 *   ApplicationProtocol, options → everything (rare, and they change what every port means)
 *
 * The engine is deterministic: its output depends only on the set of resources, never on the order
 * of changes (tests compare incremental results with full rebuilds). It does no I/O.
 *
 * Longer than 300 lines: the indexes above and the code that keeps them consistent on every change
 * are one invariant, kept in one class on purpose; the stages it calls (host.ts, gateway.ts,
 * routers.ts, vips.ts, assemble.ts, state.ts) hold everything that can live outside it.
 */
import type { Diagnostic } from '../model/diagnostics.js';
import type { Options } from '../model/options.js';
import type * as R from '../model/resources.js';
import type { MetaService } from '../model/service.js';
import type { GatewayModel, HostModel, ProtocolModel } from '../model/host.js';
import { protocolModels } from '../resolve/router.js';
import { buildProtocolTable, type ProtocolDescriptor, type ProtocolTable } from '../protocol/table.js';
import { detectKubeService, detectServiceEntry, type Detected } from '../protocol/detect.js';
import { byPrecedence } from '../resolve/precedence.js';
import { resolveHost } from '../util/hosts.js';
import type { JsonObject } from '../route/wire.js';
import { computeHost, type HostOutput } from './host.js';
import { computeGateways, type GatewayStageOutput } from './gateway.js';
import { objKey, type Change, type PipelineOutput } from './types.js';
import { assembleOutput } from './assemble.js';
import { SetMultimap } from './multimap.js';
import { VipState } from './vips.js';
import { addressView } from '../serviceentry/address.js';
import { cachedRe2Check } from '../util/regex.js';
import { routersMeaning, routerState, type RouterState } from './routers.js';
import { ServedRoutes } from './served.js';
import { pipelineState, type PipelineState } from './state.js';

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
  private protocols: ReadonlyMap<string, ProtocolModel>;

  private readonly serviceEntries = new Map<string, R.ServiceEntry>();
  private readonly kubeServices = new Map<string, R.KubeService>();
  private readonly destinationRules = new Map<string, R.DestinationRule>();
  private readonly gateways = new Map<string, R.Gateway>();
  private readonly applicationProtocols = new Map<string, R.ApplicationProtocol>();
  private readonly routers = new Map<string, RouterState>();
  private readonly detected = new Map<string, Detected>();
  private readonly vips = new VipState();
  private readonly checkRegex = cachedRe2Check();

  private readonly servicesByHost = new SetMultimap<string, string>();
  /** Candidate host → MetaRouters that may mean it. */
  private readonly routersByHost = new SetMultimap<string, string>();
  private readonly rulesByHost = new SetMultimap<string, string>();
  /** DestinationRule key → the host it is indexed under. */
  private readonly ruleHosts = new Map<string, string>();
  /** host → hosts whose output read it (its services or its DestinationRule). */
  private readonly dependents = new SetMultimap<string, string>();

  private readonly hostOutputs = new Map<string, HostOutput>();
  private gatewayOutput: GatewayStageOutput | undefined;
  private readonly served = new ServedRoutes();

  private readonly dirtyHosts = new Set<string>();
  private dirtyGateways = true;
  private dirtyAll = false;

  constructor(private readonly builtins: readonly ProtocolDescriptor[], options: Options, private inputDiagnostics: Diagnostic[] = []) {
    this.options = options;
    const t = buildProtocolTable(builtins, []);
    this.table = t.table;
    this.tableDiagnostics = t.diagnostics;
    this.protocols = protocolModels(t.table);
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
    return this.served.get(name);
  }

  /** A stored ServiceEntry's creationTimestamp (the MCP sink keeps it on the ones it re-serves). */
  serviceEntryCreated(namespace: string, name: string): string | undefined {
    return this.serviceEntries.get(objKey('ServiceEntry', namespace, name))?.metadata.creationTimestamp;
  }

  /** A stored ServiceEntry by its key, `ServiceEntry ns/name` (as ServiceView.ref): the dashboard shows it. */
  serviceEntry(ref: string): R.ServiceEntry | undefined {
    return this.serviceEntries.get(ref);
  }

  apply(changes: Iterable<Change>): void {
    for (const c of changes) {
      if (c.op === 'upsert') this.set(c.resource.kind, objKey(c.resource.kind, c.resource.metadata.namespace, c.resource.metadata.name), c.resource);
      else this.set(c.kind, objKey(c.kind, c.namespace, c.name), undefined);
    }
  }

  /** Stores (or, with `r` undefined, removes) one resource and marks what depends on it. */
  private set(kind: string, key: string, r: R.Resource<string, unknown> | undefined): void {
    switch (kind) {
      case 'ServiceEntry':
      case 'Service': {
        const map = (kind === 'ServiceEntry' ? this.serviceEntries : this.kubeServices) as Map<string, R.Resource<string, unknown>>;
        const before = this.vips.addressesOf(this.serviceEntries.get(key) ?? this.kubeServices.get(key));
        if (r) map.set(key, r);
        else if (!map.delete(key)) return;
        return this.serviceChanged(key, before);
      }
      case 'MetaRouter':
        return this.routerChanged(key, r as R.MetaRouter | undefined);
      case 'DestinationRule':
        return this.ruleChanged(key, r as R.DestinationRule | undefined);
      case 'Gateway':
        if (r) this.gateways.set(key, r as R.Gateway);
        else if (!this.gateways.delete(key)) return;
        this.dirtyGateways = true;
        return;
      case 'ApplicationProtocol':
        if (r) this.applicationProtocols.set(key, r as R.ApplicationProtocol);
        else if (!this.applicationProtocols.delete(key)) return;
        this.dirtyAll = true;
        return;
      default:
        throw new Error(`bug: engine given unsupported kind ${kind}`);
    }
  }

  // --- change handlers: update indexes, mark dirty ------------------------------------------------

  private serviceChanged(key: string, addressesBefore: readonly string[]): void {
    const old = this.detected.get(key);
    for (const h of old?.service?.hosts ?? []) this.servicesByHost.delete(h, key);
    const se = this.serviceEntries.get(key);
    const svc = this.kubeServices.get(key);
    const d = se ? this.vips.withVip(key, detectServiceEntry(addressView(se), this.table)) : svc ? detectKubeService(svc, this.table, this.options.domain) : undefined;
    if (d) this.detected.set(key, d);
    else this.detected.delete(key);
    for (const h of d?.service?.hosts ?? []) this.servicesByHost.add(h, key);
    this.vips.serviceChanged(old, d, addressesBefore, this.vips.addressesOf(se ?? svc), this.options.vipCidr);
    for (const h of [...(old?.service?.hosts ?? []), ...(d?.service?.hosts ?? [])]) this.touchHost(h);
  }

  private routerChanged(key: string, mr: R.MetaRouter | undefined): void {
    const old = this.routers.get(key);
    if (old) {
      for (const h of old.candidates) {
        this.routersByHost.delete(h, key);
        this.markHost(h);
      }
      if (old.hasGateways) this.dirtyGateways = true;
    }
    if (!mr) {
      this.routers.delete(key);
      return;
    }
    const state = routerState(key, mr, this.options.domain, this.checkRegex);
    this.routers.set(key, state);
    for (const h of state.candidates) {
      if (state.valid) this.routersByHost.add(h, key);
      this.markHost(h);
    }
    if (state.hasGateways) this.dirtyGateways = true;
  }

  private ruleChanged(key: string, dr: R.DestinationRule | undefined): void {
    // The host it was indexed under, not recomputed: the domain option may have changed since.
    const oldHost = this.ruleHosts.get(key);
    if (oldHost !== undefined) {
      this.rulesByHost.delete(oldHost, key);
      this.touchHost(oldHost);
    }
    if (dr) {
      // Istio resolves a DestinationRule's short host in the rule's namespace.
      const host = resolveHost(dr.spec.host ?? '', dr.metadata.namespace, this.options.domain);
      this.destinationRules.set(key, dr);
      this.ruleHosts.set(key, host);
      this.rulesByHost.add(host, key);
      this.touchHost(host);
    } else {
      this.destinationRules.delete(key);
      this.ruleHosts.delete(key);
    }
  }

  private markHost(host: string): void {
    this.dirtyHosts.add(host);
    if (this.gatewayOutput?.dependsOn.has(host)) this.dirtyGateways = true;
  }

  /** What a host's services or DestinationRule mean changed: recompute it and everything that read it. */
  private touchHost(host: string): void {
    this.markHost(host);
    for (const h of this.dependents.get(host)) this.markHost(h);
    // A MetaRouter's short name means this host only while a service defines it (names.ts).
    for (const k of this.routersByHost.get(host)) for (const h of this.routers.get(k)!.candidates) this.markHost(h);
  }

  // --- recomputation --------------------------------------------------------------------------

  /** The DestinationRule that applies to a host: the oldest of those naming it. */
  private readonly destinationRule = (host: string): R.DestinationRule | undefined => {
    let best: { k: string; dr: R.DestinationRule } | undefined;
    for (const k of this.rulesByHost.get(host)) {
      const dr = this.destinationRules.get(k)!;
      if (!best || byPrecedence({ creationTimestamp: dr.metadata.creationTimestamp ?? '', ref: k }, { creationTimestamp: best.dr.metadata.creationTimestamp ?? '', ref: best.k }) < 0) best = { k, dr };
    }
    return best?.dr;
  };

  private readonly servicesOf = (host: string): MetaService[] => [...this.servicesByHost.get(host)].map((k) => this.detected.get(k)!.service!);
  private readonly isServiceHost = (host: string): boolean => this.servicesByHost.has(host);

  /** Recomputes everything that is dirty and reports which RDS resources changed. */
  flush(): Delta {
    if (this.dirtyAll) this.rebuildAll();
    for (const key of this.vips.reallocate(this.detected, this.serviceEntries, this.kubeServices.values(), this.options.vipCidr)) {
      this.serviceChanged(key, this.vips.addressesOf(this.serviceEntries.get(key)));
    }
    this.vips.settle();
    this.served.reset();
    const hosts = [...this.dirtyHosts];
    this.dirtyHosts.clear();
    const lookup = { domain: this.options.domain, isServiceHost: this.isServiceHost, destinationRule: this.destinationRule };
    for (const host of hosts) {
      const before = this.hostOutputs.get(host);
      for (const d of before?.dependsOn ?? []) if (d !== host) this.dependents.delete(d, host);
      const out = computeHost({ ...lookup, host, services: this.servicesOf(host), routers: routersMeaning(host, this.routersByHost.get(host), this.routers, this.options.domain, this.isServiceHost), protocols: this.protocols, options: this.options });
      for (const d of out.dependsOn) if (d !== host) this.dependents.add(d, host);
      if (out.routes.size === 0 && out.envoyFilters.length === 0 && out.diagnostics.length === 0) this.hostOutputs.delete(host);
      else this.hostOutputs.set(host, out);
      this.served.replace(before?.routes, out.routes);
    }
    if (this.dirtyGateways) {
      const before = this.gatewayOutput;
      this.gatewayOutput = computeGateways({
        ...lookup,
        gateways: [...this.gateways.values()],
        routers: [...this.routers.values()].filter((s) => s.hasGateways).map((s) => s.entry),
        servicesOf: this.servicesOf,
        protocols: this.protocols,
        options: this.options,
      });
      this.dirtyGateways = false;
      this.served.replace(before?.routes, this.gatewayOutput.routes);
    }
    return { changedRoutes: new Set(this.served.changed), removedRoutes: new Set(this.served.removed), hostsRecomputed: hosts.length };
  }

  private rebuildAll(): void {
    this.dirtyAll = false;
    const t = buildProtocolTable(this.builtins, [...this.applicationProtocols.values()]);
    this.table = t.table;
    this.tableDiagnostics = t.diagnostics;
    this.protocols = protocolModels(t.table);
    this.vips.invalidate();
    for (const key of [...this.serviceEntries.keys(), ...this.kubeServices.keys()]) this.serviceChanged(key, []);
    for (const [key, s] of [...this.routers]) this.routerChanged(key, s.entry.router);
    for (const [key, dr] of [...this.destinationRules]) this.ruleChanged(key, dr);
    for (const h of this.hostOutputs.keys()) this.dirtyHosts.add(h);
    this.dirtyGateways = true;
  }

  // --- output ---------------------------------------------------------------------------------

  /** The resolved models (the seam between resolution and generation), sorted. Call after flush(). */
  models(): { hosts: HostModel[]; gateway: GatewayModel } {
    const hosts = [...this.hostOutputs.values()].map((o) => o.model).sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
    return { hosts, gateway: this.gatewayOutput?.model ?? { listeners: [], diagnostics: [] } };
  }

  /** Everything decided, as plain data, for `metamesh explain` (src/pipeline/state.ts). Call after flush(). */
  state(): PipelineState {
    return pipelineState({ options: this.options, serviceEntries: this.serviceEntries, kubeServices: this.kubeServices, detected: this.detected, vips: this.vips.assigned, hosts: this.hostOutputs.values(), gateway: this.gatewayOutput, routers: this.routers, destinationRules: this.destinationRules, ruleHosts: this.ruleHosts, destinationRule: this.destinationRule, isServiceHost: this.isServiceHost, diagnostics: this.output().diagnostics });
  }

  /** The full, sorted output. Call after flush(). */
  output(): PipelineOutput {
    return assembleOutput({
      options: this.options,
      diagnostics: [...this.inputDiagnostics, ...this.tableDiagnostics, ...this.vips.diagnostics],
      detected: this.detected.values(),
      routers: this.routers.values(),
      hosts: this.hostOutputs.values(),
      gateway: this.gatewayOutput,
      rulesByHost: this.rulesByHost.entries(),
      destinationRule: this.destinationRule,
      vips: this.vips.assigned,
      vipsKept: this.vips.kept,
      serviceEntries: this.serviceEntries,
    });
  }
}
