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
 */
import { normalizeDiagnostics, type Diagnostic } from '../../model/diagnostics.js';
import type { RegistrySnapshot, ZkTree } from '../../model/registry.js';
import { AppInstances, readApplications, readMappedInterfaces, type AppMemo } from './application-level.js';
import { ServiceCollector, type CollectMemo } from './collect.js';
import { InterfaceApps, InterfaceMemo, readInterfaceLevel } from './interface-level.js';
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

  constructor(options: ZkParseOptions) {
    this.o = resolveZkOptions(options);
  }

  parse(nodes: ZkNodes): RegistrySnapshot {
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
}
