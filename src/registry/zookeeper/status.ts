/** The watcher's RegistryStatus transitions. Pure. */
import type { RegistryState, RegistryStatus } from '../../model/registry.js';

/** The status after `current` moves to `state`, or undefined when nothing visible changes. */
export function nextStatus(current: RegistryStatus, state: RegistryState, error: string | undefined, lastSyncMs: number | undefined): RegistryStatus | undefined {
  if (current.state === state && current.error === error && current.lastSyncMs === lastSyncMs) return undefined;
  return {
    registry: current.registry,
    state,
    ...(lastSyncMs !== undefined ? { lastSyncMs } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}
