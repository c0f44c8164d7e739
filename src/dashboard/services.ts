/**
 * The dashboard's services table: one row per MetaProtocol host and port, searched, sorted and
 * paged on the server, so the page only ever holds one page (10,000 services cost the browser
 * nothing more than 10). Pure: the engine's PipelineState and a ServiceEntry lookup in, rows out.
 */
import type { PipelineState } from '../model/pipeline-state.js';
import type { ServiceEntry } from '../model/resources.js';
import { REGISTRY_LABEL } from '../serviceentry/generate.js';

export interface ServiceRow {
  readonly host: string;
  readonly protocol: string;
  readonly port: number;
  /** Endpoints of the ServiceEntry; null for a Kubernetes Service (its endpoints are not read). */
  readonly instances: number | null;
  /** The registries it was generated from; empty for one written by hand. */
  readonly registries: readonly string[];
  /** `ServiceEntry ns/name` or `Service ns/name`. */
  readonly serviceEntry: string;
}

export const SORT_KEYS = ['host', 'protocol', 'port', 'instances', 'registries', 'serviceEntry'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface ServicesQuery {
  /** Case-insensitive substring of host, protocol, registries or ServiceEntry. */
  readonly q?: string | undefined;
  readonly sort?: SortKey | undefined;
  readonly order?: 'asc' | 'desc' | undefined;
  readonly offset: number;
  readonly limit: number;
}

export interface ServicesPage {
  /** Rows in the whole table. */
  readonly total: number;
  /** Rows matching the search. */
  readonly matched: number;
  readonly offset: number;
  readonly limit: number;
  readonly rows: readonly ServiceRow[];
}

export function registriesOf(se: ServiceEntry | undefined): string[] {
  const v = se?.metadata.annotations?.[REGISTRY_LABEL];
  return v === undefined || v === '' ? [] : v.split(',');
}

/** Every MetaProtocol host and port, sorted by host then port. */
export function serviceRows(state: PipelineState, serviceEntry: (ref: string) => ServiceEntry | undefined): ServiceRow[] {
  const rows: ServiceRow[] = [];
  for (const s of state.services) {
    if (!s.meta) continue;
    const se = s.kind === 'ServiceEntry' ? serviceEntry(s.ref) : undefined;
    const registries = registriesOf(se);
    const instances = s.kind === 'ServiceEntry' ? (se?.spec.endpoints?.length ?? 0) : null;
    for (const host of s.meta.hosts) {
      for (const p of s.meta.ports) rows.push({ host, protocol: p.protocol, port: p.number, instances, registries, serviceEntry: s.ref });
    }
  }
  return rows.sort((a, b) => cmp(a.host, b.host) || a.port - b.port || cmp(a.serviceEntry, b.serviceEntry));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function key(r: ServiceRow, k: SortKey): string | number {
  switch (k) {
    case 'registries':
      return r.registries.join(',');
    case 'instances':
      return r.instances ?? -1;
    default:
      return r[k];
  }
}

export function servicesPage(rows: readonly ServiceRow[], query: ServicesQuery): ServicesPage {
  const q = (query.q ?? '').trim().toLowerCase();
  let matched = q === '' ? [...rows] : rows.filter((r) => r.host.includes(q) || r.protocol.includes(q) || r.serviceEntry.toLowerCase().includes(q) || r.registries.some((g) => g.toLowerCase().includes(q)));
  if (query.sort !== undefined && query.sort !== 'host') {
    const k = query.sort;
    // Stable: equal keys keep the host order.
    matched = matched.map((r, i) => ({ r, i })).sort((a, b) => {
      const x = key(a.r, k);
      const y = key(b.r, k);
      return (typeof x === 'number' && typeof y === 'number' ? x - y : cmp(String(x), String(y))) || a.i - b.i;
    }).map((e) => e.r);
  }
  if (query.order === 'desc') matched.reverse();
  return { total: rows.length, matched: matched.length, offset: query.offset, limit: query.limit, rows: matched.slice(query.offset, query.offset + query.limit) };
}
