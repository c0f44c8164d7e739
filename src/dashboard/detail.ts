/**
 * The dashboard's drill-down of one service host: its endpoints, the ServiceEntry and the
 * EnvoyFilters as YAML, the route tables as served, and what `metamesh explain` says about it
 * (which MetaRouter applies and why, or why not; which proxies hold which version, with their
 * NACK messages). Pure: it reuses src/explain for every sentence and adds only the objects.
 *
 * Bounded: at most MAX_ENDPOINTS endpoints are listed (with the count left out); the explanation
 * is bounded by src/explain (proxies, NACK messages).
 */
import { stringify } from 'yaml';
import { explainHost } from '../explain/host.js';
import { withProxies } from '../explain/proxies.js';
import type { Explanation } from '../model/explanation.js';
import type { PipelineState } from '../model/pipeline-state.js';
import type { ServiceEntry } from '../model/resources.js';
import type { StreamInfo } from '../xds/stream-info.js';
import { registriesOf } from './services.js';

export const MAX_ENDPOINTS = 500;

export interface EndpointView {
  readonly address: string;
  readonly ports: Readonly<Record<string, number>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly weight: number | null;
}

export interface ServiceDetail {
  readonly host: string;
  /** `ServiceEntry ns/name` (or `Service ns/name`) objects that define the host. */
  readonly definedBy: readonly string[];
  readonly registries: readonly string[];
  readonly endpoints: readonly EndpointView[];
  readonly endpointsOmitted: number;
  /** The ServiceEntries defining the host as metamesh holds them, as YAML (empty for a Service). */
  readonly serviceEntryYaml: string;
  readonly envoyFiltersYaml: string;
  /** The RDS route tables of the host exactly as served (proto3 JSON). */
  readonly routes: readonly unknown[];
  readonly explanation: Explanation;
}

export interface DetailSources {
  readonly state: PipelineState;
  serviceEntry(ref: string): ServiceEntry | undefined;
  readonly streams: readonly StreamInfo[];
  currentVersion(routeConfiguration: string): string | undefined;
}

/** undefined when no MetaProtocol service defines the host (lower-case, no trailing dot). */
export function serviceDetail(host: string, s: DetailSources): ServiceDetail | undefined {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  const defining = s.state.services.filter((v) => v.meta !== undefined && v.hosts.includes(h));
  if (defining.length === 0) return undefined;
  const entries = defining.map((v) => (v.kind === 'ServiceEntry' ? s.serviceEntry(v.ref) : undefined)).filter((e): e is ServiceEntry => e !== undefined);
  const endpoints = entries.flatMap((e) => e.spec.endpoints ?? []);
  const view = s.state.hosts.find((v) => v.model.host === h);
  const explanation = withProxies(explainHost(h, h, s.state), s.streams, (n) => s.currentVersion(n));
  return {
    host: h,
    definedBy: defining.map((v) => v.ref),
    registries: [...new Set(entries.flatMap((e) => registriesOf(e)))].sort(),
    endpoints: endpoints.slice(0, MAX_ENDPOINTS).map((e) => ({ address: e.address ?? '', ports: e.ports ?? {}, labels: e.labels ?? {}, weight: e.weight ?? null })),
    endpointsOmitted: Math.max(0, endpoints.length - MAX_ENDPOINTS),
    serviceEntryYaml: entries.map((e) => stringify(e, { sortMapEntries: false })).join('---\n'),
    envoyFiltersYaml: (view?.envoyFilters ?? []).map((e) => stringify(e)).join('---\n'),
    routes: view?.routes ?? [],
    explanation,
  };
}
