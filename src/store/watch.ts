/**
 * File-system notifications for the `-f` paths, built so that they cannot go deaf. Effects:
 * fs.watch and stat.
 *
 * One non-recursive watch per directory, never a recursive watch: on Linux a recursive watch is a
 * tree of such watches anyway, and it silently loses the parts of the tree that are deleted,
 * re-created or replaced. Instead the set of watches is **reconciled** with the tree as it is now
 * (`reconcile()`, which the store calls at every reload and every periodic rescan):
 *
 * - every directory named with `-f`, and every directory below it (names starting with `.` are
 *   skipped, as when listing; a directory reached twice through symlinks is watched once);
 * - the parent directory of every `-f` path, for that name only: this is what sees the path itself
 *   deleted, re-created, renamed over (an editor's atomic save of a file named with `-f`, `sed -i`)
 *   or replaced by a file or a directory;
 * - a watch whose directory is gone, or is now another directory (another inode), or which
 *   reported its own directory renamed or deleted, is closed and opened again if the path exists.
 *
 * Any event calls `onEvent` (the store debounces). Each change of what a `-f` path is (a directory,
 * a file, missing) and each watch that cannot be opened is logged once, when it happens.
 */
import { readdirSync, statSync, watch as fsWatch, type FSWatcher, type Stats } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

export type WatchFunction = (dir: string, listener: (event: string, filename: string | Buffer | null) => void) => FSWatcher;

export interface TreeWatcherOptions {
  readonly roots: readonly string[];
  readonly onEvent: () => void;
  readonly logger: Logger;
  /** Opens one non-recursive watch; fs.watch unless a test injects another. */
  readonly watch?: WatchFunction;
}

/** What to watch in one directory: every name, or only these names (a parent of a `-f` path). */
interface Wanted {
  /** Device and inode of the directory: a directory re-created under the same path differs. */
  readonly identity: string;
  readonly names: ReadonlySet<string> | 'all';
  /** identity and names as one comparable string. */
  readonly key: string;
}

interface Watch extends Wanted {
  readonly watcher: FSWatcher;
  /** Set when the watch reported its own directory renamed or deleted: re-open it. */
  suspect: boolean;
}

type RootKind = 'directory' | 'file' | 'missing';

const defaultWatch: WatchFunction = (dir, listener) => fsWatch(dir, { persistent: false }, listener);

export class TreeWatcher {
  private readonly watches = new Map<string, Watch>();
  private readonly rootKinds = new Map<string, RootKind>();
  /** Directories whose watch could not be opened, each logged once until it opens. */
  private readonly unwatchable = new Set<string>();
  private readonly open: WatchFunction;
  private closed = false;

  constructor(private readonly opts: TreeWatcherOptions) {
    this.open = opts.watch ?? defaultWatch;
    for (const r of opts.roots) this.rootKinds.set(r, kindOf(r));
  }

  /** Brings the watches in line with the tree as it is now. Never throws. */
  reconcile(): void {
    if (this.closed) return;
    this.noteRoots();
    const wanted = this.wanted();
    for (const [dir, w] of this.watches) {
      const want = wanted.get(dir);
      if (want === undefined || want.key !== w.key || w.suspect) {
        w.watcher.close();
        this.watches.delete(dir);
      }
    }
    for (const [dir, want] of wanted) {
      if (this.watches.has(dir)) continue;
      this.watchDir(dir, want);
    }
  }

  /** The directories watched now (for tests and diagnostics). */
  directories(): string[] {
    return [...this.watches.keys()].sort();
  }

  close(): void {
    this.closed = true;
    for (const w of this.watches.values()) w.watcher.close();
    this.watches.clear();
  }

  private watchDir(dir: string, want: Wanted): void {
    const log = this.opts.logger;
    let watcher: FSWatcher;
    try {
      watcher = this.open(dir, (_event, filename) => this.onFsEvent(dir, filename));
    } catch (e) {
      if (!this.unwatchable.has(dir)) {
        this.unwatchable.add(dir);
        log.warn({ event: 'watch-error', path: dir, err: (e as Error).message }, `cannot watch ${dir}; its changes are seen at the next periodic rescan`);
      }
      return;
    }
    this.unwatchable.delete(dir);
    const entry: Watch = { ...want, watcher, suspect: false };
    watcher.on('error', (e: Error) => {
      log.warn({ event: 'watch-error', path: dir, err: e.message }, `watching ${dir} failed; the watch is opened again at the next reload`);
      entry.suspect = true;
      this.opts.onEvent();
    });
    this.watches.set(dir, entry);
  }

  private onFsEvent(dir: string, filename: string | Buffer | null): void {
    const w = this.watches.get(dir);
    if (w === undefined || this.closed) return;
    const name = filename === null ? null : String(filename);
    // inotify reports the watched directory's own deletion or move under its own name; after
    // that the watch hears nothing, so it must be opened again.
    if (name === null || name === path.basename(dir)) {
      // A suspect watch is re-checked only by a reload: always ask for one.
      w.suspect = true;
      this.opts.onEvent();
      return;
    }
    if (w.names !== 'all' && !w.names.has(name)) return;
    this.opts.onEvent();
  }

  /** Logs each change of what a `-f` path is, once. */
  private noteRoots(): void {
    for (const root of this.opts.roots) {
      const now = kindOf(root);
      const before = this.rootKinds.get(root);
      if (now === before) continue;
      this.rootKinds.set(root, now);
      const log = this.opts.logger;
      if (now === 'missing') log.warn({ event: 'source-gone', path: root }, `${root} is gone; its last good content stays served until it is back`);
      else if (before === 'missing') log.info({ event: 'source-back', path: root, kind: now }, `${root} is back (a ${now}); watching it again`);
      else log.warn({ event: 'source-replaced', path: root, kind: now }, `${root} was a ${before ?? 'missing path'} and is now a ${now}; watching it as such`);
    }
  }

  private wanted(): Map<string, Wanted> {
    const wanted = new Map<string, Wanted>();
    const seen = new Set<string>();
    const parents = new Map<string, Set<string>>();
    for (const root of this.opts.roots) {
      const parent = path.dirname(root);
      const names = parents.get(parent) ?? new Set<string>();
      names.add(path.basename(root));
      parents.set(parent, names);
      this.collect(root, wanted, seen);
    }
    for (const [parent, names] of parents) {
      if (wanted.has(parent)) continue; // watched whole already (a root inside another root)
      const st = statOrUndefined(parent);
      if (st?.isDirectory()) wanted.set(parent, wantedEntry(identity(st), names));
    }
    return wanted;
  }

  /** Adds `dir` and the directories below it, each once (symlinks may lead to one twice). */
  private collect(dir: string, wanted: Map<string, Wanted>, seen: Set<string>): void {
    const st = statOrUndefined(dir);
    if (!st?.isDirectory()) return;
    const id = identity(st);
    if (seen.has(id)) return;
    seen.add(id);
    wanted.set(dir, wantedEntry(id, 'all'));
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // the store reports unreadable directories; the watch of `dir` itself still hears
    }
    for (const name of names.sort()) if (!name.startsWith('.')) this.collect(path.join(dir, name), wanted, seen);
  }
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

function wantedEntry(id: string, names: ReadonlySet<string> | 'all'): Wanted {
  return { identity: id, names, key: names === 'all' ? `${id} *` : `${id} ${[...names].sort().join('/')}` };
}

function identity(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

function kindOf(p: string): RootKind {
  const st = statOrUndefined(p);
  return st === undefined ? 'missing' : st.isDirectory() ? 'directory' : 'file';
}
