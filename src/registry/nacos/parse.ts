/**
 * Pure: what a Nacos server holds (NacosRead) → the registry-neutral RegistrySnapshot.
 *
 * Which Nacos services become services, and how:
 * - `providers:<interface>:<version>:<group>` (Dubbo interface-level registration; both colons are
 *   always written, `$` of inner classes as `___`): one service per protocol its instances name in
 *   `metadata.protocol` (Dubbo writes the URL scheme there; `dubbo` if absent).
 * - A Dubbo 3 application (application-level registration): a service named by a mapping config
 *   (group `mapping`, dataId = interface, content = `app1,app2`) in the same namespace, or whose
 *   instances carry `dubbo.endpoints`; each endpoint (protocol, port) of an instance is an address.
 * - Any other service whose instances name a MetaProtocol protocol in `metadata.protocol`
 *   (`protocol=thrift`): its instances with such a protocol. Everything else (HTTP services,
 *   `consumers:*`) is not a MetaProtocol service and is passed over without a word.
 * A service's protocol is the one most of its instances use (as for ZooKeeper): instances of another
 * MetaProtocol protocol are left out (MM_REGISTRY_PROTOCOL_MIXED), those of a protocol without a
 * MetaProtocol codec too (MM_REGISTRY_NOT_METAPROTOCOL). The key is `<namespace>/<group>/<name>`.
 *
 * Output is sorted (services by key, instances by address and port), whatever the input order.
 */
import { diag, normalizeDiagnostics, type Diagnostic } from '../../model/diagnostics.js';
import type { RegistryInstance, RegistryService, RegistrySnapshot } from '../../model/registry.js';
import { canonicalJson, sortKeys } from '../../util/canonical.js';
import { dubboLabels } from '../zookeeper/labels.js';
import { nacosHost } from './host.js';
import { readEndpoints, readHost, type NacosHost } from './instance.js';
import type { NacosParseOptions, NacosRead, NacosServiceRead } from './read.js';

const INTERFACE_NAME = /^providers:([^:]+):([^:]*):([^:]*)$/;
/** Consumer registrations (Dubbo 2.7) and legacy or compatibility names (fewer than four parts). */
const IGNORED_NAME = /^(consumers|providers|routers|configurators):/;

type Kind = 'interface' | 'application' | 'plain';

/** One usable address of a service, for one protocol. */
interface Address {
  readonly protocol: string;
  readonly port: number;
  readonly host: NacosHost;
}

function objectName(s: NacosServiceRead): string {
  return `Nacos service ${s.namespace}/${s.group}/${s.name}`;
}

function mappedApplications(read: NacosRead): Set<string> {
  const apps = new Set<string>();
  for (const m of read.mappings) {
    for (const app of m.content.split(',')) if (app.trim() !== '') apps.add(`${m.namespace}\n${app.trim()}`);
  }
  return apps;
}

function classify(s: NacosServiceRead, hosts: readonly NacosHost[], apps: Set<string>): Kind {
  if (INTERFACE_NAME.test(s.name)) return 'interface';
  if (apps.has(`${s.namespace}\n${s.name}`) || hosts.some((h) => 'dubbo.endpoints' in h.metadata)) return 'application';
  return 'plain';
}

function addresses(kind: Kind, s: NacosServiceRead, host: NacosHost, out: Diagnostic[]): Address[] {
  if (kind === 'application' && host.metadata['dubbo.endpoints'] !== undefined) {
    const endpoints = readEndpoints(host.metadata['dubbo.endpoints']);
    if (endpoints === undefined) {
      out.push(diag('MM_REGISTRY_BAD_RECORD', objectName(s), `The instance ${host.address}:${host.port} has "dubbo.endpoints" metadata that is not a JSON list of {"port", "protocol"}; the instance was skipped.`));
      return [];
    }
    return endpoints.map((e) => ({ protocol: e.protocol, port: e.port, host }));
  }
  const protocol = host.metadata.protocol ?? (kind === 'plain' ? '' : 'dubbo');
  return [{ protocol, port: host.port, host }];
}

/** By address and port; sameAddress tells duplicates apart, the canonical form orders them. */
function sameAddress(a: RegistryInstance, b: RegistryInstance): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port;
}

function compareInstances(a: RegistryInstance, b: RegistryInstance): number {
  return sameAddress(a, b) || cmp(canonicalJson(a), canonicalJson(b));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Dubbo services are labelled as the ZooKeeper adapter labels them (application, group, version and
 * `aeraki_meta_*`), so the same provider gets the same labels from either registry. The rest of a
 * Dubbo instance's metadata is Dubbo's bookkeeping (timestamp, methods, JSON such as
 * `dubbo.endpoints`, `prefer.serialization=hessian2,fastjson2`), which is no Kubernetes label and
 * would be mangled into one with a warning for every provider. Other services keep their metadata.
 */
function toInstance(kind: Kind, serviceName: string, a: Address): RegistryInstance {
  const m = a.host.metadata;
  const labels = kind === 'plain' ? sortKeys(m) : dubboLabels(kind === 'application' ? { ...m, application: serviceName } : m);
  return { address: a.host.address, port: a.port, labels, weight: a.host.weight, healthy: a.host.healthy, enabled: a.host.enabled };
}

function first<T>(values: readonly (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

/** The protocol most addresses use; on a tie the first by name. */
function majority(byProtocol: ReadonlyMap<string, readonly Address[]>): string | undefined {
  let best: string | undefined;
  for (const p of [...byProtocol.keys()].sort()) if (best === undefined || byProtocol.get(p)!.length > byProtocol.get(best)!.length) best = p;
  return best;
}

function service(s: NacosServiceRead, kind: Kind, found: readonly Address[], options: NacosParseOptions, out: Diagnostic[]): RegistryService | undefined {
  const known = new Set(options.protocols);
  const byProtocol = new Map<string, Address[]>();
  for (const a of found) if (known.has(a.protocol)) byProtocol.set(a.protocol, [...(byProtocol.get(a.protocol) ?? []), a]);
  const unknown = [...new Set(found.map((a) => a.protocol).filter((p) => !known.has(p)))].sort();
  if (kind !== 'plain' && unknown.length > 0) {
    out.push(diag('MM_REGISTRY_NOT_METAPROTOCOL', objectName(s), `Instances registered with protocol ${unknown.map((p) => `"${p}"`).join(', ')} were left out: it is not a MetaProtocol protocol. Route them with Istio's own resources, or add an ApplicationProtocol if it is one.`));
  }
  const protocol = majority(byProtocol);
  if (protocol === undefined) return undefined;
  const others = [...byProtocol.keys()].filter((p) => p !== protocol).sort();
  if (others.length > 0) {
    out.push(diag('MM_REGISTRY_PROTOCOL_MIXED', objectName(s), `Instances registered ${[protocol, ...others].map((p) => `"${p}"`).join(' and ')}; the ${others.join(', ')} instances were left out, the service is ${protocol}. Give each protocol its own service.`));
  }
  const all = byProtocol.get(protocol)!.map((a) => toInstance(kind, s.name, a)).sort(compareInstances);
  const unique = all.filter((x, i) => i === 0 || sameAddress(x, all[i - 1]!) !== 0);
  if (unique.length > options.maxInstancesPerService) {
    out.push(diag('MM_REGISTRY_TOO_MANY', objectName(s), `The service has ${unique.length} instances, more than maxInstancesPerService (${options.maxInstancesPerService}); only the first ${options.maxInstancesPerService} by address were kept.`));
  }
  const instances = unique.slice(0, options.maxInstancesPerService);
  const labels = instances.map((i) => i.labels);
  const m = INTERFACE_NAME.exec(s.name);
  const iface = m ? m[1]!.replace(/___/g, '$') : undefined;
  const group = m?.[3] || undefined;
  const version = m?.[2] || undefined;
  const application = kind === 'application' ? s.name : first(labels.map((l) => l.application));
  const iName = iface ?? (kind === 'plain' ? first(labels.map((l) => l.interface)) : undefined);
  const namespace = first(labels.map((l) => l.aeraki_meta_app_namespace));
  return {
    key: `${s.namespace}/${s.group}/${s.name}`,
    protocol,
    host: nacosHost({ base: iface ?? s.name, dubboGroup: group, dubboVersion: version, nacosGroup: s.group, namespace: s.namespace }),
    ...(iName !== undefined ? { interface: iName } : {}),
    ...(group !== undefined ? { group } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(application !== undefined ? { application } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    instances,
  };
}

/** What one service of a read gave: its service (if any) and its diagnostics. */
interface ServiceResult {
  readonly service: RegistryService | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Results by the service's hosts array: a read that passes the same array again (the watcher does
 * for an answer that did not change) for the same service, kind and options gets the same result,
 * RegistryService object included, so later stages can tell by identity that it did not change.
 */
const results = new WeakMap<readonly unknown[], { readonly s: NacosServiceRead; readonly options: NacosParseOptions; readonly hosts: readonly NacosHost[]; readonly problems: readonly Diagnostic[]; kind?: Kind; result?: ServiceResult }>();

function readService(s: NacosServiceRead, apps: Set<string>, known: ReadonlySet<string>, options: NacosParseOptions): ServiceResult {
  let memo = results.get(s.hosts);
  if (memo === undefined || memo.options !== options || memo.s.namespace !== s.namespace || memo.s.group !== s.group || memo.s.name !== s.name) {
    const hosts: NacosHost[] = [];
    const problems: Diagnostic[] = [];
    for (const raw of s.hosts) {
      const h = readHost(raw);
      if (typeof h === 'string') problems.push(diag('MM_REGISTRY_BAD_RECORD', objectName(s), `${h[0]!.toUpperCase()}${h.slice(1)}; it was skipped.`));
      else hosts.push(h);
    }
    memo = { s, options, hosts, problems };
    results.set(s.hosts, memo);
  }
  const kind = classify(s, memo.hosts, apps);
  if (memo.kind === kind && memo.result !== undefined) return memo.result;
  // A service that is not a MetaProtocol service (an HTTP service…) is none of metamesh's business,
  // its odd records included.
  let result: ServiceResult;
  if (kind === 'plain' && !memo.hosts.some((h) => known.has(h.metadata.protocol ?? ''))) result = { service: undefined, diagnostics: [] };
  else {
    const out: Diagnostic[] = [...memo.problems];
    const found = service(s, kind, memo.hosts.flatMap((h) => addresses(kind, s, h, out)), options, out);
    result = { service: found, diagnostics: out };
  }
  memo.kind = kind;
  memo.result = result;
  return result;
}

export function parseNacos(read: NacosRead, options: NacosParseOptions): RegistrySnapshot {
  const out: Diagnostic[] = [];
  const apps = mappedApplications(read);
  const known = new Set(options.protocols);
  const result: RegistryService[] = [];
  for (const s of read.services) {
    if (IGNORED_NAME.test(s.name) && !INTERFACE_NAME.test(s.name)) continue;
    const r = readService(s, apps, known, options);
    for (const d of r.diagnostics) out.push(d);
    if (r.service) result.push(r.service);
  }
  if (read.unreadServices) {
    out.push(diag('MM_REGISTRY_TOO_MANY_SERVICES', `Nacos registry ${options.registry}`, `The registry lists more services than maxServices (${read.services.length}): at least ${read.unreadServices} more were not read. Narrow the namespaces, groups or service patterns, or raise maxServices.`));
  }
  result.sort((a, b) => cmp(a.key, b.key));
  return { registry: options.registry, services: result, diagnostics: normalizeDiagnostics(out) };
}
