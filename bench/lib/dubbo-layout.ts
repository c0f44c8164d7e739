/**
 * The synthetic Dubbo estate of bench/registry-sync.ts: N interfaces, each served by P providers,
 * written the way Dubbo 3.3.6 writes them (registry-facts.md §1.4, §1.5, §2.2–2.6, N.5).
 *
 * - Interfaces `org.example.s<i>.DemoService<i>`, version `1.0.0`; every third has group `g<i mod 4>`.
 * - Applications `app-<a>` serve 10 interfaces each; application `a` has P instances at
 *   `10.<a div 256>.<a mod 256>.<j+1>`, all on port 20880, so each interface has P providers.
 * - Provider URL: the exact parameter set a 3.3.6 provider registers (sorted keys, `java.net.URLEncoder`
 *   encoding of the whole URL), `service-name-mapping=true` in register-mode `all`.
 */

export const INTERFACES_PER_APP = 10;
export const DUBBO_PORT = 20880;
const RELEASE = '3.3.6';
const METHODS = 'cancelOrder,getOrder,listOrders,placeOrder';

/** `java.net.URLEncoder.encode(s, UTF-8)`: unreserved `A-Z a-z 0-9 . - * _`, space as `+`, upper-case hex. */
export function javaUrlEncode(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+');
}

export interface Iface {
  readonly index: number;
  readonly name: string;
  readonly group?: string;
  readonly version: string;
  readonly app: string;
  readonly appIndex: number;
}

export function iface(i: number): Iface {
  const appIndex = Math.floor(i / INTERFACES_PER_APP);
  return { index: i, name: `org.example.s${i}.DemoService${i}`, ...(i % 3 === 0 ? { group: `g${i % 4}` } : {}), version: '1.0.0', app: `app-${appIndex}`, appIndex };
}

/** The host metamesh gives the interface (dubbo2istio naming), which is also its ServiceEntry name. */
export function hostOf(f: Iface): string {
  return [f.name, f.group, f.version.replaceAll('.', '-')].filter((x) => x !== undefined).join('-').toLowerCase();
}

export function appInstanceIp(appIndex: number, j: number): string {
  return `10.${(appIndex >> 8) & 255}.${appIndex & 255}.${j + 1}`;
}

/** An address no populated provider uses, for the n-th provider added by the change loop. */
export function extraIp(n: number): string {
  return `10.255.${(n >> 8) & 255}.${n & 255}`;
}

/** A provider's export time: fixed per application instance, like a real restart time. */
function timestamp(appIndex: number, j: number): string {
  return String(1_795_972_910_937 + appIndex * 1000 + j);
}

/** The decoded provider URL, parameters in ascending key order as Dubbo's URL.toFullString() writes them. */
export function providerUrl(f: Iface, ip: string, ts: string, mode: 'interface' | 'all'): string {
  const params: Record<string, string> = {
    application: f.app,
    deprecated: 'false',
    dubbo: '2.0.2',
    dynamic: 'true',
    generic: 'false',
    ...(f.group !== undefined ? { group: f.group } : {}),
    interface: f.name,
    methods: METHODS,
    'prefer.serialization': 'hessian2,fastjson2',
    release: RELEASE,
    revision: f.version,
    ...(mode === 'all' ? { 'service-name-mapping': 'true' } : {}),
    side: 'provider',
    timestamp: ts,
    version: f.version,
  };
  const query = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  return `dubbo://${ip}:${DUBBO_PORT}/${f.name}?${query}`;
}

/** The znode name Dubbo gives that URL. */
export function providerNode(f: Iface, ip: string, ts: string, mode: 'interface' | 'all'): string {
  return javaUrlEncode(providerUrl(f, ip, ts, mode));
}

export function providerNodeOf(f: Iface, j: number, mode: 'interface' | 'all'): string {
  return providerNode(f, appInstanceIp(f.appIndex, j), timestamp(f.appIndex, j), mode);
}

/** The FullServiceDefinition a provider publishes (report-definition, default on). */
function definition(f: Iface): string {
  const methods = METHODS.split(',').map((m) => ({ annotations: [], name: m, parameterTypes: ['java.lang.String'], parameters: [], returnType: 'java.lang.String' }));
  return JSON.stringify({
    annotations: [],
    canonicalName: f.name,
    codeSource: `file:/opt/${f.app}/lib/api.jar`,
    methods,
    parameters: { release: RELEASE, application: f.app, ...(f.group ? { group: f.group } : {}), version: f.version, interface: f.name, dubbo: '2.0.2', side: 'provider', methods: METHODS, deprecated: 'false', generic: 'false', revision: f.version, 'prefer.serialization': 'hessian2,fastjson2', dynamic: 'true' },
    types: [{ enums: [], items: [], properties: {}, type: 'java.lang.String' }],
    uniqueId: `${f.name}@file:/opt/${f.app}/lib/api.jar`,
  });
}

/** A Curator ServiceInstance of an application instance (register-mode `all` or `instance`). */
function appInstanceJson(appIndex: number, j: number): string {
  const app = `app-${appIndex}`;
  const ip = appInstanceIp(appIndex, j);
  const ts = timestamp(appIndex, j);
  const urlParams = JSON.stringify({ 'prefer.serialization': 'hessian2,fastjson2', version: '1.0.0', dubbo: '2.0.2', release: RELEASE, side: 'provider', port: String(DUBBO_PORT), protocol: 'dubbo' });
  return JSON.stringify({
    name: app,
    id: `${ip}:${DUBBO_PORT}`,
    address: ip,
    port: DUBBO_PORT,
    sslPort: null,
    payload: {
      '@class': 'org.apache.dubbo.registry.zookeeper.ZookeeperInstance',
      id: `${ip}:${DUBBO_PORT}`,
      name: app,
      metadata: {
        'dubbo.endpoints': JSON.stringify([{ port: DUBBO_PORT, protocol: 'dubbo' }]),
        'dubbo.metadata-service.url-params': urlParams,
        'dubbo.metadata.revision': (0x10000000 + appIndex).toString(16).padStart(32, 'a'),
        'dubbo.metadata.storage-type': 'local',
        'meta-v': '1.0.0',
        timestamp: ts,
      },
    },
    registrationTimeUTC: Number(ts) + 4000,
    serviceType: 'DYNAMIC',
    uriSpec: null,
  });
}

/** One node to create: parents always come before their children in a list. */
export interface NodeSpec {
  readonly path: string;
  readonly data: string;
  readonly ephemeral: boolean;
}

/** Persistent directories with the data Curator gives them (the writer's address). */
function dirs(out: NodeSpec[], seen: Set<string>, path: string): void {
  const parts = path.split('/').filter((p) => p !== '');
  for (let k = 1; k <= parts.length; k++) {
    const p = `/${parts.slice(0, k).join('/')}`;
    if (seen.has(p)) continue;
    seen.add(p);
    out.push({ path: p, data: '127.0.0.1', ephemeral: false });
  }
}

/**
 * Register-mode `interface`: per interface its `providers` (P ephemeral URL nodes) and
 * `configurators` (a provider subscribes to its overrides, which creates it) directories, and the
 * service definition under `metadata/`.
 */
export function interfaceLayout(root: string, n: number, p: number): NodeSpec[] {
  const out: NodeSpec[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const f = iface(i);
    const dir = `${root}/${javaUrlEncode(f.name)}`;
    dirs(out, seen, `${dir}/providers`);
    dirs(out, seen, `${dir}/configurators`);
    for (let j = 0; j < p; j++) out.push({ path: `${dir}/providers/${providerNodeOf(f, j, 'interface')}`, data: '127.0.0.1', ephemeral: true });
    definitionNode(out, seen, root, f);
  }
  return out;
}

function definitionNode(out: NodeSpec[], seen: Set<string>, root: string, f: Iface): void {
  const dir = [root, 'metadata', f.name, f.version, f.group, 'provider'].filter((x) => x !== undefined).join('/');
  dirs(out, seen, dir);
  out.push({ path: `${dir}/${f.app}`, data: definition(f), ephemeral: false });
}

function instanceNodes(out: NodeSpec[], seen: Set<string>, servicesRoot: string, apps: number, p: number): void {
  for (let a = 0; a < apps; a++) {
    dirs(out, seen, `${servicesRoot}/app-${a}`);
    for (let j = 0; j < p; j++) out.push({ path: `${servicesRoot}/app-${a}/${appInstanceIp(a, j)}:${DUBBO_PORT}`, data: appInstanceJson(a, j), ephemeral: true });
  }
}

/**
 * What register-mode `all` adds to an interface-level tree: the interface → application mapping
 * (`<root>/mapping/<interface>`) and every application instance under the services root.
 */
export function allModeAdditions(root: string, servicesRoot: string, n: number, p: number): NodeSpec[] {
  const out: NodeSpec[] = [];
  // The root exists: the interface-level tree is under it.
  const seen = new Set<string>([root]);
  dirs(out, seen, `${root}/mapping`);
  for (let i = 0; i < n; i++) out.push({ path: `${root}/mapping/${iface(i).name}`, data: iface(i).app, ephemeral: false });
  instanceNodes(out, seen, servicesRoot, Math.ceil(n / INTERFACES_PER_APP), p);
  return out;
}

/** Register-mode `instance`: mapping, service definitions and application instances; no providers directories. */
export function instanceLayout(root: string, servicesRoot: string, n: number, p: number): NodeSpec[] {
  const out: NodeSpec[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) definitionNode(out, seen, root, iface(i));
  out.push(...allModeAdditions(root, servicesRoot, n, p).filter((s) => !seen.has(s.path)));
  return out;
}

/** The interface-level instance metadata a 3.3.6 provider registers in Nacos (registry-facts.md N.5.5). */
export function nacosMetadata(f: Iface, j: number): Record<string, string> {
  return {
    application: f.app,
    category: 'providers',
    deprecated: 'false',
    dubbo: '2.0.2',
    dynamic: 'true',
    generic: 'false',
    ...(f.group !== undefined ? { group: f.group } : {}),
    interface: f.name,
    methods: METHODS,
    path: f.name,
    'prefer.serialization': 'hessian2,fastjson2',
    protocol: 'dubbo',
    release: RELEASE,
    revision: f.version,
    side: 'provider',
    timestamp: timestamp(f.appIndex, j),
    version: f.version,
  };
}

/** Dubbo's Nacos service name: `providers:<interface>:<version>:<group>`, both colons always. */
export function nacosServiceName(f: Iface): string {
  return `providers:${f.name}:${f.version}:${f.group ?? ''}`;
}
