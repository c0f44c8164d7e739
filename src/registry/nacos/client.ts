/**
 * The Nacos v1 Open API calls the watcher makes, over plain HTTP (Node's fetch). Effectful.
 *
 * Why not the `nacos` npm client: it never delivers an empty instance list (the last instance going
 * away is invisible), a second concurrent read of a service not yet loaded can wait forever, its
 * errors surface through console.error instead of the caller, it has no service-list call, and it
 * needs UDP push or its own polling anyway. Four GET endpoints do all the watcher needs.
 */

/** A failed call: `unreachable` when no HTTP answer came (refused, reset, timed out). */
export class NacosCallError extends Error {
  constructor(
    message: string,
    readonly unreachable: boolean,
  ) {
    super(message);
  }
}

export interface ServicePage {
  /** The total number of services in the namespace and group. */
  readonly count: number;
  readonly names: readonly string[];
}

export interface ConfigPage {
  readonly total: number;
  readonly items: readonly { readonly dataId: string; readonly group: string; readonly content: string }[];
}

export interface NacosApi {
  listServices(namespace: string, group: string, pageNo: number, pageSize: number): Promise<ServicePage>;
  /** The raw `hosts` of the service, every cluster and health state. */
  listInstances(namespace: string, group: string, name: string): Promise<unknown[]>;
  /** Configs of group `mapping` (Dubbo 3 interface → applications). */
  listMappings(namespace: string, pageNo: number, pageSize: number): Promise<ConfigPage>;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** `server` is `http://host:port`; every call gives up after `timeoutMs`. */
export function httpNacosApi(server: string, timeoutMs: number): NacosApi {
  async function get(path: string, query: Record<string, string>): Promise<unknown> {
    const url = `${server}/nacos${path}?${new URLSearchParams(query).toString()}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw new NacosCallError(`GET ${path} got no answer from ${server}: ${(e as Error).cause ?? (e as Error).message}`, true);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) throw new NacosCallError(`GET ${path} answered HTTP ${res.status}: ${text.slice(0, 200)}`, false);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new NacosCallError(`GET ${path} answered something that is not JSON: ${text.slice(0, 200)}`, false);
    }
  }

  return {
    async listServices(namespace, group, pageNo, pageSize) {
      const body = await get('/v1/ns/service/list', { pageNo: String(pageNo), pageSize: String(pageSize), groupName: group, namespaceId: namespace });
      if (!isObject(body) || typeof body.count !== 'number' || !Array.isArray(body.doms)) {
        throw new NacosCallError('GET /v1/ns/service/list answered without "count" and "doms"', false);
      }
      return { count: body.count, names: body.doms.filter((d): d is string => typeof d === 'string') };
    },
    async listInstances(namespace, group, name) {
      const body = await get('/v1/ns/instance/list', { serviceName: `${group}@@${name}`, namespaceId: namespace, clusters: '', healthyOnly: 'false' });
      if (!isObject(body)) throw new NacosCallError(`GET /v1/ns/instance/list for ${name} answered without an object`, false);
      return Array.isArray(body.hosts) ? body.hosts : [];
    },
    async listMappings(namespace, pageNo, pageSize) {
      // The config API names the public namespace with the empty tenant.
      const tenant = namespace === 'public' ? '' : namespace;
      const body = await get('/v1/cs/configs', { search: 'blur', dataId: '', group: 'mapping', tenant, pageNo: String(pageNo), pageSize: String(pageSize) });
      if (!isObject(body) || !Array.isArray(body.pageItems)) throw new NacosCallError('GET /v1/cs/configs answered without "pageItems"', false);
      const items = body.pageItems.filter(isObject).map((i) => ({ dataId: String(i.dataId ?? ''), group: String(i.group ?? ''), content: String(i.content ?? '') }));
      return { total: typeof body.totalCount === 'number' ? body.totalCount : items.length, items };
    },
  };
}
