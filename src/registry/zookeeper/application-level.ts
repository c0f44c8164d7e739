/**
 * Dubbo 3 application-level discovery: `/<root>/mapping/<interface>` (comma-separated applications),
 * `/services/<app>/<ip:port>` instances, and the metadata report.
 *
 * Interface services from it (level `interface`). Which interfaces an instance serves, with which
 * group, version, protocol and port, is the MetadataInfo of its revision. When the registry holds
 * that document (`/<root>/metadata/<app>/<revision>`, remote metadata) it is used as Dubbo's
 * consumers use it. Otherwise (local metadata, the default) the document is only available by
 * calling the provider, which metamesh does not do; the rule is then:
 *   an application the interface-level tree lists as a provider of the interface (register-mode
 *   `all`) is taken from there alone, exactly; otherwise
 *   an interface is served by every Dubbo instance of every application its mapping node names;
 *   with the group/version pairs of the service definitions that application published for it
 *   (`/<root>/metadata/<interface>/…/provider/<app>`), or with neither when it published none;
 *   over the instance's MetaProtocol endpoint (see metaEndpoint).
 * The rule can be wrong for an instance of an older revision that no longer serves an interface its
 * application still maps; each application it is used for gets an MM_REGISTRY_LOCAL_METADATA note.
 *
 * Application services (level `application`): one per application, with every Dubbo instance under
 * `/services/<app>` and every interface-level provider whose `application` parameter names it.
 */
import { diag, type Diagnostic } from '../../model/diagnostics.js';
import { sameItems, type ServiceCollector } from './collect.js';
import type { InterfaceApps } from './interface-level.js';
import { applicationHead, interfaceHead } from './heads.js';
import { endpointPort, metaEndpoint, readAppInstances, type AppInstance } from './instance.js';
import { DEFAULT_WEIGHT, dubboEnabled, dubboLabels, dubboWeight, nonEmpty } from './labels.js';
import { metadataDirs, readDefinitions, readRevision, type GroupVersion, type ServiceInfo } from './metadata.js';
import { joinPath, protocolFor, type ResolvedZkOptions } from './options.js';
import { zkObject, type ZkIndex } from './tree.js';

/** What an application's instance nodes gave at a read, and from which nodes and data. */
export interface AppRead {
  readonly children: readonly string[];
  readonly data: readonly (string | undefined)[];
  readonly instances: AppInstance[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Application → what its instances gave at the last read. */
export type AppMemo = Map<string, AppRead>;

/**
 * Reads each application's instances once. With `memo` (what the previous read left), an
 * application whose instance nodes and their data are the same as then is not parsed again;
 * `commit()` replaces `memo` by what this read used.
 */
export class AppInstances {
  private readonly cache = new Map<string, AppInstance[]>();
  private readonly used: AppMemo = new Map();
  constructor(
    private readonly zk: ZkIndex,
    private readonly servicesPath: string,
    private readonly memo?: AppMemo,
  ) {}

  of(app: string): AppInstance[] {
    const cached = this.cache.get(app);
    if (cached !== undefined) return cached;
    const dir = joinPath(this.servicesPath, app);
    const children = this.zk.childrenOf(dir);
    const data = children.map((id) => this.zk.nodes.get(joinPath(dir, id)));
    const before = this.memo?.get(app);
    let read: AppRead;
    if (before !== undefined && before.children === children && sameItems(before.data, data)) read = before;
    else {
      const diagnostics: Diagnostic[] = [];
      read = { children, data, instances: readAppInstances(this.zk.reportingTo(diagnostics), this.servicesPath, app), diagnostics };
    }
    for (const d of read.diagnostics) this.zk.diagnostics.push(d);
    this.used.set(app, read);
    this.cache.set(app, read.instances);
    return read.instances;
  }

  apps(): readonly string[] {
    return this.zk.childrenOf(this.servicesPath);
  }

  commit(): void {
    if (!this.memo) return;
    this.memo.clear();
    for (const [k, v] of this.used) this.memo.set(k, v);
  }
}

/** Interface services from the mapping, for the instances the interface-level tree did not list. */
export function readMappedInterfaces(zk: ZkIndex, o: ResolvedZkOptions, apps: AppInstances, out: ServiceCollector, listed: InterfaceApps): void {
  const localRule = new Set<string>();
  for (const root of o.roots) {
    const mappingDir = joinPath(root, 'mapping');
    const dirs = metadataDirs(zk, root);
    // A revision document is shared by every instance of that revision: read it once.
    const revisions = new Map<string, Map<string, ServiceInfo[] | undefined>>();
    const revision = (app: string, rev: string): ServiceInfo[] | undefined => {
      let ofApp = revisions.get(app);
      if (ofApp === undefined) revisions.set(app, (ofApp = new Map()));
      if (!ofApp.has(rev)) ofApp.set(rev, readRevision(zk, root, app, rev));
      return ofApp.get(rev);
    };
    for (const iface of zk.childrenOf(mappingDir)) {
      const data = zk.data(joinPath(mappingDir, iface)) ?? '';
      const mapped = [...new Set(data.split(',').map((s) => s.trim()).filter((s) => s !== ''))].sort();
      for (const app of mapped) {
        const isListed = listed.has(iface, app);
        let pairs: readonly GroupVersion[] | undefined;
        for (const inst of apps.of(app)) {
          const infos = inst.revision === undefined ? undefined : revision(app, inst.revision);
          if (infos !== undefined) {
            addFromRevision(zk, o, out, iface, app, inst, infos);
            continue;
          }
          if (isListed) continue;
          const ep = metaEndpoint(inst, o.schemeProtocols);
          if (ep === undefined) {
            zk.diagnostics.push(diag('MM_REGISTRY_NOT_METAPROTOCOL', inst.object, `${app} lists no endpoint of a MetaProtocol protocol in dubbo.endpoints; this instance gets no MetaProtocol service.`));
            continue;
          }
          localRule.add(app);
          pairs ??= readDefinitions(zk, root, dirs, iface, app);
          for (const gv of pairs.length > 0 ? pairs : [{}]) {
            const params = { application: app, ...(gv.group ? { group: gv.group } : {}), ...(gv.version ? { version: gv.version } : {}) };
            out.add(interfaceHead(iface, gv.group, gv.version), {
              protocol: ep.protocol,
              object: inst.object,
              instance: { address: inst.address, port: ep.port, labels: dubboLabels(params), weight: DEFAULT_WEIGHT, healthy: true, enabled: inst.enabled },
            });
          }
        }
      }
    }
  }
  for (const app of localRule) {
    zk.diagnostics.push(
      diag('MM_REGISTRY_LOCAL_METADATA', zkObject(joinPath(o.servicesPath, app)), `${app} keeps its service metadata in its instances (metadata-type local), so ZooKeeper does not say which interfaces each instance serves; its instances were given every interface the mappings name for ${app}, with the group and version of its service definitions. Set dubbo.application.metadata-type=remote for an exact list.`),
    );
  }
}

/** The instance's services for `iface` as its revision document lists them. */
function addFromRevision(zk: ZkIndex, o: ResolvedZkOptions, out: ServiceCollector, iface: string, app: string, inst: AppInstance, infos: readonly ServiceInfo[]): void {
  for (const info of infos.filter((s) => s.name === iface)) {
    const protocol = protocolFor(o.schemeProtocols, info.protocol);
    if (protocol === undefined) {
      zk.diagnostics.push(diag('MM_REGISTRY_NOT_METAPROTOCOL', inst.object, `${iface} is served over ${info.protocol}, which is not a MetaProtocol protocol (Istio handles gRPC and HTTP itself); this instance gets no MetaProtocol service for it.`));
      continue;
    }
    const port = info.port || endpointPort(inst, info.protocol) || inst.port;
    const params: Record<string, string> = { ...info.params, ...(info.group ? { group: info.group } : {}), ...(info.version ? { version: info.version } : {}), application: app };
    const namespace = nonEmpty(params.aeraki_meta_app_namespace);
    out.add(interfaceHead(iface, info.group, info.version), {
      protocol,
      object: inst.object,
      ...(namespace !== undefined ? { namespace } : {}),
      instance: { address: inst.address, port, labels: dubboLabels(params), weight: dubboWeight(params, inst.object, zk.diagnostics), healthy: true, enabled: inst.enabled && dubboEnabled(params) },
    });
  }
}

/** One service per application under the services path. */
export function readApplications(zk: ZkIndex, o: ResolvedZkOptions, apps: AppInstances, out: ServiceCollector): void {
  for (const app of apps.apps()) {
    for (const inst of apps.of(app)) {
      const ep = metaEndpoint(inst, o.schemeProtocols);
      if (ep === undefined) {
        zk.diagnostics.push(diag('MM_REGISTRY_NOT_METAPROTOCOL', inst.object, `${app} lists no endpoint of a MetaProtocol protocol in dubbo.endpoints; this instance gets no MetaProtocol service.`));
        continue;
      }
      out.add(applicationHead(app), { protocol: ep.protocol, object: inst.object, instance: { address: inst.address, port: ep.port, labels: { application: app }, weight: DEFAULT_WEIGHT, healthy: true, enabled: inst.enabled } });
    }
  }
}

