/**
 * The health of everything the desired objects are computed from (informers, registries, watched
 * files), summarised for the plan. The rule it serves: **nothing is withdrawn because something
 * failed to load**. An input that has never been read makes the desired set incomplete in unknown
 * ways, so nothing at all is written; one that was read but is not current now (a watch that broke,
 * a registry that disconnected: its last good content is still in use) lets creates and updates
 * through but holds every deletion.
 */
import type { RegistryStatus } from '../model/registry.js';
import type { SourceStatus } from '../store/health.js';

/**
 * - `synced`: read completely and current.
 * - `stale`: read completely before, not current now; its last good content is in use.
 * - `unsynced`: never read completely (starting, or failing from the start).
 */
export type InputState = 'synced' | 'stale' | 'unsynced';

export interface InputHealth {
  /** What the input is, for messages: `informer networking.istio.io/ServiceEntry`, a registry URL. */
  readonly name: string;
  readonly state: InputState;
  /** Why it is not synced (the last error), if known. */
  readonly detail?: string;
}

/** A watched file or directory (src/store/health.ts). */
export function fromSourceStatus(s: SourceStatus): InputHealth {
  const state: InputState = s.state === 'ok' ? 'synced' : s.state === 'stale' ? 'stale' : 'unsynced';
  return { name: s.source, state, ...(s.error !== undefined ? { detail: s.error } : {}) };
}

/** A service registry (src/model/registry.ts): stale once it has synced, unsynced before. */
export function fromRegistryStatus(s: RegistryStatus): InputHealth {
  const state: InputState = s.state === 'synced' ? 'synced' : s.lastSyncMs !== undefined ? 'stale' : 'unsynced';
  const detail = s.state === 'synced' ? undefined : [s.state, s.error].filter((x) => x !== undefined).join(': ');
  return { name: s.registry, state, ...(detail !== undefined ? { detail } : {}) };
}

/** The inputs in a given state, sorted by name, each as `name (detail)`. */
export function describeInputs(inputs: readonly InputHealth[], state: InputState): string[] {
  return inputs
    .filter((i) => i.state === state)
    .map((i) => (i.detail ? `${i.name} (${i.detail})` : i.name))
    .sort();
}
