/**
 * A directory (or several `-f` paths) of YAML manifests as a live source of resources for the
 * Engine. Effects: reads files, watches them.
 *
 * - Watching: a TreeWatcher (watch.ts: one watch per directory, reconciled at every reload) where
 *   fs.watch works, else polling file stats every `pollIntervalMs`; and, whatever the mode, a full
 *   rescan every `rescanIntervalMs` as a safety net. Any event schedules one reload after
 *   `debounceMs` of quiet (editors write a file in several steps; a burst becomes one reload).
 * - A reload lists every path, re-reads every file (unchanged text is not parsed again), runs the
 *   input stage, and diffs the result with the previous one by kind/namespace/name and canonical
 *   JSON: only real upserts and deletes are reported.
 * - Never withdraw on failure (health.ts): every `-f` path and every file has a SourceHealth. A
 *   directory that cannot be listed keeps the files last read from it, unread; a file that cannot
 *   be read (any error but "gone") or does not parse (a YAML syntax error) keeps its last good
 *   content. Each says so with MM_SOURCE_STALE, one log line when it starts and one when it ends,
 *   and on /readyz. A file's removal is believed only when the listing that misses it succeeded,
 *   or reading it says it is gone; a `-f` path that is gone is a failure (it is kept), since
 *   `serve` never starts on one.
 * - Per-resource last known good (last-good.ts) decides, resource by resource, which version is
 *   served when a new one is invalid or unreadable.
 */
import { statSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Diagnostic } from '../model/diagnostics.js';
import type { Options } from '../model/options.js';
import type { ConfigSet } from '../input/read.js';
import { changesOf } from '../pipeline/build.js';
import { objKey, type Change } from '../pipeline/types.js';
import { canonicalJson } from '../util/canonical.js';
import { LastKnownGood } from './last-good.js';
import { listFiles } from './list.js';
import { realFs, SourceFiles, type PathStatus, type SourceFs } from './sources.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../input/limits.js';
import { TreeWatcher, type WatchFunction } from './watch.js';

/** The timer functions the watcher uses; injected by tests. */
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

/** The longest delay a timer takes (2^31-1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A burst of events delays a reload by this much at most (or 10 debounce delays, if longer). */
const MIN_MAX_WAIT_MS = 1000;

/** Default period of the full rescan that catches whatever notifications missed. */
export const DEFAULT_RESCAN_INTERVAL_MS = 30_000;

export interface DirectoryStoreOptions {
  readonly paths: readonly string[];
  readonly logger: Logger;
  readonly debounceMs?: number;
  readonly pollIntervalMs?: number;
  /** Period of the full rescan in 'auto' and 'poll' modes; 0 turns it off. */
  readonly rescanIntervalMs?: number;
  /** 'auto': fs.watch, falling back to polling; 'poll': polling only; 'none': only explicit reload(). */
  readonly watch?: 'auto' | 'poll' | 'none';
  readonly timers?: Timers;
  /** The clock of /readyz's `since` times. */
  readonly now?: () => number;
  /** File-system calls; tests inject failures. */
  readonly fs?: SourceFs;
  /** The input limits every file is read under (defaults: DEFAULT_INPUT_LIMITS). */
  readonly limits?: InputLimits;
  /** fs.watch for one directory; tests inject a fake. */
  readonly fsWatch?: WatchFunction;
}

/** The result of a (re)load: what to apply to the Engine. */
export interface StoreUpdate {
  readonly changes: Change[];
  readonly options: Options;
  readonly optionsChanged: boolean;
  /** All input diagnostics (file reading, YAML, decoding, versions kept) of the current state. */
  readonly diagnostics: Diagnostic[];
  readonly diagnosticsChanged: boolean;
  readonly files: string[];
}

export class DirectoryStore {
  private readonly debounceMs: number;
  private readonly pollIntervalMs: number;
  private readonly rescanIntervalMs: number;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly sources: SourceFiles;
  private readonly ledger = new LastKnownGood();
  private kept = new Set<string>();
  private resources = new Map<string, string>();
  private options: Options | undefined;
  private diagnosticsText = '';
  private watcher: TreeWatcher | undefined;
  private pollHandle: unknown;
  private rescanHandle: unknown;
  private pollSignature = '';
  private debounceHandle: unknown;
  private maxWaitHandle: unknown;
  /** What the store believed handed over before the last load (see rollback()). */
  private beforeLoad: { resources: Map<string, string>; options: Options | undefined; diagnosticsText: string } | undefined;
  private listener: ((u: StoreUpdate) => void) | undefined;
  private closed = false;

  constructor(private readonly opts: DirectoryStoreOptions) {
    this.debounceMs = opts.debounceMs ?? 100;
    this.pollIntervalMs = opts.pollIntervalMs ?? 2000;
    // Timers overflow above 2^31-1 ms (Node then fires every millisecond): such a period is clamped.
    this.rescanIntervalMs = Math.min(opts.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS, MAX_TIMER_MS);
    this.timers = opts.timers ?? realTimers;
    this.log = opts.logger;
    const limits = opts.limits ?? DEFAULT_INPUT_LIMITS;
    this.sources = new SourceFiles(opts.paths, opts.fs ?? realFs(limits), opts.logger, opts.now ?? Date.now, limits);
  }

  /** Reads everything and returns the changes since the previous load (all upserts the first time). */
  load(): StoreUpdate {
    this.beforeLoad = { resources: this.resources, options: this.options, diagnosticsText: this.diagnosticsText };
    const snap = this.sources.read();
    const { read, kept } = this.ledger.resolve(snap.documents, snap.fileOf, snap.empty);
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
   * The consumer could not apply the last update: forget it, so the next reload (a file event or
   * the periodic rescan) hands over the same changes again instead of believing them applied.
   */
  rollback(): void {
    if (!this.beforeLoad) return;
    ({ resources: this.resources, options: this.options, diagnosticsText: this.diagnosticsText } = this.beforeLoad);
    this.beforeLoad = undefined;
  }

  /** The health of every `-f` path and of its files that are not `ok` (for /readyz). */
  status(): PathStatus[] {
    return this.sources.status();
  }

  /**
   * Starts watching; `listener` gets every reload that changed something. Call after the first
   * load(). Errors while reloading are logged, never thrown.
   */
  start(listener: (u: StoreUpdate) => void): void {
    this.listener = listener;
    const mode = this.opts.watch ?? 'auto';
    if (mode === 'none') return;
    if (this.rescanIntervalMs > 0) this.rescanHandle = this.timers.setInterval(() => this.schedule(), this.rescanIntervalMs);
    if (mode === 'auto') {
      this.watcher = new TreeWatcher({ roots: this.opts.paths, onEvent: () => this.schedule(), logger: this.log, watch: this.opts.fsWatch });
      this.watcher.reconcile();
      if (this.watcher.directories().length > 0) return;
      this.log.info({ event: 'watch-fallback' }, `fs.watch unavailable; polling every ${this.pollIntervalMs} ms`);
      this.watcher.close();
      this.watcher = undefined;
    }
    this.startPolling();
  }

  /**
   * Schedules a reload after the debounce delay (restarting the delay if one is pending). A burst
   * that never goes quiet (a file rewritten more often than the delay, the rescan landing inside
   * it) still reloads: at most `maxWaitMs` after its first event.
   */
  schedule(): void {
    if (this.closed) return;
    if (this.debounceHandle !== undefined) this.timers.clearTimeout(this.debounceHandle);
    this.debounceHandle = this.timers.setTimeout(() => this.fire(), this.debounceMs);
    this.maxWaitHandle ??= this.timers.setTimeout(() => this.fire(), Math.max(MIN_MAX_WAIT_MS, 10 * this.debounceMs));
  }

  private fire(): void {
    if (this.debounceHandle !== undefined) this.timers.clearTimeout(this.debounceHandle);
    if (this.maxWaitHandle !== undefined) this.timers.clearTimeout(this.maxWaitHandle);
    this.debounceHandle = undefined;
    this.maxWaitHandle = undefined;
    this.reload();
  }

  close(): void {
    this.closed = true;
    if (this.debounceHandle !== undefined) this.timers.clearTimeout(this.debounceHandle);
    if (this.maxWaitHandle !== undefined) this.timers.clearTimeout(this.maxWaitHandle);
    this.maxWaitHandle = undefined;
    if (this.pollHandle !== undefined) this.timers.clearInterval(this.pollHandle);
    if (this.rescanHandle !== undefined) this.timers.clearInterval(this.rescanHandle);
    this.debounceHandle = undefined;
    this.pollHandle = undefined;
    this.rescanHandle = undefined;
    this.watcher?.close();
  }

  private reload(): void {
    if (this.closed) return;
    // Before reading: a directory deleted and re-created since the last reload is watched again.
    this.watcher?.reconcile();
    let u: StoreUpdate;
    try {
      u = this.load();
    } catch (e) {
      this.log.error({ event: 'reload-failed', err: (e as Error).message }, 'reading the manifests failed; keeping the current state');
      return;
    }
    if (u.changes.length === 0 && !u.optionsChanged && !u.diagnosticsChanged) return;
    this.log.info({ event: 'reload', changes: u.changes.length, optionsChanged: u.optionsChanged, files: u.files.length }, 'manifests reloaded');
    this.listener?.(u);
  }

  /** Logs once when a resource's last valid version starts being kept, and once when it ends. */
  private noteKept(kept: ReadonlyMap<string, string>): void {
    for (const [key, reason] of kept) {
      if (this.kept.has(key)) continue;
      const why = reason === 'invalid' ? 'its new version is invalid' : 'its file did not read cleanly';
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
      const [kind, rest] = splitKey(key);
      const slash = rest.indexOf('/');
      changes.push({ op: 'delete', kind, namespace: rest.slice(0, slash), name: rest.slice(slash + 1) });
    }
    this.resources = next;
    return changes;
  }

  private startPolling(): void {
    if (this.pollHandle !== undefined || this.closed) return;
    this.pollSignature = this.signature();
    this.pollHandle = this.timers.setInterval(() => {
      const sig = this.signature();
      if (sig === this.pollSignature) return;
      this.pollSignature = sig;
      this.schedule();
    }, this.pollIntervalMs);
  }

  /** Names, sizes and modification times of every input file: cheap change detection. */
  private signature(): string {
    const parts: string[] = [];
    for (const f of listFiles(this.opts.paths, [])) {
      try {
        const st = statSync(f);
        parts.push(`${f}\u0000${st.size}\u0000${st.mtimeMs}`);
      } catch {
        parts.push(`${f}\u0000gone`);
      }
    }
    return parts.join('\n');
  }
}

function splitKey(key: string): [string, string] {
  const sp = key.indexOf(' ');
  return [key.slice(0, sp), key.slice(sp + 1)];
}
