/**
 * A directory (or several `-f` paths) of YAML manifests as a live source of resources for the
 * Engine. Effects: reads files, watches them.
 *
 * - Watching: fs.watch (recursive for directories) where the platform supports it, else polling
 *   file stats every `pollIntervalMs`. Any event schedules one reload after `debounceMs` of quiet
 *   (editors write a file in several steps; a burst becomes one reload).
 * - A reload re-reads every file (unchanged text is not parsed again), runs readResources, and
 *   diffs the result with the previous one by kind/namespace/name and canonical JSON: only real
 *   upserts and deletes are reported.
 * - A file that fails to parse (any YAML syntax error) keeps contributing the documents of its
 *   last good version, so a half-saved edit never deletes resources; the syntax error is still
 *   reported as a diagnostic and logged. A file that is deleted does remove its resources.
 */
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { Options } from '../model/options.js';
import { parseYaml, readResources, type ConfigSet, type SourceDocument } from '../input/read.js';
import { changesOf } from '../pipeline/build.js';
import { objKey, type Change } from '../pipeline/types.js';
import { canonicalJson } from '../util/canonical.js';
import { listFiles } from './list.js';

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

export interface DirectoryStoreOptions {
  readonly paths: readonly string[];
  readonly logger: Logger;
  readonly debounceMs?: number;
  readonly pollIntervalMs?: number;
  /** 'auto': fs.watch, falling back to polling; 'poll': polling only; 'none': only explicit reload(). */
  readonly watch?: 'auto' | 'poll' | 'none';
  readonly timers?: Timers;
}

/** The result of a (re)load: what to apply to the Engine. */
export interface StoreUpdate {
  readonly changes: Change[];
  readonly options: Options;
  readonly optionsChanged: boolean;
  /** All input diagnostics (file reading, YAML, decoding) of the current state. */
  readonly diagnostics: Diagnostic[];
  readonly diagnosticsChanged: boolean;
  readonly files: string[];
}

interface FileState {
  text: string;
  documents: SourceDocument[];
  diagnostics: Diagnostic[];
}

export class DirectoryStore {
  private readonly debounceMs: number;
  private readonly pollIntervalMs: number;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly files = new Map<string, FileState>();
  /** Last version of each file that parsed without a syntax error. */
  private readonly lastGood = new Map<string, SourceDocument[]>();
  private resources = new Map<string, string>();
  private options: Options | undefined;
  private diagnosticsText = '';
  private readonly watchers: FSWatcher[] = [];
  private pollHandle: unknown;
  private pollSignature = '';
  private debounceHandle: unknown;
  private listener: ((u: StoreUpdate) => void) | undefined;
  private closed = false;

  constructor(private readonly opts: DirectoryStoreOptions) {
    this.debounceMs = opts.debounceMs ?? 100;
    this.pollIntervalMs = opts.pollIntervalMs ?? 2000;
    this.timers = opts.timers ?? realTimers;
    this.log = opts.logger;
  }

  /** Reads everything and returns the changes since the previous load (all upserts the first time). */
  load(): StoreUpdate {
    const diagnostics: Diagnostic[] = [];
    const listed = listFiles(this.opts.paths, diagnostics);
    const documents: SourceDocument[] = [];
    const seen = new Set<string>();
    for (const file of listed) {
      const st = this.readFile(file, diagnostics);
      if (!st) continue;
      seen.add(file);
      documents.push(...st.documents);
      diagnostics.push(...st.diagnostics);
    }
    for (const f of [...this.files.keys()]) {
      if (!seen.has(f)) {
        this.files.delete(f);
        this.lastGood.delete(f);
      }
    }
    const read = readResources(documents);
    diagnostics.push(...read.diagnostics);
    const changes = this.diff(read.config);
    const optionsChanged = this.options === undefined || canonicalJson(this.options) !== canonicalJson(read.config.options);
    this.options = read.config.options;
    const text = JSON.stringify(diagnostics);
    const diagnosticsChanged = text !== this.diagnosticsText;
    this.diagnosticsText = text;
    return { changes, options: read.config.options, optionsChanged, diagnostics, diagnosticsChanged, files: [...seen] };
  }

  /**
   * Starts watching; `listener` gets every reload that changed something. Call after the first
   * load(). Errors while reloading are logged, never thrown.
   */
  start(listener: (u: StoreUpdate) => void): void {
    this.listener = listener;
    const mode = this.opts.watch ?? 'auto';
    if (mode === 'none') return;
    if (mode === 'auto') {
      try {
        for (const p of this.opts.paths) this.watchPath(p);
        return;
      } catch (e) {
        this.log.info({ event: 'watch-fallback', reason: (e as Error).message }, `fs.watch unavailable; polling every ${this.pollIntervalMs} ms`);
        this.closeWatchers();
      }
    }
    this.startPolling();
  }

  /** Schedules a reload after the debounce delay (restarting the delay if one is pending). */
  schedule(): void {
    if (this.closed) return;
    if (this.debounceHandle !== undefined) this.timers.clearTimeout(this.debounceHandle);
    this.debounceHandle = this.timers.setTimeout(() => {
      this.debounceHandle = undefined;
      this.reload();
    }, this.debounceMs);
  }

  close(): void {
    this.closed = true;
    if (this.debounceHandle !== undefined) this.timers.clearTimeout(this.debounceHandle);
    if (this.pollHandle !== undefined) this.timers.clearInterval(this.pollHandle);
    this.debounceHandle = undefined;
    this.pollHandle = undefined;
    this.closeWatchers();
  }

  private reload(): void {
    if (this.closed) return;
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

  private readFile(file: string, diagnostics: Diagnostic[]): FileState | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      // Gone between listing and reading (a delete or an editor's rename): treat as deleted.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      diagnostics.push(diag('MM_INPUT_UNREADABLE', file, `${file} cannot be read: ${(e as Error).message}`));
      return undefined;
    }
    const prev = this.files.get(file);
    if (prev && prev.text === text) return prev;
    const parsed = parseYaml(text, file);
    const broken = parsed.diagnostics.some((d) => d.code === 'MM_INPUT_YAML_SYNTAX');
    let documents = parsed.documents;
    if (broken) {
      const good = this.lastGood.get(file);
      if (good) {
        documents = good;
        this.log.warn({ event: 'parse-error', file, message: parsed.diagnostics[0]?.message }, `${file} does not parse; its last good version stays in effect`);
      } else {
        this.log.warn({ event: 'parse-error', file, message: parsed.diagnostics[0]?.message }, `${file} does not parse; the documents that do parse are used`);
      }
    } else {
      this.lastGood.set(file, parsed.documents);
    }
    const st: FileState = { text, documents, diagnostics: parsed.diagnostics };
    this.files.set(file, st);
    return st;
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

  private watchPath(p: string): void {
    const st = statSync(p);
    const onEvent = (target?: string) => (_event: string, filename: string | Buffer | null) => {
      if (target !== undefined && filename !== null && String(filename) !== target) return;
      this.schedule();
    };
    const w = st.isDirectory() ? watch(p, { recursive: true }, onEvent()) : watch(path.dirname(p), {}, onEvent(path.basename(p)));
    w.on('error', (e) => {
      this.log.warn({ event: 'watch-error', path: p, err: e.message }, `watching ${p} failed; polling instead`);
      this.closeWatchers();
      this.startPolling();
    });
    this.watchers.push(w);
  }

  private closeWatchers(): void {
    for (const w of this.watchers.splice(0)) w.close();
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
