/**
 * A directory (or several `-f` paths) of YAML manifests as a live source of resources for the
 * Engine. Effects: reads files, watches them.
 *
 * The generic part (debounce, per-resource last known good, diff) is ConfigStore's (store.ts);
 * this file is the files-and-directories source (FileSource) and the store of `-f` paths alone.
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
import { listFiles } from './list.js';
import { realFs, SourceFiles, type PathStatus, type SourceFs } from './sources.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../input/limits.js';
import { ConfigStore, realTimers, type DocumentSource, type Snapshot, type Timers } from './store.js';
import { TreeWatcher, type WatchFunction } from './watch.js';

export { realTimers, type StoreUpdate, type Timers } from './store.js';

/** The longest delay a timer takes (2^31-1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

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

/** The `-f` paths as a DocumentSource: read through SourceFiles, watched, polled, rescanned. */
export class FileSource implements DocumentSource {
  private readonly pollIntervalMs: number;
  private readonly rescanIntervalMs: number;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly files: SourceFiles;
  private watcher: TreeWatcher | undefined;
  private pollHandle: unknown;
  private rescanHandle: unknown;
  private pollSignature = '';
  private changed: (() => void) | undefined;
  private closed = false;

  constructor(private readonly opts: DirectoryStoreOptions) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 2000;
    // Timers overflow above 2^31-1 ms (Node then fires every millisecond): such a period is clamped.
    this.rescanIntervalMs = Math.min(opts.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS, MAX_TIMER_MS);
    this.timers = opts.timers ?? realTimers;
    this.log = opts.logger;
    const limits = opts.limits ?? DEFAULT_INPUT_LIMITS;
    this.files = new SourceFiles(opts.paths, opts.fs ?? realFs(limits), opts.logger, opts.now ?? Date.now, limits);
  }

  read(): Snapshot {
    // Before reading: a directory deleted and re-created since the last read is watched again.
    this.watcher?.reconcile();
    return this.files.read();
  }

  status(): PathStatus[] {
    return this.files.status();
  }

  start(changed: () => void): void {
    this.changed = changed;
    const mode = this.opts.watch ?? 'auto';
    if (mode === 'none') return;
    if (this.rescanIntervalMs > 0) this.rescanHandle = this.timers.setInterval(changed, this.rescanIntervalMs);
    if (mode === 'auto') {
      this.watcher = new TreeWatcher({ roots: this.opts.paths, onEvent: changed, logger: this.log, watch: this.opts.fsWatch });
      this.watcher.reconcile();
      if (this.watcher.directories().length > 0) return;
      this.log.info({ event: 'watch-fallback' }, `fs.watch unavailable; polling every ${this.pollIntervalMs} ms`);
      this.watcher.close();
      this.watcher = undefined;
    }
    this.startPolling();
  }

  close(): void {
    this.closed = true;
    if (this.pollHandle !== undefined) this.timers.clearInterval(this.pollHandle);
    if (this.rescanHandle !== undefined) this.timers.clearInterval(this.rescanHandle);
    this.pollHandle = undefined;
    this.rescanHandle = undefined;
    this.watcher?.close();
  }

  private startPolling(): void {
    if (this.pollHandle !== undefined || this.closed) return;
    this.pollSignature = this.signature();
    this.pollHandle = this.timers.setInterval(() => {
      const sig = this.signature();
      if (sig === this.pollSignature) return;
      this.pollSignature = sig;
      this.changed?.();
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

/** The store of `-f` paths alone: a ConfigStore over one FileSource. */
export class DirectoryStore extends ConfigStore {
  private readonly fileSource: FileSource;

  constructor(opts: DirectoryStoreOptions) {
    const files = new FileSource(opts);
    super({ sources: [files], logger: opts.logger, debounceMs: opts.debounceMs, timers: opts.timers });
    this.fileSource = files;
  }

  /** The health of every `-f` path and of its files that are not `ok` (for /readyz). */
  override status(): PathStatus[] {
    return this.fileSource.status();
  }
}
