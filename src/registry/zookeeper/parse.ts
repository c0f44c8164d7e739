/**
 * ZooKeeper → RegistrySnapshot: the pure half of the ZooKeeper adapter. The watcher reads the
 * subtrees it is configured for into a ZkTree; this turns it into services. Bad records never
 * throw: each gives a diagnostic and is skipped. Output is sorted (services by key, instances by
 * address and port, diagnostics by object), so it depends on the tree's content only.
 */
import { normalizeDiagnostics, type Diagnostic } from '../../model/diagnostics.js';
import type { RegistrySnapshot, ZkTree } from '../../model/registry.js';
import { AppInstances, readApplications, readMappedInterfaces } from './application-level.js';
import { ServiceCollector } from './collect.js';
import { InterfaceApps, readInterfaceLevel } from './interface-level.js';
import { resolveZkOptions, type ZkParseOptions } from './options.js';
import { readServerSets } from './serverset.js';
import { ZkIndex } from './tree.js';

export function parseZkTree(tree: ZkTree, options: ZkParseOptions): RegistrySnapshot {
  const o = resolveZkOptions(options);
  const diagnostics: Diagnostic[] = [];
  const zk = new ZkIndex(tree, o.maxDataLength, diagnostics);
  const out = new ServiceCollector(o.maxInstancesPerService, diagnostics);
  const apps = new AppInstances(zk, o.servicesPath);
  const listed = new InterfaceApps();
  // Order matters: the first source that lists an address:port for a service gives its instance.
  if (o.level === 'application') {
    readApplications(zk, o, apps, out);
    readInterfaceLevel(zk, o, out, listed);
  } else {
    // Provider URLs carry every parameter and override; the mapping only fills what they lack.
    readInterfaceLevel(zk, o, out, listed);
    readMappedInterfaces(zk, o, apps, out, listed);
  }
  readServerSets(zk, o, out);
  const services = out.finish();
  return { registry: o.registry, services, diagnostics: normalizeDiagnostics(diagnostics) };
}
