/**
 * `generate`'s registries: each read once, completely, through the same feeds `serve` watches with
 * (src/runtime/registries.ts).
 */
import type { RegistryConfig } from '../registry/config.js';
import { EMPTY_SYNC_STATE, syncRegistries, type RegistrySyncOptions, type SyncResult } from '../registry/sync.js';
import { openRegistry, type RegistryFeed } from './registries.js';

/**
 * `generate`: reads every registry once. Resolves when each is synced, or rejects after
 * `timeoutMs` naming the registries that are not (a clear message, never a partial result).
 */
export async function readRegistriesOnce(configs: readonly RegistryConfig[], sync: RegistrySyncOptions, timeoutMs: number): Promise<SyncResult> {
  const feeds: RegistryFeed[] = [];
  let wake: () => void = () => {};
  try {
    for (const c of configs) feeds.push(openRegistry(c, () => wake()));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pending = feeds.filter((f) => f.status().state !== 'synced' || f.snapshot() === undefined);
      if (pending.length === 0) break;
      const failing = pending.filter((f) => f.final === true);
      const why = (list: RegistryFeed[]) => list.map((f) => `${f.name} (${f.status().state}${f.status().error ? `: ${f.status().error}` : ''})`).join('; ');
      if (failing.length > 0) throw new Error(`registry cannot be read: ${why(failing)}`);
      if (Date.now() >= deadline) throw new Error(`registry not read within ${timeoutMs / 1000} s: ${why(pending)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(200, Math.max(1, deadline - Date.now())));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return syncRegistries(EMPTY_SYNC_STATE, feeds.map((f) => f.snapshot()!), feeds.map((f) => f.status()), sync, Date.now());
  } finally {
    for (const f of feeds) f.close();
  }
}
