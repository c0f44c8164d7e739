/**
 * The store `metamesh serve` reads its configuration from, whatever the sources: files and
 * directories (directory.ts), the Kubernetes API (kubernetes/source.ts), or both. The runtime sees
 * only this class; it never knows which sources fill it.
 *
 * A source (DocumentSource) hands over documents, as files hold them, and says when they changed.
 * The store does the rest, the same way for every source:
 * - a change schedules one reload after `debounceMs` of quiet; a burst that never goes quiet still
 *   reloads at most `maxWait` after its first event (one rebuild per burst);
 * - a reload reads every source, runs the input stage through the per-resource last known good
 *   (last-good.ts: an invalid new version keeps the last valid one), and diffs the result with the
 *   previous one by kind/namespace/name and canonical JSON: only real upserts and deletes go on;
 * - documents with the same kind, namespace and name from two sources are resolved by content, as
 *   two files holding one resource are (MM_INPUT_DUPLICATE), so no source order matters.
 *
 * Never withdraw on failure is each source's part: a source that cannot be read hands over its
 * last good documents (and says so), never fewer.
 */
import type { Logger } from 'pino';
import type { Diagnostic } from '../model/diagnostics.js';
import type { Options } from '../model/options.js';
import type { ConfigSet, SourceDocument } from '../input/read.js';
import { changesOf } from '../pipeline/build.js';
import { objKey, type Change } from '../pipeline/types.js';
import { canonicalJson } from '../util/canonical.js';
import type { SourceStatus } from './health.js';
import { LastKnownGood } from './last-good.js';

/** The timer functions of the stores and sources; injected by tests. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/** Everything a source read in one pass, ready for the input stage. */
export interface Snapshot {
  readonly documents: SourceDocument[];
  /**
   * Where each document was read from (a file; an object of the Kubernetes API). A resource whose
   * document is missing from an origin listed in `empty` keeps its last valid version.
   */
  readonly fileOf: Map<SourceDocument, string>;
  /** Origins that were read cleanly but hold no document. */
  readonly empty: Set<string>;
  readonly diagnostics: Diagnostic[];
  /** The files read (empty for sources that are not files). */
  readonly files: string[];
  /**
   * Option values the source provides beneath any MetameshOptions document (Istio's mesh config
   * read from the cluster): a partial MetameshOptions spec, already checked.
   */
  readonly optionDefaults?: Readonly<Record<string, unknown>>;
}

export function emptySnapshot(): Snapshot {
  return { documents: [], fileOf: new Map(), empty: new Set(), diagnostics: [], files: [] };
}

/** One source of documents. Effects live here (reading, watching); the store only calls them. */
export interface DocumentSource {
  /** The current documents. Never throws for anything the source reads: failures are diagnostics. */
  read(): Snapshot;
  /** Starts noticing changes; `changed` asks the store for a (debounced) reload. */
  start(changed: () => void): void;
  /** The health of each part of the source, for /readyz. */
  status(): SourceStatus[];
  close(): void;
}

/** The result of a (re)load: what to apply to the Engine. */
export interface StoreUpdate {
  readonly changes: Change[];
  readonly options: Options;
  readonly optionsChanged: boolean;
  /** All input diagnostics (reading, YAML, decoding, versions kept) of the current state. */
  readonly diagnostics: Diagnostic[];
  readonly diagnosticsChanged: boolean;
  readonly files: string[];
}

export interface ConfigStoreOptions {
  readonly sources: readonly DocumentSource[];
  readonly logger: Logger;
  readonly debounceMs?: number;
  readonly timers?: Timers;
}

/** A burst of events delays a reload by this much at most (or 10 debounce delays, if longer). */
const MIN_MAX_WAIT_MS = 1000;

export class ConfigStore {
  protected readonly log: Logger;
  protected readonly timers: Timers;
  private readonly debounceMs: number;
  private readonly sources: readonly DocumentSource[];
  private readonly ledger = new LastKnownGood();
  private kept = new Set<string>();
  private resources = new Map<string, string>();
  private options: Options | undefined;
  private diagnosticsText = '';
  private debounceHandle: unknown;
  private maxWaitHandle: unknown;
  /** What the store believed handed over before the last load (see rollback()). */
  private beforeLoad: { resources: Map<string, string>; options: Options | undefined; diagnosticsText: string } | undefined;
  private listener: ((u: StoreUpdate) => void) | undefined;
  protected closed = false;

  constructor(opts: ConfigStoreOptions) {
    this.sources = opts.sources;
    this.log = opts.logger;
    this.debounceMs = opts.debounceMs ?? 100;
    this.timers = opts.timers ?? realTimers;
  }

  /** Reads everything and returns the changes since the previous load (all upserts the first time). */
  load(): StoreUpdate {
    this.beforeLoad = { resources: this.resources, options: this.options, diagnosticsText: this.diagnosticsText };
    const snap = this.readAll();
    const { read, kept } = this.ledger.resolve(snap.documents, snap.fileOf, snap.empty, snap.optionDefaults);
    this.noteKept(kept);
    const diagnostics = [...snap.diagnostics, ...read.diagnostics];
    const changes = this.diff(read.config);
    const optionsChanged = this.options === undefined || canonicalJson(this.options) !== canonicalJson(read.config.options);
    this.options = read.config.options;
    const text = JSON.stringify(diagnostics);
    const diagnosticsChanged = text !== this.diagnosticsText;
    this.diagnosticsText = text;
    return { changes, options: read.config.options, optionsChanged, diagnostics, diagnosticsChanged, files: snap.files };
  }

  /**
   * The consumer could not apply the last update: forget it, so the next reload hands over the
   * same changes again instead of believing them applied.
   */
  rollback(): void {
    if (!this.beforeLoad) return;
    ({ resources: this.resources, options: this.options, diagnosticsText: this.diagnosticsText } = this.beforeLoad);
    this.beforeLoad = undefined;
  }

  /** The health of every part of every source (for /readyz). */
  status(): SourceStatus[] {
    return this.sources.flatMap((s) => s.status());
  }

  /**
   * Starts every source; `listener` gets every reload that changed something. Call after the first
   * load(). Errors while reloading are logged, never thrown.
   */
  start(listener: (u: StoreUpdate) => void): void {
    this.listener = listener;
    for (const s of this.sources) s.start(() => this.schedule());
  }

  /**
   * Schedules a reload after the debounce delay (restarting the delay if one is pending). A burst
   * that never goes quiet (a file rewritten more often than the delay, a stream of watch events)
   * still reloads: at most `maxWaitMs` after its first event.
   */
  schedule(): void {
    if (this.closed) return;
    if (this.debounceHandle !== undefined) this.timers.clearTimeout(this.debounceHandle);
    this.debounceHandle = this.timers.setTimeout(() => this.fire(), this.debounceMs);
    this.maxWaitHandle ??= this.timers.setTimeout(() => this.fire(), Math.max(MIN_MAX_WAIT_MS, 10 * this.debounceMs));
  }

  close(): void {
    this.closed = true;
    if (this.debounceHandle !== undefined) this.timers.clearTimeout(this.debounceHandle);
    if (this.maxWaitHandle !== undefined) this.timers.clearTimeout(this.maxWaitHandle);
    this.debounceHandle = undefined;
    this.maxWaitHandle = undefined;
    for (const s of this.sources) s.close();
  }

  private fire(): void {
    if (this.debounceHandle !== undefined) this.timers.clearTimeout(this.debounceHandle);
    if (this.maxWaitHandle !== undefined) this.timers.clearTimeout(this.maxWaitHandle);
    this.debounceHandle = undefined;
    this.maxWaitHandle = undefined;
    this.reload();
  }

  private reload(): void {
    if (this.closed) return;
    let u: StoreUpdate;
    try {
      u = this.load();
    } catch (e) {
      this.log.error({ event: 'reload-failed', err: (e as Error).message }, 'reading the configuration failed; keeping the current state');
      return;
    }
    if (u.changes.length === 0 && !u.optionsChanged && !u.diagnosticsChanged) return;
    this.log.info({ event: 'reload', changes: u.changes.length, optionsChanged: u.optionsChanged, files: u.files.length }, 'configuration reloaded');
    this.listener?.(u);
  }

  private readAll(): Snapshot {
    if (this.sources.length === 1) return this.sources[0]!.read();
    const all = emptySnapshot();
    let optionDefaults: Record<string, unknown> | undefined;
    for (const s of this.sources) {
      const snap = s.read();
      all.documents.push(...snap.documents);
      for (const [d, f] of snap.fileOf) all.fileOf.set(d, f);
      for (const f of snap.empty) all.empty.add(f);
      all.diagnostics.push(...snap.diagnostics);
      all.files.push(...snap.files);
      if (snap.optionDefaults) optionDefaults = { ...optionDefaults, ...snap.optionDefaults };
    }
    return optionDefaults ? { ...all, optionDefaults } : all;
  }

  /** Logs once when a resource's last valid version starts being kept, and once when it ends. */
  private noteKept(kept: ReadonlyMap<string, string>): void {
    for (const [key, reason] of kept) {
      if (this.kept.has(key)) continue;
      const why = reason === 'invalid' ? 'its new version is invalid' : 'its source did not read cleanly';
      this.log.warn({ event: 'last-good-kept', object: key, reason }, `${key}: ${why}; its last valid version stays in effect`);
    }
    for (const key of this.kept) if (!kept.has(key)) this.log.info({ event: 'last-good-released', object: key }, `${key}: no longer held at its last valid version`);
    this.kept = new Set(kept.keys());
  }

  private diff(config: ConfigSet): Change[] {
    const next = new Map<string, string>();
    const changes: Change[] = [];
    for (const c of changesOf(config)) {
      if (c.op !== 'upsert') continue;
      const r = c.resource;
      const key = objKey(r.kind, r.metadata.namespace, r.metadata.name);
      const canon = canonicalJson(r);
      next.set(key, canon);
      if (this.resources.get(key) !== canon) changes.push(c);
    }
    for (const key of this.resources.keys()) {
      if (next.has(key)) continue;
      const sp = key.indexOf(' ');
      const rest = key.slice(sp + 1);
      const slash = rest.indexOf('/');
      changes.push({ op: 'delete', kind: key.slice(0, sp), namespace: rest.slice(0, slash), name: rest.slice(slash + 1) });
    }
    this.resources = next;
    return changes;
  }
}
