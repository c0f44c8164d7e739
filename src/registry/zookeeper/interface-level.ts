/**
 * Dubbo interface-level registrations: `/<root>/<encoded interface>/providers/<encoded provider URL>`,
 * with `/<root>/<encoded interface>/configurators` overrides applied. One service per
 * (interface, group, version); consumers, routers and configurators are not services. All
 * information is in the node names: node data (Curator's default, the writer's IP) is ignored.
 */
import { diag } from '../../model/diagnostics.js';
import type { ServiceCollector } from './collect.js';
import { applicationHead, interfaceHead } from './heads.js';
import { activeOverrides, applyOverrides, type Override } from './configurators.js';
import { parseNodeName } from './dubbo-url.js';
import { javaUrlDecode } from './java-url.js';
import { DEFAULT_WEIGHT, dubboEnabled, dubboLabels, dubboWeight, nonEmpty } from './labels.js';
import { joinPath, protocolFor, type ResolvedZkOptions } from './options.js';
import { zkObject, type ZkIndex } from './tree.js';

/** Which applications the interface-level tree lists as providers of which interfaces. */
export class InterfaceApps {
  private readonly pairs = new Set<string>();
  add(iface: string, app: string): void {
    this.pairs.add(`${iface}\n${app}`);
  }
  has(iface: string, app: string): boolean {
    return this.pairs.has(`${iface}\n${app}`);
  }
}

/** Children of a Dubbo 3 root that are not interfaces: the config center and the metadata report. */
const NON_SERVICE_CHILDREN = new Set(['config', 'mapping', 'metadata']);

/**
 * Adds every provider: to its interface service (level `interface`), or to its application's service
 * (level `application`; there an instance is the application's address, with no per-interface
 * weight or override, and a provider without an `application` parameter is left out).
 */
export function readInterfaceLevel(zk: ZkIndex, o: ResolvedZkOptions, out: ServiceCollector, listed: InterfaceApps): void {
  for (const root of o.roots) {
    for (const encoded of zk.childrenOf(root)) {
      if (NON_SERVICE_CHILDREN.has(encoded)) continue;
      const dir = joinPath(root, encoded);
      const iface = javaUrlDecode(encoded);
      if (iface === undefined || iface.trim() === '') {
        zk.diagnostics.push(diag('MM_REGISTRY_BAD_ENCODING', zkObject(dir), 'The interface directory name is not valid URL encoding; its providers were ignored. Remove the node or register the interface under its encoded name.'));
        continue;
      }
      const overrides = activeOverrides(readUrls(zk, joinPath(dir, 'configurators'), o.maxDataLength));
      const providersDir = joinPath(dir, 'providers');
      for (const { url, name } of readUrls(zk, providersDir, o.maxDataLength)) {
        const object = zkObject(joinPath(providersDir, name));
        if (url.scheme === 'empty') continue;
        if (url.params.category !== undefined && url.params.category !== 'providers') {
          zk.diagnostics.push(diag('MM_REGISTRY_BAD_RECORD', object, `A ${url.params.category} URL sits among the providers; it was ignored.`));
          continue;
        }
        if (url.host === '' || url.port === 0) {
          zk.diagnostics.push(diag('MM_REGISTRY_BAD_RECORD', object, 'The provider URL has no host or no port; it was ignored.'));
          continue;
        }
        // Listed whatever its protocol: the interface-level tree then says all this application serves.
        const app = nonEmpty(url.params.application);
        if (app !== undefined) listed.add(iface, app);
        const protocol = protocolFor(o.schemeProtocols, url.scheme);
        if (protocol === undefined) {
          zk.diagnostics.push(diag('MM_REGISTRY_NOT_METAPROTOCOL', object, `${iface} is served over ${url.scheme}://, which is not a MetaProtocol protocol (Istio handles gRPC and HTTP itself); this provider gets no MetaProtocol service.`));
          continue;
        }
        const params = applyOverrides(overrides, url);
        const namespace = nonEmpty(params.aeraki_meta_app_namespace);
        if (o.level === 'application') {
          if (app !== undefined) out.add(applicationHead(app), { protocol, object, instance: { address: url.host, port: url.port, labels: { application: app }, weight: DEFAULT_WEIGHT, healthy: true, enabled: true } });
          continue;
        }
        out.add(
          interfaceHead(iface, nonEmpty(url.params.group), nonEmpty(url.params.version)),
          {
            protocol,
            object,
            ...(namespace ? { namespace } : {}),
            instance: { address: url.host, port: url.port, labels: dubboLabels(params), weight: dubboWeight(params, object, zk.diagnostics), healthy: true, enabled: dubboEnabled(params) },
          },
        );
      }
    }
  }
}

/** The parsed URLs of a category directory's children; names that are not URLs are reported. */
function readUrls(zk: ZkIndex, dir: string, maxLength: number): Override[] {
  const urls: Override[] = [];
  for (const name of zk.childrenOf(dir)) {
    const object = zkObject(joinPath(dir, name));
    if (name.length > maxLength) {
      zk.diagnostics.push(diag('MM_REGISTRY_OVERSIZED', object, `The node name is ${name.length} characters, over the limit of ${maxLength}; it was ignored.`));
      continue;
    }
    const r = parseNodeName(name);
    if ('url' in r) urls.push({ url: r.url, name });
    else zk.diagnostics.push(diag(r.badEncoding ? 'MM_REGISTRY_BAD_ENCODING' : 'MM_REGISTRY_BAD_RECORD', object, `The node name ${r.error}; it was ignored. Dubbo writes URLs encoded with java.net.URLEncoder.`));
  }
  return urls;
}

