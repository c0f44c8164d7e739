/**
 * The MCP sink of `metamesh serve --mcp`, wired: after every change the engine's generated
 * objects become the store's content (src/mcp/store.ts), which the xDS server's ADS streams serve
 * to istiod (src/mcp/stream.ts). Effects: logging, and the sink's metrics (objects written per
 * kind and operation; an object that cannot be encoded is a write error, counted when it appears).
 *
 * Readiness: the store answers nothing until ready(), which serve calls once every source has
 * been read (the files at start; every registry at least once). istiod's first complete sets are
 * then the real ones, never partial sets that would delete what an istiod already holds from an
 * earlier connection. Until then istiod waits (it is connected, not failing).
 */
import type { Logger } from 'pino';
import type { Diagnostic } from '../model/diagnostics.js';
import type { Options } from '../model/options.js';
import { mcpObjects } from '../mcp/objects.js';
import { McpStore } from '../mcp/store.js';
import { mcpFamily } from '../mcp/stream.js';
import type { Engine } from '../pipeline/engine.js';
import type { Wire } from '../proto/wire.js';
import type { TypeFamily } from '../xds/family.js';
import type { SotwRequest, SotwResponse } from '../xds/sotw.js';
import { SERVED_KINDS } from '../mcp/types.js';
import { recordSinkError, recordSinkWrites, type SinkWrite } from '../metrics/recorders.js';
import type { Metrics } from '../metrics/metrics.js';

export interface McpSinkOptions {
  /** istiod's revision: objects get `istio.io/rev: <revision>`. */
  readonly revision?: string | undefined;
  readonly logger: Logger;
  readonly wire?: Wire;
  readonly metrics?: Pick<Metrics, 'sinks'> | undefined;
}

export class McpSink {
  readonly store: McpStore;
  /** What the xDS server serves on ADS state-of-the-world streams. */
  readonly family: TypeFamily<SotwRequest, SotwResponse>;
  private diagnostics: readonly Diagnostic[] = [];

  constructor(private readonly opts: McpSinkOptions) {
    this.store = new McpStore({ ...(opts.wire ? { wire: opts.wire } : {}), ready: false });
    this.family = mcpFamily(this.store);
  }

  /** The diagnostics of the last sync (objects not served, or served at a last good version). */
  currentDiagnostics(): readonly Diagnostic[] {
    return this.diagnostics;
  }

  /** Makes the engine's current output what istiod gets; open istiod streams get the changed sets. */
  sync(engine: Engine, options: Options): void {
    const { objects, diagnostics } = mcpObjects(engine.output(), {
      domain: options.domain,
      revision: this.opts.revision,
      createTimeOf: (o) => (o.kind === 'ServiceEntry' ? engine.serviceEntryCreated(o.metadata.namespace, o.metadata.name) : undefined),
    });
    const result = this.store.update(objects);
    const all = [...diagnostics, ...result.diagnostics];
    const before = new Set(this.diagnostics.map(key));
    const m = this.opts.metrics;
    for (const d of all) {
      if (before.has(key(d))) continue;
      this.opts.logger.warn({ event: 'diagnostic', code: d.code, object: d.object }, d.message);
      if (m && d.code === 'MM_MCP_NOT_ENCODABLE') recordSinkError(m, 'mcp', d.object.split(' ')[0]!);
    }
    if (m) recordSinkWrites(m, 'mcp', result.writes.flatMap(writesOf));
    this.diagnostics = all;
    if (result.changed.size > 0) this.opts.logger.info({ event: 'mcp-update', collections: [...result.changed].sort(), objects: objects.length }, 'Istio config for istiod updated');
  }

  /** From now on istiod is answered (idempotent). */
  ready(): void {
    if (this.store.ready) return;
    this.store.setReady();
    this.opts.logger.info({ event: 'mcp-ready' }, 'MCP sink ready: istiod gets complete sets from now on');
  }
}

const KIND_OF_COLLECTION = new Map(SERVED_KINDS.map((k) => [k.collection, k.kind]));

function writesOf(w: { collection: string; created: number; updated: number; deleted: number }): SinkWrite[] {
  const kind = KIND_OF_COLLECTION.get(w.collection) ?? w.collection;
  return [
    { kind, operation: 'create', count: w.created },
    { kind, operation: 'update', count: w.updated },
    { kind, operation: 'delete', count: w.deleted },
  ];
}

const key = (d: Diagnostic): string => `${d.code}\u0000${d.object}\u0000${d.message}`;
