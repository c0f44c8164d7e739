/**
 * Dubbo 3 metadata report nodes under `/<root>/metadata`:
 * - `/<root>/metadata/<app>/<revision>`: MetadataInfo JSON `{app, revision, services: {<match key>:
 *   {name, group?, version?, protocol, port, params}}}`, present with `metadata-type=remote` (or
 *   `report-metadata=true`): which interfaces an application revision serves, and how;
 * - `/<root>/metadata/<encoded interface>[/<version>][/<group>]/provider/<app>`: the service
 *   definition an application publishes for an interface (`report-definition`, on by default),
 *   whose `parameters` carry the group and version it is exported with.
 */
import { isObject, isPort, readJsonObject, stringMap } from './json.js';
import { javaUrlDecode } from './java-url.js';
import { joinPath } from './options.js';
import type { ZkIndex } from './tree.js';

export interface ServiceInfo {
  readonly name: string;
  readonly group?: string;
  readonly version?: string;
  readonly protocol: string;
  /** 0 when the document gives none (-1 or absent). */
  readonly port: number;
  readonly params: Readonly<Record<string, string>>;
}

/** The services of an application revision, or undefined when the registry does not hold its document. */
export function readRevision(zk: ZkIndex, root: string, app: string, revision: string): ServiceInfo[] | undefined {
  const path = joinPath(joinPath(joinPath(root, 'metadata'), app), revision);
  if (!zk.has(path)) return undefined;
  const doc = readJsonObject(zk, path, 'a Dubbo MetadataInfo document');
  if (doc === undefined) return [];
  const services = isObject(doc.services) ? doc.services : {};
  const out: ServiceInfo[] = [];
  for (const key of Object.keys(services).sort()) {
    const s = services[key];
    if (!isObject(s) || typeof s.name !== 'string' || typeof s.protocol !== 'string') continue;
    out.push({
      name: s.name,
      ...(typeof s.group === 'string' && s.group !== '' ? { group: s.group } : {}),
      ...(typeof s.version === 'string' && s.version !== '' ? { version: s.version } : {}),
      protocol: s.protocol,
      port: isPort(s.port) ? s.port : 0,
      params: stringMap(s.params),
    });
  }
  return out;
}

/** Decoded interface name → its (encoded) directory under `/<root>/metadata`. */
export type MetadataDirs = ReadonlyMap<string, string>;

/** The directories of `/<root>/metadata`, by decoded name; read once per root, not per interface. */
export function metadataDirs(zk: ZkIndex, root: string): MetadataDirs {
  const dirs = new Map<string, string>();
  for (const n of zk.childrenOf(joinPath(root, 'metadata'))) {
    const name = javaUrlDecode(n);
    if (name !== undefined && !dirs.has(name)) dirs.set(name, n);
  }
  return dirs;
}

export interface GroupVersion {
  readonly group?: string;
  readonly version?: string;
}

/**
 * The (group, version) pairs `app` published service definitions for, for one interface. Empty
 * when it published none (report-definition off): the caller then assumes neither.
 */
export function readDefinitions(zk: ZkIndex, root: string, dirs: MetadataDirs, iface: string, app: string): GroupVersion[] {
  const metadata = joinPath(root, 'metadata');
  const encoded = dirs.get(iface);
  if (encoded === undefined) return [];
  const found = new Map<string, GroupVersion>();
  const walk = (dir: string, depth: number): void => {
    const provider = joinPath(joinPath(dir, 'provider'), app);
    if (zk.has(provider)) {
      const doc = readJsonObject(zk, provider, 'a Dubbo service definition');
      if (doc !== undefined) {
        const p = stringMap(doc.parameters);
        const gv: GroupVersion = { ...(p.group ? { group: p.group } : {}), ...(p.version ? { version: p.version } : {}) };
        found.set(`${gv.group ?? ''}:${gv.version ?? ''}`, gv);
      }
    }
    // Version and group are at most two segments between the interface and `provider`.
    if (depth < 2) for (const c of zk.childrenOf(dir)) if (c !== 'provider' && c !== 'consumer') walk(joinPath(dir, c), depth + 1);
  };
  walk(joinPath(metadata, encoded), 0);
  return [...found.keys()].sort().map((k) => found.get(k)!);
}
