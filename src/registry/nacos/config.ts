/**
 * How one Nacos registry is read: `nacos://host:port?namespace=…&group=…` and its bounds. Pure.
 *
 * Query parameters (each may repeat or hold a comma list): `namespace` (ids; default `public`),
 * `group` (default `DEFAULT_GROUP`), `service` and `exclude` (service-name patterns, `*` matches
 * any run of characters; exclude wins), `namespace-target` (where the ServiceEntries go: not the
 * watcher's business, accepted so one URL serves both), and the numbers `pageSize`, `maxServices`,
 * `maxInstancesPerService`, `pollMs` (instance lists re-read), `resyncMs` (service lists and
 * mappings re-read), `timeoutMs` (per request). Unknown parameters are refused, so a typo is not
 * silently ignored.
 */
import { DEFAULT_GROUP, DEFAULT_NAMESPACE } from './read.js';

export interface NacosWatchConfig {
  /** As given, for snapshots, statuses and messages. */
  readonly registry: string;
  /** `http://host:port`. */
  readonly server: string;
  readonly namespaces: readonly string[];
  readonly groups: readonly string[];
  /** Service-name patterns read (all when empty) and never read. */
  readonly services: readonly string[];
  readonly exclude: readonly string[];
  readonly pageSize: number;
  readonly maxServices: number;
  readonly maxInstancesPerService: number;
  readonly pollMs: number;
  readonly resyncMs: number;
  readonly timeoutMs: number;
  /** Instance lists read at once. */
  readonly concurrency: number;
}

/** Nacos answers a v1 instance list with cacheMillis 10000: polling at that pace is what its clients do. */
export const NACOS_DEFAULTS = {
  pageSize: 500,
  maxServices: 20000,
  maxInstancesPerService: 5000,
  pollMs: 10000,
  resyncMs: 60000,
  timeoutMs: 5000,
  concurrency: 8,
} as const;

const NUMBERS = ['pageSize', 'maxServices', 'maxInstancesPerService', 'pollMs', 'resyncMs', 'timeoutMs'] as const;
const LISTS = ['namespace', 'group', 'service', 'exclude', 'namespace-target'] as const;

function list(q: URLSearchParams, key: string): string[] {
  return [...new Set(q.getAll(key).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== ''))].sort();
}

/** The configuration, or a sentence saying what is wrong with the URL. */
export function parseNacosUrl(registry: string): NacosWatchConfig | string {
  let url: URL;
  try {
    url = new URL(registry);
  } catch {
    return `"${registry}" is not a URL; expected nacos://host:port?namespace=…&group=…`;
  }
  if (url.protocol !== 'nacos:') return `"${registry}" is not a nacos:// URL`;
  if (url.hostname === '') return `"${registry}" names no host`;
  for (const key of new Set(url.searchParams.keys())) {
    if (!(LISTS as readonly string[]).includes(key) && !(NUMBERS as readonly string[]).includes(key)) {
      return `"${registry}": unknown parameter "${key}" (known: ${[...LISTS, ...NUMBERS].join(', ')})`;
    }
  }
  const numbers: Record<string, number> = { ...NACOS_DEFAULTS };
  for (const key of NUMBERS) {
    const v = url.searchParams.get(key);
    if (v === null) continue;
    if (!/^\d+$/.test(v) || Number(v) < 1) return `"${registry}": ${key} must be a positive whole number, not "${v}"`;
    numbers[key] = Number(v);
  }
  const namespaces = list(url.searchParams, 'namespace');
  const groups = list(url.searchParams, 'group');
  return {
    registry,
    server: `http://${url.host.includes(':') ? url.host : `${url.host}:8848`}`,
    namespaces: namespaces.length > 0 ? namespaces : [DEFAULT_NAMESPACE],
    groups: groups.length > 0 ? groups : [DEFAULT_GROUP],
    services: list(url.searchParams, 'service'),
    exclude: list(url.searchParams, 'exclude'),
    pageSize: numbers.pageSize!,
    maxServices: numbers.maxServices!,
    maxInstancesPerService: numbers.maxInstancesPerService!,
    pollMs: numbers.pollMs!,
    resyncMs: numbers.resyncMs!,
    timeoutMs: numbers.timeoutMs!,
    concurrency: NACOS_DEFAULTS.concurrency,
  };
}

function pattern(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** Whether a service name matches an include pattern (none = all) and no exclude pattern. */
export function serviceFilter(include: readonly string[], exclude: readonly string[]): (name: string) => boolean {
  const a = include.map(pattern);
  const d = exclude.map(pattern);
  return (name) => (a.length === 0 || a.some((r) => r.test(name))) && !d.some((r) => r.test(name));
}
