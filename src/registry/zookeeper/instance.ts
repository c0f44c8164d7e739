/**
 * Dubbo 3 application-level instances: `/services/<application>/<ip:port>`, Curator ServiceInstance
 * JSON whose `payload.metadata` carries `dubbo.endpoints` (a JSON string: `[{"port":20880,
 * "protocol":"dubbo"}]`), `dubbo.metadata.revision` and `dubbo.metadata.storage-type`. Fields are
 * read leniently (Jackson's order is no contract, unknown fields are ignored); `enabled` is absent in
 * Curator's default "compatible" encoding and then true.
 */
import { diag } from '../../model/diagnostics.js';
import { isObject, isPort, readJsonObject, stringMap } from './json.js';
import { joinPath, protocolFor } from './options.js';
import { zkObject, type ZkIndex } from './tree.js';

export interface Endpoint {
  readonly protocol: string;
  readonly port: number;
}

export interface AppInstance {
  readonly app: string;
  readonly address: string;
  /** The instance port (the application protocol's, `dubbo` by default); 0 when absent. */
  readonly port: number;
  readonly endpoints: readonly Endpoint[];
  /** `dubbo.metadata.revision`; undefined when absent. */
  readonly revision?: string;
  readonly enabled: boolean;
  readonly object: string;
}

/**
 * The Dubbo instances of one application, sorted by node name. Instances of other frameworks
 * (Spring Cloud Zookeeper shares `/services`) have no Dubbo metadata and are skipped quietly, as are
 * instances with revision `0`, which export no service (Dubbo's consumers skip them too).
 */
export function readAppInstances(zk: ZkIndex, servicesPath: string, app: string): AppInstance[] {
  const out: AppInstance[] = [];
  const dir = joinPath(servicesPath, app);
  for (const id of zk.childrenOf(dir)) {
    const path = joinPath(dir, id);
    const object = zkObject(path);
    const json = readJsonObject(zk, path, 'a Curator ServiceInstance');
    if (json === undefined) continue;
    const payload = isObject(json.payload) ? json.payload : undefined;
    const metadata = stringMap(payload?.metadata);
    const revision = metadata['dubbo.metadata.revision'];
    if (metadata['dubbo.endpoints'] === undefined && revision === undefined) continue;
    if (revision === '0') continue;
    const address = typeof json.address === 'string' ? json.address.trim() : '';
    const port = isPort(json.port) ? json.port : 0;
    const endpoints = readEndpoints(metadata['dubbo.endpoints'], zk, object);
    if (address === '' || (port === 0 && endpoints.length === 0)) {
      zk.diagnostics.push(diag('MM_REGISTRY_BAD_RECORD', object, 'The instance has no address, or neither a port nor dubbo.endpoints; it was ignored.'));
      continue;
    }
    out.push({ app, address, port, endpoints, ...(revision !== undefined ? { revision } : {}), enabled: json.enabled !== false, object });
  }
  return out;
}

function readEndpoints(text: string | undefined, zk: ZkIndex, object: string): Endpoint[] {
  if (text === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const list = Array.isArray(value) ? value : undefined;
  const endpoints: Endpoint[] = [];
  for (const e of list ?? []) if (isObject(e) && typeof e.protocol === 'string' && isPort(e.port)) endpoints.push({ protocol: e.protocol, port: e.port });
  if (list === undefined || endpoints.length !== list.length) {
    zk.diagnostics.push(diag('MM_REGISTRY_BAD_RECORD', object, 'dubbo.endpoints is not a JSON list of {"port", "protocol"} entries; the entries that are not were ignored.'));
  }
  return endpoints.sort((a, b) => (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : a.port - b.port));
}

/**
 * The MetaProtocol endpoint of an instance: the endpoint at the instance port when its protocol is a
 * MetaProtocol one (Dubbo puts its application protocol there), else the first MetaProtocol endpoint;
 * without `dubbo.endpoints`, the instance port is Dubbo's default application protocol, `dubbo`.
 */
export function metaEndpoint(i: AppInstance, protocols: Readonly<Record<string, string>>): { protocol: string; port: number } | undefined {
  if (i.endpoints.length === 0) {
    const dubbo = protocolFor(protocols, 'dubbo');
    return dubbo === undefined ? undefined : { protocol: dubbo, port: i.port };
  }
  const mapped = i.endpoints.filter((e) => protocolFor(protocols, e.protocol) !== undefined);
  const e = mapped.find((x) => x.port === i.port) ?? mapped[0];
  return e && { protocol: protocolFor(protocols, e.protocol)!, port: e.port };
}

/** The port of `scheme` among the instance's endpoints, if it lists it. */
export function endpointPort(i: AppInstance, scheme: string): number | undefined {
  return i.endpoints.find((e) => e.protocol === scheme)?.port;
}
