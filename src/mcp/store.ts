/**
 * The MCP sink's content: per collection (`<group>/<Kind>`), the complete set of encoded objects
 * istiod gets. Like the RDS ResourceCache (src/xds/cache.ts), each object is encoded once per
 * distinct content and every stream shares the bytes; unlike it, a collection is always sent
 * whole (istiod deletes what a response leaves out), so changes are reported per collection.
 *
 * Contracts:
 * - update() replaces the whole content: objects absent from it are removed. It is atomic: an
 *   unexpected error (a bug) throws before anything changes. Specs are taken as immutable: the
 *   same spec object with the same metadata is not looked at again (the engine hands back the
 *   same objects for what it did not recompute); an equal spec in a new object is compared as
 *   JSON; only a different one is encoded.
 * - An object whose spec does not fit its Istio message (ProtoJsonError) is never served as
 *   something else: MM_MCP_NOT_ENCODABLE, and its last encodable version stays served (or, if it
 *   never had one, it is absent), as for any resource whose new version is invalid.
 * - update() also counts, per changed collection, the objects created, updated (a new version) and
 *   deleted (the MCP sink's `metamesh_sink_objects_written_total`).
 * - Listeners run synchronously after an update that changed some collection, with the changed
 *   collections; after setReady(), with 'all'. Nothing changed → no call.
 * - Until ready, streams hold their answers (stream.ts): the first complete set istiod receives
 *   is the real one, never an empty one that would delete what it already holds.
 */
import { diag, type Diagnostic } from '../model/diagnostics.js';
import { ProtoJsonError, createWire, type Wire } from '../proto/wire.js';
import { versionInfoOf, type XdsResource } from '../xds/protocol.js';
import { encodeMcpObject } from './encode.js';
import type { McpObject } from './objects.js';

/** Collections whose content changed, or 'all' (the store became ready). */
export type McpChange = ReadonlySet<string> | 'all';
export type McpListener = (change: McpChange) => void;

/** How the objects of one collection changed in an update (for the sink's metrics). */
export interface McpWrites {
  readonly collection: string;
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
}

/** A collection as sent: every object, sorted by name, and the set's version_info. */
export interface McpSet {
  readonly versionInfo: string;
  readonly resources: readonly XdsResource[];
}

interface Entry {
  readonly resource: XdsResource;
  /** The spec object encoded: the same object again (the engine reuses unchanged output) is not even serialised. */
  readonly spec: object;
  /** JSON of the metadata encoded. */
  readonly meta: string;
  /** JSON of the spec encoded: identical input skips the encoder. */
  readonly json: string;
}

export interface McpStoreOptions {
  /** Shared protobuf registry; loaded when not given. */
  readonly wire?: Wire;
  /** Whether streams may be answered at once (default false: call setReady()). */
  readonly ready?: boolean;
}

const EMPTY: McpSet = { versionInfo: versionInfoOf([]), resources: [] };

export class McpStore {
  private readonly wire: Wire;
  private readonly collections = new Map<string, Map<string, Entry>>();
  private readonly sets = new Map<string, McpSet>();
  private readonly listeners = new Set<McpListener>();
  private isReady: boolean;
  private encodes = 0;

  constructor(options: McpStoreOptions = {}) {
    this.wire = options.wire ?? createWire();
    this.isReady = options.ready ?? false;
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** How many times the encoder has run. */
  get encodeCount(): number {
    return this.encodes;
  }

  /** From now on streams are answered; every open MCP stream sends its first complete sets. */
  setReady(): void {
    if (this.isReady) return;
    this.isReady = true;
    for (const l of [...this.listeners]) l('all');
  }

  subscribe(listener: McpListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The complete set of a collection (empty for a collection metamesh has nothing of). */
  set(collection: string): McpSet {
    let s = this.sets.get(collection);
    if (!s) {
      const entries = this.collections.get(collection);
      if (!entries || entries.size === 0) return EMPTY;
      const resources = [...entries.values()].map((e) => e.resource).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      s = { versionInfo: versionInfoOf(resources.map((r) => [r.name, r.version] as const)), resources };
      this.sets.set(collection, s);
    }
    return s;
  }

  /** Replaces the whole content with `objects`; returns what changed and the encoding diagnostics. */
  update(objects: readonly McpObject[]): { changed: Set<string>; diagnostics: Diagnostic[]; writes: McpWrites[] } {
    const diagnostics: Diagnostic[] = [];
    const next = new Map<string, Map<string, Entry>>();
    for (const o of objects) {
      const collection = o.served.collection;
      const prev = this.collections.get(collection)?.get(o.name);
      const entry = this.prepare(o, prev, diagnostics);
      if (!entry) continue;
      let m = next.get(collection);
      if (!m) next.set(collection, (m = new Map()));
      m.set(o.name, entry);
    }
    const changed = new Set<string>();
    const writes: McpWrites[] = [];
    for (const collection of new Set([...this.collections.keys(), ...next.keys()])) {
      const before = this.collections.get(collection) ?? new Map<string, Entry>();
      const after = next.get(collection) ?? new Map<string, Entry>();
      let created = 0;
      let updated = 0;
      let deleted = 0;
      for (const [n, e] of after) {
        const b = before.get(n);
        if (!b) created++;
        else if (b.resource.version !== e.resource.version) updated++;
      }
      for (const n of before.keys()) if (!after.has(n)) deleted++;
      if (created + updated + deleted > 0) {
        changed.add(collection);
        writes.push({ collection, created, updated, deleted });
      }
    }
    this.collections.clear();
    for (const [c, m] of next) this.collections.set(c, m);
    for (const c of changed) this.sets.delete(c);
    if (changed.size > 0) for (const l of [...this.listeners]) l(changed);
    return { changed, diagnostics, writes };
  }

  private prepare(o: McpObject, prev: Entry | undefined, diagnostics: Diagnostic[]): Entry | undefined {
    const meta = JSON.stringify([o.served.bodyType, o.labels, o.annotations, o.createTime ?? null]);
    if (prev && prev.meta === meta && prev.spec === o.spec) return prev;
    const json = JSON.stringify(o.spec);
    if (prev && prev.meta === meta && prev.json === json) return { ...prev, spec: o.spec };
    this.encodes++;
    try {
      const encoded = encodeMcpObject(o, this.wire);
      // Same bytes from different JSON text (key order): keep the shared resource object.
      const resource = prev && prev.resource.version === encoded.version ? prev.resource : encoded;
      return { resource, spec: o.spec, meta, json };
    } catch (e) {
      if (!(e instanceof ProtoJsonError)) throw e;
      const [namespace, name] = o.name.split('/') as [string, string];
      const kept = prev ? `its last encodable version (${prev.resource.version}) stays served` : 'it is not sent to istiod';
      diagnostics.push(diag('MM_MCP_NOT_ENCODABLE', { kind: o.served.kind, namespace, name }, `does not fit ${o.served.bodyType}: ${e.message}; ${kept}.`));
      return prev;
    }
  }
}
