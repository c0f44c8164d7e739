/**
 * Snapshot cache of one xDS resource type (RDS: envoy.config.route.v3.RouteConfiguration).
 *
 * Contracts:
 * - Each resource is encoded ONCE per distinct content with the strict encoder; every stream
 *   shares the resulting bytes. `encodeCount` counts encoder calls (it grows with content
 *   changes, never with the number of subscribers).
 * - A resource's version is the content hash of its bytes, so equal content has equal versions,
 *   across calls and across process restarts.
 * - Input JSON is proto3 JSON; a top-level '@type' is stripped (it must equal the cache's type
 *   URL), and `name` must equal the key it is stored under.
 * - Updates are atomic: if any entry fails to encode, the method throws and nothing changes.
 * - Listeners run synchronously after each committed update that changed something, with the
 *   names whose version changed (added or modified) and the names removed. Nothing changed →
 *   no call. Listeners must not throw and must not update the cache re-entrantly.
 */
import { createWire, encodeRouteConfiguration, type Wire } from '../proto/wire.js';
import { ROUTE_CONFIGURATION_TYPE_URL } from '../route/wire.js';
import { contentVersion, type XdsResource } from './protocol.js';

export type CacheListener = (changed: ReadonlySet<string>, removed: ReadonlySet<string>) => void;

export interface CacheChange {
  readonly changed: ReadonlySet<string>;
  readonly removed: ReadonlySet<string>;
}

/**
 * Folds a later change into an accumulated one: names are unioned, and for a name both changed
 * and removed the later event wins. Used where notifications wait (a blocked stream, a queued
 * fan-out delivery).
 */
export function foldChange(into: { readonly changed: Set<string>; readonly removed: Set<string> }, changed: Iterable<string>, removed: Iterable<string>): void {
  for (const n of changed) {
    into.changed.add(n);
    into.removed.delete(n);
  }
  for (const n of removed) {
    into.removed.add(n);
    into.changed.delete(n);
  }
}

interface Entry {
  readonly resource: XdsResource;
  /** JSON.stringify of the input (without '@type'): identical input skips the encoder. */
  readonly json: string;
}

export interface CacheOptions {
  readonly typeUrl?: string;
  /** Encodes resource JSON ('@type' already stripped). Defaults to the strict RouteConfiguration encoder. */
  readonly encode?: (json: object) => Uint8Array;
}

export class ResourceCache {
  readonly typeUrl: string;
  private readonly encodeFn: (json: object) => Uint8Array;
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<CacheListener>();
  private encodes = 0;

  constructor(options: CacheOptions = {}) {
    this.typeUrl = options.typeUrl ?? ROUTE_CONFIGURATION_TYPE_URL;
    if (options.encode) {
      this.encodeFn = options.encode;
    } else {
      let wire: Wire | undefined;
      this.encodeFn = (json) => encodeRouteConfiguration(json, (wire ??= createWire()));
    }
  }

  /** How many times the encoder has run. */
  get encodeCount(): number {
    return this.encodes;
  }

  get size(): number {
    return this.entries.size;
  }

  get(name: string): XdsResource | undefined {
    return this.entries.get(name)?.resource;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** Registers a listener; returns its unsubscribe function. */
  subscribe(listener: CacheListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replaces the whole content: names absent from `entries` are removed. */
  setResources(entries: ReadonlyMap<string, object>): CacheChange {
    const removed = [...this.entries.keys()].filter((n) => !entries.has(n));
    return this.update(entries, removed);
  }

  upsert(name: string, json: object): CacheChange {
    return this.update(new Map([[name, json]]), []);
  }

  remove(name: string): CacheChange {
    return this.update(new Map(), [name]);
  }

  /**
   * Batch update: upserts `upserts`, removes `removals` (unknown names are ignored; a name in
   * both is upserted). One listener call for the whole batch. E.g. after `engine.flush()`:
   * upserts = the delta's changedRoutes looked up in `engine.output().routes`, removals =
   * removedRoutes.
   */
  update(upserts: ReadonlyMap<string, object>, removals: Iterable<string>): CacheChange {
    const staged = new Map<string, Entry>();
    for (const [name, json] of upserts) {
      const entry = this.prepare(name, json);
      if (entry) staged.set(name, entry);
    }
    const changed = new Set<string>();
    const removed = new Set<string>();
    for (const [name, entry] of staged) {
      const prev = this.entries.get(name);
      this.entries.set(name, entry);
      if (prev?.resource.version !== entry.resource.version) changed.add(name);
    }
    for (const name of removals) {
      if (upserts.has(name)) continue;
      if (this.entries.delete(name)) removed.add(name);
    }
    if (changed.size > 0 || removed.size > 0) {
      for (const l of [...this.listeners]) l(changed, removed);
    }
    return { changed, removed };
  }

  /** Encodes `json` unless it is textually identical to what is stored; undefined = unchanged. */
  private prepare(name: string, json: object): Entry | undefined {
    const { '@type': type, ...rest } = json as Record<string, unknown>;
    if (type !== undefined && type !== this.typeUrl) {
      throw new Error(`resource ${name}: '@type' ${String(type)} is not ${this.typeUrl}`);
    }
    if (rest.name !== name) throw new Error(`resource stored as ${name} is named ${String(rest.name)}`);
    const text = JSON.stringify(rest);
    const prev = this.entries.get(name);
    if (prev && prev.json === text) return undefined;
    this.encodes++;
    const bytes = this.encodeFn(rest);
    const version = contentVersion(bytes);
    // Same bytes from different JSON text (e.g. key order): keep the old resource object.
    if (prev && prev.resource.version === version) return { resource: prev.resource, json: text };
    return { resource: Object.freeze({ name, version, bytes }), json: text };
  }
}

/** Indexes pipeline output routes (`engine.output().routes`) by name, for `setResources`. */
export function routesByName(routes: readonly object[]): Map<string, object> {
  const m = new Map<string, object>();
  for (const r of routes) m.set(String((r as { name?: unknown }).name), r);
  return m;
}
