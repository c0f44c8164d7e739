/**
 * `--registry` values: which registries to read and how. Pure: a URL string in, a typed config or
 * a sentence saying what is wrong out (a usage error). Secrets (a ZooKeeper digest password) stay
 * in the config and are never printed: `redacted()` is what logs and messages show.
 *
 *   zookeeper://[user:password@]host:port[,host:port…][/chroot][?root=/dubbo&services=/services&serverset=/path&level=interface|application&protocol=thrift&namespace=ns]
 *   nacos://host:port[?namespace=public&group=DEFAULT_GROUP&service=…&exclude=…] (src/registry/nacos/config.ts)
 *   file:///path/to/snapshot.yaml
 */
import { parseNacosUrl, type NacosWatchConfig } from './nacos/config.js';
import type { ZkAddress } from './zookeeper/address.js';

export interface ZookeeperRegistryConfig {
  readonly kind: 'zookeeper';
  /** As given, without the password. */
  readonly name: string;
  /** `host:port` list, as node-zookeeper-client takes it (with the chroot). */
  readonly connect: string;
  readonly chroot: string;
  readonly auth?: { readonly user: string; readonly password: string };
  /** Dubbo roots (default `/dubbo`). */
  readonly roots: readonly string[];
  /** Dubbo 3 application-level (Curator) roots (default `/services` when Dubbo roots are read). */
  readonly services: readonly string[];
  /** Finagle/Aurora ServerSet paths. */
  readonly serverSets: readonly string[];
  /** One ServiceEntry per interface (Dubbo's own granularity) or per application (Dubbo 3). */
  readonly level: 'interface' | 'application';
  /** The MetaProtocol protocol of ServerSet members (default thrift). */
  readonly serverSetProtocol: string;
  /** Namespace of the ServiceEntries, unless the registry names one. */
  readonly namespace?: string;
}

export interface NacosRegistryConfig {
  readonly kind: 'nacos';
  readonly name: string;
  /** What the Nacos watcher reads and how (src/registry/nacos/config.ts parses the URL). */
  readonly watch: NacosWatchConfig;
}

export interface FileRegistryConfig {
  readonly kind: 'file';
  readonly name: string;
  readonly path: string;
}

export type RegistryConfig = ZookeeperRegistryConfig | NacosRegistryConfig | FileRegistryConfig;

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const ZK_PATH = /^(\/[^/\s]+)+$|^\/$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The registry of `value`, or the reason it is not one. */
export function parseRegistry(value: string): RegistryConfig | { readonly error: string } {
  const scheme = /^([a-z]+):\/\//.exec(value)?.[1];
  if (scheme === 'file') {
    const path = value.slice('file://'.length);
    return path === '' ? { error: 'file:// needs a path, e.g. file:///etc/metamesh/registry.yaml' } : { kind: 'file', name: value, path };
  }
  if (scheme !== 'zookeeper' && scheme !== 'nacos') {
    return { error: `${JSON.stringify(redact(value))} is not a registry URL; use zookeeper://host:port, nacos://host:port or file://path` };
  }
  const rest = value.slice(scheme.length + 3);
  const q = rest.indexOf('?');
  const authority = q < 0 ? rest : rest.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  return scheme === 'zookeeper' ? zookeeper(value, authority, params) : nacos(value);
}

function zookeeper(value: string, authority: string, params: URLSearchParams): ZookeeperRegistryConfig | { error: string } {
  const at = authority.lastIndexOf('@');
  const credentials = at < 0 ? undefined : authority.slice(0, at);
  const hostsAndPath = at < 0 ? authority : authority.slice(at + 1);
  const slash = hostsAndPath.indexOf('/');
  const hosts = slash < 0 ? hostsAndPath : hostsAndPath.slice(0, slash);
  const chroot = slash < 0 ? '' : hostsAndPath.slice(slash);
  if (hosts === '' || !hosts.split(',').every((h) => validHostPort(h))) return { error: `${redact(value)}: give host:port (several separated by commas)` };
  if (chroot !== '' && !ZK_PATH.test(chroot)) return { error: `${redact(value)}: the chroot ${JSON.stringify(chroot)} is not a ZooKeeper path like /metamesh` };
  let auth: ZookeeperRegistryConfig['auth'];
  if (credentials !== undefined) {
    const colon = credentials.indexOf(':');
    if (colon <= 0) return { error: `${redact(value)}: digest credentials are user:password@` };
    auth = { user: decodeURIComponent(credentials.slice(0, colon)), password: decodeURIComponent(credentials.slice(colon + 1)) };
  }
  const known = new Set(['root', 'services', 'serverset', 'level', 'protocol', 'namespace']);
  const unknown = [...params.keys()].filter((k) => !known.has(k));
  if (unknown.length > 0) return { error: `${redact(value)}: unknown parameter ${unknown[0]} (known: ${[...known].join(', ')})` };
  const roots = params.getAll('root');
  const services = params.getAll('services');
  const serverSets = params.getAll('serverset');
  for (const p of [...roots, ...services, ...serverSets]) if (!ZK_PATH.test(p)) return { error: `${redact(value)}: ${JSON.stringify(p)} is not a ZooKeeper path like /dubbo` };
  const level = params.get('level') ?? 'interface';
  if (level !== 'interface' && level !== 'application') return { error: `${redact(value)}: level must be interface or application, not ${JSON.stringify(level)}` };
  const namespace = params.get('namespace') ?? undefined;
  if (namespace !== undefined && !DNS_LABEL.test(namespace)) return { error: `${redact(value)}: namespace ${JSON.stringify(namespace)} is not a namespace name` };
  const protocol = params.get('protocol') ?? 'thrift';
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(protocol)) return { error: `${redact(value)}: protocol ${JSON.stringify(protocol)} is not a protocol name like thrift` };
  return {
    kind: 'zookeeper',
    name: redact(value),
    connect: `${hosts}${chroot}`,
    chroot,
    ...(auth ? { auth } : {}),
    roots: roots.length > 0 || services.length > 0 || serverSets.length > 0 ? roots : ['/dubbo'],
    services: services.length > 0 ? services : roots.length > 0 || serverSets.length === 0 ? ['/services'] : [],
    serverSets,
    level,
    serverSetProtocol: protocol,
    ...(namespace !== undefined ? { namespace } : {}),
  };
}

function nacos(value: string): NacosRegistryConfig | { error: string } {
  const watch = parseNacosUrl(value);
  return typeof watch === 'string' ? { error: watch } : { kind: 'nacos', name: value, watch };
}

function validHostPort(s: string): boolean {
  const m = HOST_PORT.exec(s);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
}

/** The URL with any password replaced by `***`, for logs and messages. */
export function redact(value: string): string {
  return value.replace(/^([a-z]+:\/\/[^:@/]+):[^@/]*@/, '$1:***@');
}

/** What the ZooKeeper watcher mirrors for a registry: every root with its kind. */
export function zkAddressOf(c: ZookeeperRegistryConfig): ZkAddress {
  return {
    connect: c.connect,
    ...(c.auth ? { digest: `${c.auth.user}:${c.auth.password}` } : {}),
    roots: [
      ...c.roots.map((path) => ({ path, kind: 'dubbo' as const })),
      ...c.services.map((path) => ({ path, kind: 'services' as const })),
      ...c.serverSets.map((path) => ({ path, kind: 'serverset' as const })),
    ],
  };
}
