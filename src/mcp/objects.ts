/**
 * What the MCP sink serves, as plain data: the pipeline's generated objects (ServiceEntries,
 * EnvoyFilters, VirtualServices) turned into MCP objects for istiod. Pure.
 *
 * - Name: `<namespace>/<name>` (istiod splits it on its one '/'); an object whose namespace or
 *   name is empty or holds a '/' cannot be named and is left out with MM_MCP_NOT_SERVED.
 * - Labels and annotations as generated; with a revision, `istio.io/rev: <revision>` is added to
 *   every object that does not carry that label already (istiod skips objects labelled with
 *   another revision, and takes unlabelled ones whatever its revision).
 * - create_time: the source object's creationTimestamp when known (a re-served ServiceEntry keeps
 *   the age its owner gave it, so Istio's oldest-wins rules rank it as before); none otherwise.
 * - Hosts: over MCP, istiod resolves a short host (no dot) in the object's namespace without the
 *   cluster domain (`foo` → `foo.<ns>`, where Kubernetes config gives `foo.<ns>.svc.<domain>`).
 *   So the hosts istiod resolves — a VirtualService's hosts and destination hosts — are
 *   qualified here exactly as istiod would qualify them from Kubernetes, and mean the same through
 *   both sinks. ServiceEntry hosts are literal in Istio (never resolved, from any source) and are
 *   served as written. EnvoyFilters hold no host istiod resolves (listener names carry addresses;
 *   the MetaProtocol configuration inside the patches is opaque to istiod).
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { OutputObject } from '../model/output.js';
import { SERVED_KINDS, type ServedKind } from './types.js';

export const REVISION_LABEL = 'istio.io/rev';

export interface McpObjectOptions {
  /** Cluster DNS domain, to qualify short host names (MetameshOptions `domain`). */
  readonly domain: string;
  /** istiod's revision, for a revisioned control plane; no label when undefined. */
  readonly revision?: string | undefined;
  /** The creationTimestamp of the object a generated one stands for, when known (RFC 3339). */
  readonly createTimeOf?: ((o: OutputObject) => string | undefined) | undefined;
}

/** One object as istiod will read it, before encoding (encode.ts). */
export interface McpObject {
  readonly served: ServedKind;
  /** `<namespace>/<name>`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly createTime: string | undefined;
  /** The spec, proto3 JSON of `served.bodyType`. */
  readonly spec: Readonly<Record<string, unknown>>;
}

export interface GeneratedObjects {
  readonly serviceEntries: readonly OutputObject[];
  readonly envoyFilters: readonly OutputObject[];
  readonly virtualServices: readonly OutputObject[];
}

export function mcpObjects(output: GeneratedObjects, options: McpObjectOptions): { objects: McpObject[]; diagnostics: Diagnostic[] } {
  const objects: McpObject[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  const byKind = new Map(SERVED_KINDS.map((s) => [s.kind, s]));
  for (const o of [...output.serviceEntries, ...output.envoyFilters, ...output.virtualServices]) {
    const ref = { kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name };
    const served = byKind.get(o.kind);
    if (!served) {
      diagnostics.push(diag('MM_MCP_NOT_SERVED', ref, `is a ${o.kind}, a kind the MCP sink does not serve; it is not sent to istiod.`));
      continue;
    }
    const { namespace, name } = o.metadata;
    if (!namespace || !name || namespace.includes('/') || name.includes('/')) {
      diagnostics.push(diag('MM_MCP_NOT_SERVED', ref, 'cannot be named <namespace>/<name> for istiod (a part is empty or holds a "/"); it is not sent to istiod.'));
      continue;
    }
    const key = `${served.collection} ${namespace}/${name}`;
    if (seen.has(key)) {
      diagnostics.push(diag('MM_MCP_NOT_SERVED', ref, 'is generated twice; only the first is sent to istiod.'));
      continue;
    }
    seen.add(key);
    const labels = { ...(o.metadata.labels ?? {}) };
    if (options.revision !== undefined && labels[REVISION_LABEL] === undefined) labels[REVISION_LABEL] = options.revision;
    const spec = o.kind === 'VirtualService' ? qualifyVirtualService(o.spec, namespace, options.domain) : o.spec;
    objects.push({
      served,
      name: `${namespace}/${name}`,
      labels,
      annotations: { ...(o.metadata.annotations ?? {}) },
      createTime: rfc3339(options.createTimeOf?.(o)),
      spec,
    });
  }
  return { objects, diagnostics };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** A timestamp protobuf's Timestamp JSON takes; anything else is no create_time (not an error). */
function rfc3339(t: string | undefined): string | undefined {
  return t !== undefined && RFC3339.test(t) && !Number.isNaN(Date.parse(t)) ? t : undefined;
}

/**
 * Istio's short-name rule as istiod applies it to Kubernetes config (pilot's
 * ResolveShortnameToFQDN with the cluster domain): a host without a dot that is not `*` becomes
 * `<host>.<namespace>.svc.<domain>`; IP addresses have dots and stay as written.
 */
export function qualifyHost(host: string, namespace: string, domain: string): string {
  if (host === '' || host === '*' || host.includes('.') || host.includes(':')) return host;
  return `${host}.${namespace}.svc.${domain}`;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * A copy of a VirtualService spec with every host istiod resolves qualified: `hosts`, and the
 * destination hosts of http routes, mirrors, tcp and tls routes (the fields pilot's
 * resolveVirtualServiceShortnames rewrites). Anything else is copied as is.
 */
export function qualifyVirtualService(spec: Json, namespace: string, domain: string): Json {
  const q = (h: unknown): unknown => (typeof h === 'string' ? qualifyHost(h, namespace, domain) : h);
  const destination = (d: unknown): unknown => (isObject(d) && 'host' in d ? { ...d, host: q(d.host) } : d);
  const routes = (rs: unknown): unknown => (Array.isArray(rs) ? rs.map((r) => (isObject(r) && 'destination' in r ? { ...r, destination: destination(r.destination) } : r)) : rs);
  const out: Json = { ...spec };
  if (Array.isArray(spec.hosts)) out.hosts = spec.hosts.map(q);
  if (Array.isArray(spec.http)) {
    out.http = spec.http.map((h) => {
      if (!isObject(h)) return h;
      const r: Json = { ...h };
      if ('route' in h) r.route = routes(h.route);
      if ('mirror' in h) r.mirror = destination(h.mirror);
      if ('mirrors' in h) r.mirrors = routes(h.mirrors);
      return r;
    });
  }
  for (const k of ['tcp', 'tls'] as const) {
    if (Array.isArray(spec[k])) out[k] = list(spec[k]).map((t) => (isObject(t) && 'route' in t ? { ...t, route: routes(t.route) } : t));
  }
  return out;
}
