/**
 * ZooKeeper → RegistrySnapshot: the pure half of the ZooKeeper adapter. The watcher reads the
 * subtrees it is configured for; this turns them into services. Bad records never throw: each gives
 * a diagnostic and is skipped. Output is sorted (services by key, instances by address and port,
 * diagnostics by object), so it depends on the nodes' content only.
 *
 * `parseZkTree` reads a ZkTree once. A `ZkParser` reads the same nodes again and again (the watcher's
 * mirror after each change) and remembers what each interface directory, application and service
 * came to, so an unchanged part is not parsed again and yields the very same objects: its output
 * equals `parseZkTree` of the same nodes, and what did not change can be told by identity.
 *
 * Given the paths that changed since its last read of the same nodes, a ZkParser reads only the
 * interface directories they are in, when that is all that changed and each of their services comes
 * from that directory alone (see update()); anything else is a full read.
 */
import { normalizeDiagnostics, type Diagnostic } from '../../model/diagnostics.js';
import type { RegistrySnapshot, ZkTree } from '../../model/registry.js';
import { AppInstances, readApplications, readMappedInterfaces, type AppMemo } from './application-level.js';
import { gatherService, ServiceCollector, type CollectedService, type CollectMemo } from './collect.js';
import { InterfaceApps, InterfaceMemo, NON_SERVICE_CHILDREN, readInterface, readInterfaceLevel, type DirEntry, type InterfaceUnit } from './interface-level.js';
import { resolveZkOptions, type ResolvedZkOptions, type ZkParseOptions } from './options.js';
import { readServerSets } from './serverset.js';
import { treeNodes, ZkIndex, type ZkNodes } from './tree.js';

export function parseZkTree(tree: ZkTree, options: ZkParseOptions): RegistrySnapshot {
  return new ZkParser(options).parse(treeNodes(tree));
}

export class ZkParser {
  private readonly o: ResolvedZkOptions;
  private readonly interfaces = new InterfaceMemo();
  private readonly apps: AppMemo = new Map();
  private readonly services: CollectMemo = new Map();
  /** The last read: its result, the nodes it read, and each service's position (made when first needed). */
  private last: { readonly snapshot: RegistrySnapshot; readonly nodes: ZkNodes; positions?: Map<string, number> } | undefined;

  constructor(options: ZkParseOptions) {
    this.o = resolveZkOptions(options);
  }

  /**
   * The snapshot of `nodes`. `changed`, when given, names every path whose data or children changed
   * since the previous call with the same `nodes` (ZkMirror.takeChanges()).
   */
  parse(nodes: ZkNodes, changed?: ReadonlySet<string>): RegistrySnapshot {
    if (changed !== undefined && this.last?.nodes === nodes) {
      const updated = this.update(nodes, changed);
      if (updated !== undefined) return updated;
    }
    const snapshot = this.read(nodes);
    this.last = { snapshot, nodes };
    return snapshot;
  }

  private read(nodes: ZkNodes): RegistrySnapshot {
    const o = this.o;
    const diagnostics: Diagnostic[] = [];
    const zk = new ZkIndex(nodes, o.maxDataLength, diagnostics);
    const out = new ServiceCollector(o.maxInstancesPerService, diagnostics);
    const apps = new AppInstances(zk, o.servicesPath, this.apps);
    const listed = new InterfaceApps();
    // Order matters: the first source that lists an address:port for a service gives its instance.
    if (o.level === 'application') {
      readApplications(zk, o, apps, out);
      readInterfaceLevel(zk, o, out, listed, this.interfaces);
    } else {
      // Provider URLs carry every parameter and override; the mapping only fills what they lack.
      readInterfaceLevel(zk, o, out, listed, this.interfaces);
      readMappedInterfaces(zk, o, apps, out, listed);
    }
    readServerSets(zk, o, out);
    apps.commit();
    const services = out.finish(this.services);
    return { registry: o.registry, services, diagnostics: normalizeDiagnostics(diagnostics) };
  }

  /**
   * The previous snapshot with the services of the changed interface directories read again, or
   * undefined when a full read is needed: something else changed (a root's list of interfaces, the
   * mapping, the metadata, application instances, ServerSets), or a changed directory's services are
   * not its own alone (another source adds to them), or the set of its services, the applications
   * it lists, or any diagnostic of it would change. In every other case a full read would give the
   * same snapshot but for these services, so this is that snapshot.
   */
  private update(nodes: ZkNodes, changed: ReadonlySet<string>): RegistrySnapshot | undefined {
    const o = this.o;
    const last = this.last!;
    if (o.level !== 'interface' || o.roots.length !== 1) return undefined;
    const root = o.roots[0]!;
    const prefix = root === '/' ? '/' : `${root}/`;
    const others = [o.servicesPath, ...o.serverSets.map((s) => s.path)].map((p) => (p === '/' ? '/' : `${p}/`));
    const entries = this.interfaces.roots.get(root);
    const dirs = new Set<DirEntry>();
    for (const p of changed) {
      if (!p.startsWith(prefix) || others.some((x) => p.startsWith(x) || `${p}/` === x)) return undefined;
      const [encoded, category, ...rest] = p.slice(prefix.length).split('/');
      if (NON_SERVICE_CHILDREN.has(encoded!) || rest.length > 1 || (category !== undefined && category !== 'providers' && category !== 'configurators')) return undefined;
      const e = entries?.get(encoded!);
      if (e?.unit === undefined) return undefined;
      dirs.add(e);
    }
    const zk = new ZkIndex(nodes, o.maxDataLength, []);
    const units: [DirEntry, InterfaceUnit][] = [];
    const gathered: CollectedService[] = [];
    for (const e of dirs) {
      const before = e.unit!;
      const providers = nodes.childrenOf(e.providersPath);
      const configurators = nodes.childrenOf(e.configuratorsPath);
      if (before.providers === providers && before.configurators === configurators) continue;
      const unit = readInterface(zk, o, e.dir, e.dir.slice(prefix.length), providers, configurators);
      if (before.diagnostics.length > 0 || unit.diagnostics.length > 0 || !sameStrings(before.listed, unit.listed) || before.batches.length !== unit.batches.length) return undefined;
      for (let k = 0; k < unit.batches.length; k++) {
        const b = unit.batches[k]!;
        const was = before.batches[k]!;
        const collected = this.services.get(was.head.key);
        // The service must have come from this directory alone, without a diagnostic.
        if (b.head.key !== was.head.key || collected === undefined || collected.batches.length !== 1 || collected.batches[0] !== was.candidates || collected.diagnostics.length > 0) return undefined;
        const done = gatherService(b.head, [b.candidates], o.maxInstancesPerService);
        if (done.diagnostics.length > 0) return undefined;
        gathered.push(done);
      }
      units.push([e, unit]);
    }
    if (units.length === 0) return last.snapshot;
    const positions = (last.positions ??= new Map(last.snapshot.services.map((s, i) => [s.key, i])));
    const services = [...last.snapshot.services];
    for (const done of gathered) {
      services[positions.get(done.head.key)!] = done.service;
      this.services.set(done.head.key, done);
    }
    for (const [e, unit] of units) e.unit = unit;
    const snapshot: RegistrySnapshot = { registry: o.registry, services, diagnostics: last.snapshot.diagnostics };
    this.last = { snapshot, nodes, positions };
    return snapshot;
  }
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
