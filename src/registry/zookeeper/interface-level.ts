/**
 * Dubbo interface-level registrations: `/<root>/<encoded interface>/providers/<encoded provider URL>`,
 * with `/<root>/<encoded interface>/configurators` overrides applied. One service per
 * (interface, group, version); consumers, routers and configurators are not services. All
 * information is in the node names: node data (Curator's default, the writer's IP) is ignored.
 */
import { diag, type Diagnostic } from '../../model/diagnostics.js';
import type { Candidate, NodeRef, ServiceCollector, ServiceHead } from './collect.js';
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
    this.pairs.add(pairKey(iface, app));
  }
  /** A pair as made by pairKey. */
  addKey(key: string): void {
    this.pairs.add(key);
  }
  has(iface: string, app: string): boolean {
    return this.pairs.has(pairKey(iface, app));
  }
}

function pairKey(iface: string, app: string): string {
  return `${iface}\n${app}`;
}

/** Children of a Dubbo 3 root that are not interfaces: the config center and the metadata report. */
export const NON_SERVICE_CHILDREN: ReadonlySet<string> = new Set(['config', 'mapping', 'metadata']);

/** What one interface directory gives: per service its candidates, the applications it lists, its diagnostics. */
export interface InterfaceUnit {
  /** The `providers` and `configurators` children it was read from (compared by identity). */
  readonly providers: readonly string[];
  readonly configurators: readonly string[];
  readonly batches: readonly { readonly head: ServiceHead; readonly candidates: readonly Candidate[] }[];
  /** The (interface, application) pairs it lists, as InterfaceApps keys. */
  readonly listed: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
}

/** One interface directory as the memo keeps it: its paths (made once) and what it gave last. */
export interface DirEntry {
  readonly dir: string;
  readonly providersPath: string;
  readonly configuratorsPath: string;
  unit: InterfaceUnit | undefined;
  /** The read that last saw the directory. */
  seen: number;
}

/**
 * What the interface directories gave at the last read, by root and encoded name (only node names
 * count: their data is ignored). Kept across reads by a ZkParser: at 10,000 interfaces a read of
 * one change must not build 30,000 paths again, only look up the ones it made before.
 */
export class InterfaceMemo {
  readonly roots = new Map<string, Map<string, DirEntry>>();
  reads = 0;
}

/**
 * Adds every provider: to its interface service (level `interface`), or to its application's service
 * (level `application`; there an instance is the application's address, with no per-interface
 * weight or override, and a provider without an `application` parameter is left out).
 *
 * With `memo` (what the previous reads left), a directory whose `providers` and `configurators`
 * children are the same arrays as then is not parsed again.
 */
export function readInterfaceLevel(zk: ZkIndex, o: ResolvedZkOptions, out: ServiceCollector, listed: InterfaceApps, memo: InterfaceMemo = new InterfaceMemo()): void {
  const read = ++memo.reads;
  for (const root of o.roots) {
    let entries = memo.roots.get(root);
    if (entries === undefined) memo.roots.set(root, (entries = new Map()));
    let visited = 0;
    for (const encoded of zk.childrenOf(root)) {
      if (NON_SERVICE_CHILDREN.has(encoded)) continue;
      let e = entries.get(encoded);
      if (e === undefined) {
        const dir = joinPath(root, encoded);
        entries.set(encoded, (e = { dir, providersPath: joinPath(dir, 'providers'), configuratorsPath: joinPath(dir, 'configurators'), unit: undefined, seen: read }));
      }
      e.seen = read;
      visited++;
      const providers = zk.childrenOf(e.providersPath);
      const configurators = zk.childrenOf(e.configuratorsPath);
      let unit = e.unit;
      if (unit === undefined || unit.providers !== providers || unit.configurators !== configurators) e.unit = unit = readInterface(zk, o, e.dir, encoded, providers, configurators);
      for (const d of unit.diagnostics) zk.diagnostics.push(d);
      for (const k of unit.listed) listed.addKey(k);
      for (const b of unit.batches) out.addBatch(b.head, b.candidates);
    }
    // Directories gone since the last read are forgotten.
    if (entries.size > visited) for (const [k, e] of entries) if (e.seen !== read) entries.delete(k);
  }
}

/** One interface directory: `/<root>/<encoded interface>` with its providers and overrides. */
export function readInterface(parent: ZkIndex, o: ResolvedZkOptions, dir: string, encoded: string, providers: readonly string[], configurators: readonly string[]): InterfaceUnit {
  const diagnostics: Diagnostic[] = [];
  const zk = parent.reportingTo(diagnostics);
  const byKey = new Map<string, { head: ServiceHead; candidates: Candidate[] }>();
  const apps = new Set<string>();
  const add = (head: ServiceHead, c: Candidate): void => {
    const b = byKey.get(head.key);
    if (b === undefined) byKey.set(head.key, { head, candidates: [c] });
    else b.candidates.push(c);
  };
  const iface = javaUrlDecode(encoded);
  if (iface === undefined || iface.trim() === '') {
    diagnostics.push(diag('MM_REGISTRY_BAD_ENCODING', zkObject(dir), 'The interface directory name is not valid URL encoding; its providers were ignored. Remove the node or register the interface under its encoded name.'));
    return { providers, configurators, batches: [], listed: [], diagnostics };
  }
  const overrides = activeOverrides(readUrls(zk, joinPath(dir, 'configurators'), configurators, o.maxDataLength));
  // One head per group and version: a directory's providers mostly share one.
  const heads = new Map<string, ServiceHead>();
  // Labels are mostly the same for every provider of a directory: one object each (memory at 100,000 providers).
  const labelSets = new Map<string, Record<string, string>>();
  const labelsOf = (params: Readonly<Record<string, string>>): Record<string, string> => {
    const labels = dubboLabels(params);
    const k = JSON.stringify(labels);
    const known = labelSets.get(k);
    if (known !== undefined) return known;
    labelSets.set(k, labels);
    return labels;
  };
  const headOf = (group: string | undefined, version: string | undefined): ServiceHead => {
    const k = `${group ?? ''}\u0000${version ?? ''}`;
    let h = heads.get(k);
    if (h === undefined) heads.set(k, (h = interfaceHead(iface, group, version)));
    return h;
  };
  const providersDir = joinPath(dir, 'providers');
  for (const { url, name } of readUrls(zk, providersDir, providers, o.maxDataLength)) {
    // Made only for a diagnostic (see Candidate.object).
    const ref: NodeRef = { dir: providersDir, name };
    const object = (): string => zkObject(joinPath(providersDir, name));
    if (url.scheme === 'empty') continue;
    if (url.params.category !== undefined && url.params.category !== 'providers') {
      diagnostics.push(diag('MM_REGISTRY_BAD_RECORD', object(), `A ${url.params.category} URL sits among the providers; it was ignored.`));
      continue;
    }
    if (url.host === '' || url.port === 0) {
      diagnostics.push(diag('MM_REGISTRY_BAD_RECORD', object(), 'The provider URL has no host or no port; it was ignored.'));
      continue;
    }
    // Listed whatever its protocol: the interface-level tree then says all this application serves.
    const app = nonEmpty(url.params.application);
    if (app !== undefined) apps.add(app);
    const protocol = protocolFor(o.schemeProtocols, url.scheme);
    if (protocol === undefined) {
      diagnostics.push(diag('MM_REGISTRY_NOT_METAPROTOCOL', object(), `${iface} is served over ${url.scheme}://, which is not a MetaProtocol protocol (Istio handles gRPC and HTTP itself); this provider gets no MetaProtocol service.`));
      continue;
    }
    const params = applyOverrides(overrides, url);
    const namespace = nonEmpty(params.aeraki_meta_app_namespace);
    if (o.level === 'application') {
      if (app !== undefined) add(applicationHead(app), { protocol, object: ref, instance: { address: url.host, port: url.port, labels: { application: app }, weight: DEFAULT_WEIGHT, healthy: true, enabled: true } });
      continue;
    }
    add(headOf(nonEmpty(url.params.group), nonEmpty(url.params.version)), {
      protocol,
      object: ref,
      ...(namespace ? { namespace } : {}),
      instance: { address: url.host, port: url.port, labels: labelsOf(params), weight: dubboWeight(params, object, diagnostics), healthy: true, enabled: dubboEnabled(params) },
    });
  }
  return { providers, configurators, batches: [...byKey.values()], listed: [...apps].map((a) => pairKey(iface, a)), diagnostics };
}

/** The parsed URLs of a category directory's children; names that are not URLs are reported. */
function readUrls(zk: ZkIndex, dir: string, names: readonly string[], maxLength: number): Override[] {
  const urls: Override[] = [];
  for (const name of names) {
    const object = (): string => zkObject(joinPath(dir, name));
    if (name.length > maxLength) {
      zk.diagnostics.push(diag('MM_REGISTRY_OVERSIZED', object(), `The node name is ${name.length} characters, over the limit of ${maxLength}; it was ignored.`));
      continue;
    }
    const r = parseNodeName(name);
    if ('url' in r) urls.push({ url: r.url, name });
    else zk.diagnostics.push(diag(r.badEncoding ? 'MM_REGISTRY_BAD_ENCODING' : 'MM_REGISTRY_BAD_RECORD', object(), `The node name ${r.error}; it was ignored. Dubbo writes URLs encoded with java.net.URLEncoder.`));
  }
  return urls;
}

