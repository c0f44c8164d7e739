/**
 * The registries' last hour, for the dashboard's chart: per registry, one bucket per minute with
 * the longest sync lag seen in it (from a registry change being announced by its watcher to the
 * sync that applied it) and the number of ServiceEntry changes applied for it. Bounded: BUCKETS
 * buckets per registry (a ring), registries as configured, and the ServiceEntry → registries map
 * only as large as the ServiceEntries generated. The clock is the steps' own `nowMs`.
 */
import type { Change } from '../pipeline/types.js';
import { REGISTRY_LABEL } from '../serviceentry/generate.js';

export const BUCKET_MS = 60_000;
export const BUCKETS = 60;

export interface HistoryStep {
  readonly nowMs: number;
  readonly lagMs: Readonly<Record<string, number>>;
  readonly changes: readonly Change[];
}

export interface HistoryPoint {
  /** Start of the minute, ISO 8601. */
  readonly t: string;
  /** Longest change-to-applied lag in that minute; null when no change came. */
  readonly lagMs: number | null;
  /** ServiceEntry changes applied for the registry in that minute. */
  readonly changes: number;
}

interface Bucket {
  minute: number;
  lagMs: number | null;
  changes: number;
}

export class RegistryHistory {
  private readonly rings = new Map<string, Bucket[]>();
  /** ServiceEntry `namespace/name` → the registries it was generated from. */
  private readonly owners = new Map<string, readonly string[]>();

  constructor(registries: readonly string[]) {
    for (const r of registries) this.rings.set(r, []);
  }

  record(step: HistoryStep): void {
    const minute = Math.floor(step.nowMs / BUCKET_MS);
    for (const [registry, lag] of Object.entries(step.lagMs)) {
      const b = this.bucket(registry, minute);
      if (b) b.lagMs = Math.max(b.lagMs ?? 0, lag);
    }
    for (const c of step.changes) {
      for (const registry of this.attribute(c)) {
        const b = this.bucket(registry, minute);
        if (b) b.changes++;
      }
    }
  }

  /** The last hour of `registry`, oldest first, one point per minute (empty minutes included). */
  series(registry: string, nowMs: number): HistoryPoint[] {
    const ring = this.rings.get(registry) ?? [];
    const byMinute = new Map(ring.map((b) => [b.minute, b]));
    const last = Math.floor(nowMs / BUCKET_MS);
    const out: HistoryPoint[] = [];
    for (let m = last - BUCKETS + 1; m <= last; m++) {
      const b = byMinute.get(m);
      out.push({ t: new Date(m * BUCKET_MS).toISOString(), lagMs: b?.lagMs ?? null, changes: b?.changes ?? 0 });
    }
    return out;
  }

  private bucket(registry: string, minute: number): Bucket | undefined {
    const ring = this.rings.get(registry);
    if (!ring) return undefined;
    let b = ring.at(-1);
    if (b === undefined || b.minute !== minute) {
      b = { minute, lagMs: null, changes: 0 };
      ring.push(b);
      while (ring.length > BUCKETS || (ring.length > 0 && ring[0]!.minute <= minute - BUCKETS)) ring.shift();
    }
    return b;
  }

  /** The registries a change is for: from the generated object's annotation, or remembered for a deletion. */
  private attribute(c: Change): readonly string[] {
    if (c.op === 'delete') {
      const key = `${c.namespace}/${c.name}`;
      const owners = this.owners.get(key) ?? [];
      this.owners.delete(key);
      return owners;
    }
    const meta = (c.resource as { metadata?: { namespace?: string; name?: string; annotations?: Record<string, string> } }).metadata;
    const owners = (meta?.annotations?.[REGISTRY_LABEL] ?? '').split(',').filter((r) => this.rings.has(r));
    if (meta?.name !== undefined) this.owners.set(`${meta.namespace ?? ''}/${meta.name}`, owners);
    return owners;
  }
}
