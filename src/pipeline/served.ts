/**
 * The RDS resources the engine currently serves, by name, and the record of what a flush changed:
 * a table whose content is byte-for-byte the same as before is not reported, so proxies are pushed
 * only what really changed.
 */
import type { JsonObject } from '../route/wire.js';

export class ServedRoutes {
  private readonly byName = new Map<string, JsonObject>();
  readonly changed = new Set<string>();
  readonly removed = new Set<string>();

  get(name: string): JsonObject | undefined {
    return this.byName.get(name);
  }

  /** Starts a flush: forgets what the previous one changed. */
  reset(): void {
    this.changed.clear();
    this.removed.clear();
  }

  /** One producer (a host, or the gateway stage) replaced its tables `before` by `after`. */
  replace(before: ReadonlyMap<string, JsonObject> | undefined, after: ReadonlyMap<string, JsonObject>): void {
    for (const [name, wire] of after) {
      const prev = this.byName.get(name);
      if (!prev || JSON.stringify(prev) !== JSON.stringify(wire)) this.changed.add(name);
      this.byName.set(name, wire);
      this.removed.delete(name);
    }
    for (const name of before?.keys() ?? []) {
      if (after.has(name)) continue;
      this.byName.delete(name);
      this.removed.add(name);
      this.changed.delete(name);
    }
  }
}
