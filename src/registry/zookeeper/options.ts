/** What the ZooKeeper parsers read and how: plain data, with defaults. */

export interface ServerSetPath {
  /** The ServerSet group path, e.g. `/aurora/www-data/prod/hello`. */
  readonly path: string;
  /** The service host; default: the path's segments reversed and joined with dots (`hello.prod.www-data.aurora`). */
  readonly host?: string;
  /** The MetaProtocol protocol of its members; default: ZkParseOptions.serverSetProtocol. */
  readonly protocol?: string;
  /** An `additionalEndpoints` name to use instead of `serviceEndpoint` (Finagle's `!endpoint`). */
  readonly endpoint?: string;
}

export interface ZkParseOptions {
  /** The registry, as configured; becomes RegistrySnapshot.registry. */
  readonly registry: string;
  /** Dubbo roots (`dubbo.registry.group`), default `['/dubbo']`; `/` is a root too. */
  readonly roots?: readonly string[];
  /** Curator service-discovery base path of Dubbo 3 application-level instances, default `/services`. */
  readonly servicesPath?: string;
  /** One service per interface (with group and version), or one per Dubbo 3 application. Default `interface`. */
  readonly level?: 'interface' | 'application';
  /** Dubbo URL scheme or endpoint protocol → MetaProtocol protocol; default {@link DEFAULT_SCHEME_PROTOCOLS}. */
  readonly schemeProtocols?: Readonly<Record<string, string>>;
  readonly serverSets?: readonly ServerSetPath[];
  /** Default MetaProtocol protocol of ServerSet members, `thrift`. */
  readonly serverSetProtocol?: string;
  /** Node data (and node names) longer than this many characters are ignored unread. */
  readonly maxDataLength?: number;
  /** Instances kept per service; the rest (in sorted order) are dropped with a diagnostic. */
  readonly maxInstancesPerService?: number;
}

/**
 * Only Dubbo's own wire protocol is a MetaProtocol protocol. Triple (`tri://`) and `grpc://` are
 * gRPC over HTTP/2, `rest://`/`http://` are HTTP: Istio routes them natively and the Dubbo codec cannot
 * decode them. Dubbo's `thrift://` adds its own header to Thrift, so it is not plain `thrift` either.
 */
export const DEFAULT_SCHEME_PROTOCOLS: Readonly<Record<string, string>> = { dubbo: 'dubbo' };

/** ZooKeeper's own limit on node data is 1 MB (jute.maxbuffer); Dubbo's records are far smaller. */
export const DEFAULT_MAX_DATA_LENGTH = 256 * 1024;
export const DEFAULT_MAX_INSTANCES_PER_SERVICE = 10_000;

export interface ResolvedZkOptions {
  readonly registry: string;
  readonly roots: readonly string[];
  readonly servicesPath: string;
  readonly level: 'interface' | 'application';
  readonly schemeProtocols: Readonly<Record<string, string>>;
  readonly serverSets: readonly ServerSetPath[];
  readonly serverSetProtocol: string;
  readonly maxDataLength: number;
  readonly maxInstancesPerService: number;
}

export function resolveZkOptions(o: ZkParseOptions): ResolvedZkOptions {
  return {
    registry: o.registry,
    roots: [...new Set((o.roots ?? ['/dubbo']).map(normalizePath))].sort(),
    servicesPath: normalizePath(o.servicesPath ?? '/services'),
    level: o.level ?? 'interface',
    schemeProtocols: o.schemeProtocols ?? DEFAULT_SCHEME_PROTOCOLS,
    serverSets: [...(o.serverSets ?? [])].map((s) => ({ ...s, path: normalizePath(s.path) })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    serverSetProtocol: o.serverSetProtocol ?? 'thrift',
    maxDataLength: o.maxDataLength ?? DEFAULT_MAX_DATA_LENGTH,
    maxInstancesPerService: o.maxInstancesPerService ?? DEFAULT_MAX_INSTANCES_PER_SERVICE,
  };
}

/**
 * The MetaProtocol protocol a Dubbo scheme or endpoint protocol maps to. Own keys only: a registry
 * writes the names, and `constructor://` or an endpoint protocol `__proto__` must map to nothing.
 */
export function protocolFor(map: Readonly<Record<string, string>>, name: string): string | undefined {
  return Object.hasOwn(map, name) ? map[name] : undefined;
}

/** `/a/b` for `a/b/`, `/a//b`…; `/` stays `/`. */
export function normalizePath(p: string): string {
  const parts = p.split('/').filter((s) => s !== '');
  return `/${parts.join('/')}`;
}

/** `root` + `/` + `name`, for a root that may be `/`. */
export function joinPath(root: string, name: string): string {
  return root === '/' ? `/${name}` : `${root}/${name}`;
}
