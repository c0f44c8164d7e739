/**
 * Catalog → Istio ServiceEntries, the same typed resources user files give, so they flow into the
 * pipeline unchanged. Pure and deterministic: one ServiceEntry per catalog service, sorted by
 * namespace and name.
 *
 * - Name: the host when it is already a DNS-1123 subdomain; else the nearest one plus a hash of
 *   the host, so two hosts never share a name.
 * - Namespace: the first valid of the service's own (`aeraki_meta_app_namespace`), the first rule
 *   that matches (registry, application, interface prefix), the configured default, `default`.
 *   A registry's own default namespace is a rule with only `registry`.
 * - One port, `tcp-metaprotocol-<protocol>`, numbered with the port most endpoints use (ties: the
 *   lowest); each endpoint names its own port in `ports`, so instances on other ports still work.
 * - Endpoints: the enabled, healthy instances with a weight above 0 (Istio reads weight 0 as 1),
 *   with their weight and their labels made valid. A service whose instances are all out of
 *   rotation keeps its ServiceEntry with no endpoints, so routes and MetaRouters stay in place (the
 *   catalog's protection has already refused a sudden loss); one without any instance has no port
 *   to declare and gets none.
 */
import { createHash } from 'node:crypto';
import type { CatalogInstance, CatalogService } from '../catalog/model.js';
import { diag, normalizeDiagnostics, type Diagnostic } from '../model/diagnostics.js';
import type { ServiceEntry, WorkloadEntrySpec } from '../model/resources.js';
import { isDnsLabel, istioFqdnProblem } from '../util/hosts.js';
import { isIpAddress } from '../util/ip.js';
import { fixLabels, fixLabelText } from './labels.js';

export interface NamespaceRule {
  /** Matches a service whose first registry (the one that describes it) is this one, as configured. */
  readonly registry?: string;
  /** Matches a service of exactly this application. */
  readonly application?: string;
  /** Matches a service whose interface starts with this. */
  readonly interfacePrefix?: string;
  readonly namespace: string;
}

export interface ServiceEntryOptions {
  readonly defaultNamespace: string;
  /** Tried in order; the first whose every given field matches decides. */
  readonly namespaceRules: readonly NamespaceRule[];
}

export const DEFAULT_SERVICEENTRY_OPTIONS: ServiceEntryOptions = { defaultNamespace: 'default', namespaceRules: [] };

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const REGISTRY_LABEL = 'metamesh.io/registry';
/** Istio's limit on the endpoints of one ServiceEntry. */
const MAX_ENDPOINTS = 4096;

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_NAME = 253;
const MAX_LABEL = 63;

function isSubdomain(s: string): boolean {
  return s.length <= MAX_NAME && s.split('.').every((l) => l.length <= MAX_LABEL && LABEL.test(l));
}

/**
 * The host itself when it is a DNS-1123 subdomain (every label at most 63 characters); else the
 * nearest such name with a hash of the host in its last label, so two hosts never share a name.
 */
export function serviceEntryName(host: string): string {
  if (isSubdomain(host)) return host;
  const hash = createHash('sha256').update(host).digest('hex').slice(0, 8);
  const cut = (l: string, n: number) => l.slice(0, n).replace(/-+$/, '');
  const labels = host
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .split('.')
    .map((l) => cut(l.replace(/^-+/, ''), MAX_LABEL))
    .filter((l) => l !== '');
  let head = labels.slice(0, -1);
  const last = `${cut(labels.at(-1) ?? 'service', MAX_LABEL - hash.length - 1)}-${hash}`;
  while (head.length > 0 && [...head, last].join('.').length > MAX_NAME) head = head.slice(0, -1);
  return [...head, last].join('.');
}

function chooseNamespace(s: CatalogService, options: ServiceEntryOptions, report: (text: string) => void): string {
  const rule = options.namespaceRules.find(
    (r) =>
      (r.registry === undefined || r.registry === s.registries[0]) &&
      (r.application === undefined || r.application === s.application) &&
      (r.interfacePrefix === undefined || (s.interface ?? '').startsWith(r.interfacePrefix)),
  );
  const choices: [string | undefined, string][] = [
    [s.namespace, 'the registry asks for'],
    [rule?.namespace, 'a namespace rule gives'],
    [options.defaultNamespace, 'the default namespace'],
  ];
  for (const [ns, what] of choices) {
    if (ns === undefined) continue;
    if (isDnsLabel(ns)) return ns;
    report(`The namespace ${JSON.stringify(ns)} ${what} is not a DNS label (lower-case letters, digits and "-", at most 63); the next choice was used.`);
  }
  return 'default';
}

function isUsable(i: CatalogInstance): boolean {
  return i.enabled && i.healthy && i.weight > 0;
}

/** The port most instances use; ties go to the lowest. */
function commonPort(instances: readonly CatalogInstance[]): number {
  const counts = new Map<number, number>();
  for (const i of instances) counts.set(i.port, (counts.get(i.port) ?? 0) + 1);
  return [...counts].sort(([pa, ca], [pb, cb]) => cb - ca || pa - pb)[0]![0];
}

export function generateServiceEntry(s: CatalogService, options: ServiceEntryOptions): { serviceEntry?: ServiceEntry; diagnostics: Diagnostic[] } {
  const name = serviceEntryName(s.host);
  const pending: string[] = [];
  const namespace = chooseNamespace(s, options, (t) => pending.push(t));
  const object = { kind: 'ServiceEntry', namespace, name };
  const diagnostics = pending.map((t) => diag('MM_SERVICEENTRY_NAMESPACE', object, t));
  const hostProblem = istioFqdnProblem(s.host);
  if (hostProblem !== undefined) {
    diagnostics.push(diag('MM_SERVICE_INVALID_HOST', object, `Host ${JSON.stringify(s.host)} from registry ${s.registries.join(', ')} is not a host Istio accepts (${hostProblem}), so no ServiceEntry was generated for it. Shorten the interface, group or version it is made of.`));
    return { diagnostics };
  }
  if (s.instances.length === 0) {
    diagnostics.push(diag('MM_SERVICEENTRY_NO_ENDPOINTS', object, `Host ${s.host} has no instance in registry ${s.registries.join(', ')}, so no port is known and no ServiceEntry was generated. Start a provider, or remove the service from the registry.`));
    return { diagnostics };
  }

  const portName = `tcp-metaprotocol-${fixLabelText(s.protocol.toLowerCase())}`;
  // Sorted here too: the output must not depend on the order the catalog was given in.
  const usable = s.instances.filter(isUsable).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
  const valid = usable.filter((i) => isIpAddress(i.address) && Number.isInteger(i.port) && i.port >= 1 && i.port <= 65535);
  const kept = valid.slice(0, MAX_ENDPOINTS);
  const skipped = usable.length - kept.length;
  if (skipped > 0) {
    const bad = usable.filter((i) => !valid.includes(i)).map((i) => `${i.address}:${i.port}`);
    const examples = bad.slice(0, 3).join(', ');
    diagnostics.push(
      diag(
        'MM_SERVICEENTRY_ENDPOINT_SKIPPED',
        object,
        `${skipped} instance(s) of ${s.host} were left out${bad.length > 0 ? `: ${bad.length} without an IP address or a port from 1 to 65535 (${examples})` : ''}${valid.length > MAX_ENDPOINTS ? `; ${valid.length - MAX_ENDPOINTS} over Istio's limit of ${MAX_ENDPOINTS} endpoints` : ''}. Register providers by IP address.`,
      ),
    );
  }
  if (kept.length === 0) {
    diagnostics.push(
      diag('MM_SERVICEENTRY_NO_ENDPOINTS', object, `None of the ${s.instances.length} instance(s) of ${s.host} is enabled, healthy and weighted above 0 (with an IP address), so its ServiceEntry has no endpoints and calls to it fail. Check its providers.`),
    );
  }

  const changes: string[] = [];
  // Endpoints on the same port share one `ports` object (memory at 100,000 endpoints; never mutated).
  const portsOf = new Map<number, Record<string, number>>();
  const endpoints: WorkloadEntrySpec[] = kept.map((i) => {
    const fixed = fixLabels(i.labels);
    changes.push(...fixed.changes);
    let ports = portsOf.get(i.port);
    if (ports === undefined) portsOf.set(i.port, (ports = { [portName]: i.port }));
    return { address: i.address, ports, labels: fixed.labels, weight: i.weight };
  });
  if (changes.length > 0) {
    const distinct = [...new Set(changes)].sort();
    diagnostics.push(
      diag(
        'MM_SERVICEENTRY_LABEL_FIXED',
        object,
        `${changes.length} endpoint label(s) of ${s.host} were not valid Kubernetes labels and were fixed or dropped: ${distinct.slice(0, 3).join('; ')}${distinct.length > 3 ? `; and ${distinct.length - 3} more` : ''}.`,
      ),
    );
  }

  const annotations: Record<string, string> = { [REGISTRY_LABEL]: s.registries.join(',') };
  if (s.interface !== undefined) annotations['metamesh.io/interface'] = s.interface;
  if (s.application !== undefined) annotations['metamesh.io/application'] = s.application;
  if (s.group !== undefined) annotations['metamesh.io/group'] = s.group;
  if (s.version !== undefined) annotations['metamesh.io/version'] = s.version;
  const serviceEntry: ServiceEntry = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: {
      name,
      namespace,
      labels: { [MANAGED_BY]: 'metamesh', [REGISTRY_LABEL]: fixLabelText(s.registries[0] ?? '') },
      annotations,
    },
    spec: {
      hosts: [s.host],
      ports: [{ number: commonPort(kept.length > 0 ? kept : s.instances), name: portName, protocol: 'TCP' }],
      location: 'MESH_INTERNAL',
      resolution: 'STATIC',
      endpoints,
    },
  };
  return { serviceEntry, diagnostics };
}

/**
 * What a catalog service generated, with the options it was generated with. A catalog service stands
 * for its content (catalogs are not mutated), so the same one with the same options gives the same
 * result: it is reused, ServiceEntry object included, so a consumer can tell by identity that it did
 * not change.
 */
interface Generated {
  readonly options: ServiceEntryOptions;
  readonly serviceEntry: ServiceEntry | undefined;
  readonly diagnostics: readonly Diagnostic[];
  /** `namespace/name`, the sort key. */
  readonly key: string;
}
const generated = new WeakMap<CatalogService, Generated>();

function generateOnce(s: CatalogService, options: ServiceEntryOptions): Generated {
  const before = generated.get(s);
  if (before !== undefined && before.options === options) return before;
  const r = generateServiceEntry(s, options);
  const g: Generated = { options, serviceEntry: r.serviceEntry, diagnostics: r.diagnostics, key: r.serviceEntry ? `${r.serviceEntry.metadata.namespace}/${r.serviceEntry.metadata.name}` : '' };
  generated.set(s, g);
  return g;
}

type GeneratedSet = { serviceEntries: ServiceEntry[]; diagnostics: Diagnostic[] };

/**
 * The last call: its services and options, its result, and for each service the position of its
 * ServiceEntry in the result (-1 for none). A call with the same options and services that differ
 * only at some positions, each generating a ServiceEntry of the same name as before and without
 * diagnostics then or now, gives the same result but for those entries: only they are generated.
 */
let last: { readonly services: readonly CatalogService[]; readonly options: ServiceEntryOptions; readonly result: GeneratedSet; readonly positions: Int32Array } | undefined;

/** Every catalog service's ServiceEntry, sorted by namespace and name, and the diagnostics. */
export function generateServiceEntries(services: readonly CatalogService[], options: ServiceEntryOptions): GeneratedSet {
  const quick = generateChanged(services, options);
  if (quick !== undefined) return quick;
  const made: { g: Generated; at: number }[] = [];
  const diagnostics: Diagnostic[] = [];
  services.forEach((s, at) => {
    const g = generateOnce(s, options);
    if (g.serviceEntry) made.push({ g, at });
    for (const d of g.diagnostics) diagnostics.push(d);
  });
  made.sort((a, b) => (a.g.key < b.g.key ? -1 : a.g.key > b.g.key ? 1 : 0));
  const positions = new Int32Array(services.length).fill(-1);
  made.forEach((m, k) => (positions[m.at] = k));
  const result = { serviceEntries: made.map((m) => m.g.serviceEntry!), diagnostics: normalizeDiagnostics(diagnostics) };
  last = { services, options, result, positions };
  return result;
}

function generateChanged(services: readonly CatalogService[], options: ServiceEntryOptions): GeneratedSet | undefined {
  const m = last;
  if (m === undefined || m.options !== options || m.services.length !== services.length) return undefined;
  let serviceEntries: ServiceEntry[] | undefined;
  for (let i = 0; i < services.length; i++) {
    const s = services[i]!;
    if (s === m.services[i]) continue;
    const before = generated.get(m.services[i]!);
    const g = generateOnce(s, options);
    const at = m.positions[i]!;
    if (at < 0 || before === undefined || before.options !== options || before.diagnostics.length > 0 || g.diagnostics.length > 0 || g.key !== before.key) return undefined;
    (serviceEntries ??= [...m.result.serviceEntries])[at] = g.serviceEntry!;
  }
  const result = serviceEntries === undefined ? m.result : { serviceEntries, diagnostics: m.result.diagnostics };
  last = { ...m, services, result };
  return result;
}
