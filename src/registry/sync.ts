/**
 * Registries → the ServiceEntries metamesh generates for them, as engine changes. Pure: the
 * catalog step (outage policy) and ServiceEntry generation, then a diff against what was generated
 * before, so the engine gets only real upserts and deletions. The clock is an input.
 */
import { DEFAULT_CATALOG_OPTIONS, EMPTY_CATALOG_STATE, type CatalogOptions, type CatalogState } from '../catalog/model.js';
import { step } from '../catalog/step.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { RegistrySnapshot, RegistryStatus } from '../model/registry.js';
import type { ServiceEntry } from '../model/resources.js';
import type { Change } from '../pipeline/types.js';
import { DEFAULT_SERVICEENTRY_OPTIONS, generateServiceEntries, type ServiceEntryOptions } from '../serviceentry/generate.js';
import { canonicalJson } from '../util/canonical.js';

export interface RegistrySyncOptions {
  readonly catalog: CatalogOptions;
  readonly serviceEntries: ServiceEntryOptions;
}

export const DEFAULT_REGISTRY_SYNC_OPTIONS: RegistrySyncOptions = { catalog: DEFAULT_CATALOG_OPTIONS, serviceEntries: DEFAULT_SERVICEENTRY_OPTIONS };

/** What the previous sync left: the catalog's state and the ServiceEntries generated, by key. */
export interface SyncState {
  readonly catalog: CatalogState;
  readonly generated: ReadonlyMap<string, { readonly canonical: string; readonly serviceEntry: ServiceEntry }>;
}

export const EMPTY_SYNC_STATE: SyncState = { catalog: EMPTY_CATALOG_STATE, generated: new Map() };

export interface SyncResult {
  readonly state: SyncState;
  readonly serviceEntries: ServiceEntry[];
  /** What the engine must apply: generated ServiceEntries that are new or changed, and those gone. */
  readonly changes: Change[];
  readonly diagnostics: Diagnostic[];
}

/** `namespace/name` by ServiceEntry, made once per object. */
const keys = new WeakMap<ServiceEntry, string>();

function keyOf(se: ServiceEntry): string {
  let k = keys.get(se);
  if (k === undefined) keys.set(se, (k = `${se.metadata.namespace}/${se.metadata.name}`));
  return k;
}

/** Canonical JSON by ServiceEntry: generation reuses the object of a service that did not change. */
const canonicalOf = new WeakMap<ServiceEntry, string>();

function canonical(se: ServiceEntry): string {
  let c = canonicalOf.get(se);
  if (c === undefined) canonicalOf.set(se, (c = canonicalJson(se)));
  return c;
}

export function syncRegistries(previous: SyncState, snapshots: readonly RegistrySnapshot[], statuses: readonly RegistryStatus[], options: RegistrySyncOptions, nowMs: number): SyncResult {
  const catalog = step(previous.catalog, snapshots, statuses, options.catalog, nowMs);
  const generated = generateServiceEntries(catalog.catalog.services, options.serviceEntries);
  const next = new Map<string, { canonical: string; serviceEntry: ServiceEntry }>();
  const changes: Change[] = [];
  for (const se of generated.serviceEntries) {
    const key = keyOf(se);
    const before = previous.generated.get(key);
    if (before?.serviceEntry === se) {
      next.set(key, before);
      continue;
    }
    const c = canonical(se);
    next.set(key, { canonical: c, serviceEntry: se });
    if (before?.canonical !== c) changes.push({ op: 'upsert', resource: se });
  }
  for (const [key, old] of previous.generated) {
    if (!next.has(key)) changes.push({ op: 'delete', kind: 'ServiceEntry', namespace: old.serviceEntry.metadata.namespace, name: old.serviceEntry.metadata.name });
  }
  return {
    state: { catalog: catalog.state, generated: next },
    serviceEntries: generated.serviceEntries,
    changes,
    diagnostics: [...catalog.diagnostics, ...generated.diagnostics],
  };
}
