/**
 * Registries → the ServiceEntries metamesh generates for them, as engine changes. Pure: the
 * catalog step (outage policy) and ServiceEntry generation, then a diff against what was generated
 * before, so the engine gets only real upserts and deletions. The clock is an input.
 */
import { DEFAULT_CATALOG_OPTIONS, EMPTY_CATALOG_STATE, type CatalogOptions, type CatalogState, type Decision } from '../catalog/model.js';
import { step } from '../catalog/step.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { RegistrySnapshot, RegistryStatus } from '../model/registry.js';
import type { ServiceEntry } from '../model/resources.js';
import type { Change } from '../pipeline/types.js';
import { DEFAULT_SERVICEENTRY_OPTIONS, generateServiceEntries, type ServiceEntryOptions } from '../serviceentry/generate.js';
import { sameJson } from '../util/canonical.js';

export interface RegistrySyncOptions {
  readonly catalog: CatalogOptions;
  readonly serviceEntries: ServiceEntryOptions;
}

export const DEFAULT_REGISTRY_SYNC_OPTIONS: RegistrySyncOptions = { catalog: DEFAULT_CATALOG_OPTIONS, serviceEntries: DEFAULT_SERVICEENTRY_OPTIONS };

/** What the previous sync left: the catalog's state and the ServiceEntries generated, by `namespace/name`. */
export interface SyncState {
  readonly catalog: CatalogState;
  readonly generated: ReadonlyMap<string, ServiceEntry>;
}

export const EMPTY_SYNC_STATE: SyncState = { catalog: EMPTY_CATALOG_STATE, generated: new Map() };

export interface SyncResult {
  readonly state: SyncState;
  readonly serviceEntries: ServiceEntry[];
  /** What the engine must apply: generated ServiceEntries that are new or changed, and those gone. */
  readonly changes: Change[];
  readonly diagnostics: Diagnostic[];
  /** What the outage policy decided at this step (src/catalog/step.ts), for /debug/registries. */
  readonly decisions: readonly Decision[];
}

/** `namespace/name` by ServiceEntry, made once per object. */
const keys = new WeakMap<ServiceEntry, string>();

function keyOf(se: ServiceEntry): string {
  let k = keys.get(se);
  if (k === undefined) keys.set(se, (k = `${se.metadata.namespace}/${se.metadata.name}`));
  return k;
}

/**
 * The ServiceEntries (in generation order) each `generated` map was made from. When the next
 * generation differs from them only at some positions, with the same names there, only those are
 * compared: the rest is the same objects, so neither changed nor gone.
 */
const madeFrom = new WeakMap<SyncState['generated'], readonly ServiceEntry[]>();

export function syncRegistries(previous: SyncState, snapshots: readonly RegistrySnapshot[], statuses: readonly RegistryStatus[], options: RegistrySyncOptions, nowMs: number): SyncResult {
  const catalog = step(previous.catalog, snapshots, statuses, options.catalog, nowMs);
  const generated = generateServiceEntries(catalog.catalog.services, options.serviceEntries);
  const diff = diffChanged(previous.generated, generated.serviceEntries) ?? diffAll(previous.generated, generated.serviceEntries);
  // Only a map with one entry per ServiceEntry stands for them position by position.
  if (diff.next.size === generated.serviceEntries.length) madeFrom.set(diff.next, generated.serviceEntries);
  return {
    state: { catalog: catalog.state, generated: diff.next },
    serviceEntries: generated.serviceEntries,
    changes: diff.changes,
    diagnostics: [...catalog.diagnostics, ...generated.diagnostics],
    decisions: catalog.decisions,
  };
}

type Generated = SyncState['generated'];

/** A ServiceEntry is changed when its JSON is (the same object, or equal content, is not). */
function changed(before: ServiceEntry | undefined, se: ServiceEntry): boolean {
  return before === undefined || (before !== se && !sameJson(before, se));
}

function diffAll(previous: Generated, serviceEntries: readonly ServiceEntry[]): { next: Generated; changes: Change[] } {
  const next = new Map<string, ServiceEntry>();
  const changes: Change[] = [];
  for (const se of serviceEntries) {
    const key = keyOf(se);
    if (changed(previous.get(key), se)) changes.push({ op: 'upsert', resource: se });
    next.set(key, se);
  }
  for (const [key, old] of previous) {
    if (!next.has(key)) changes.push({ op: 'delete', kind: 'ServiceEntry', namespace: old.metadata.namespace, name: old.metadata.name });
  }
  return { next, changes };
}

/** The diff when the ServiceEntries differ from those `previous` was made from only at some positions, names kept. */
function diffChanged(previous: Generated, serviceEntries: readonly ServiceEntry[]): { next: Generated; changes: Change[] } | undefined {
  const from = madeFrom.get(previous);
  if (from === undefined || from.length !== serviceEntries.length) return undefined;
  const positions: number[] = [];
  for (let i = 0; i < serviceEntries.length; i++) {
    if (serviceEntries[i] === from[i]) continue;
    if (keyOf(serviceEntries[i]!) !== keyOf(from[i]!)) return undefined;
    positions.push(i);
  }
  if (positions.length === 0) return { next: previous, changes: [] };
  const next = new Map(previous);
  const changes: Change[] = [];
  for (const i of positions) {
    const se = serviceEntries[i]!;
    const key = keyOf(se);
    if (changed(previous.get(key), se)) changes.push({ op: 'upsert', resource: se });
    next.set(key, se);
  }
  return { next, changes };
}
