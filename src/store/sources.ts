/**
 * The files of the `-f` paths, listed and read with the never-withdraw-on-failure rule of
 * health.ts applied to each path and each file. Effects: lists and reads the file system (through
 * an injectable SourceFs, so tests can make any call fail).
 *
 * - A `-f` path whose listing fails, wholly or for a directory below it (list.ts reports those as
 *   MM_INPUT_UNREADABLE; a `-f` path that is gone is such a failure too): the files last read from
 *   the unlisted part are not read again and keep their last good content; the failure becomes
 *   MM_SOURCE_STALE. Files never read before have nothing to keep: MM_INPUT_UNREADABLE stays.
 * - A file that cannot be read (any error but ENOENT, which means it is gone) or does not parse
 *   (MM_INPUT_YAML_SYNTAX anywhere in it) keeps its last good content, with MM_SOURCE_STALE naming
 *   the revision served. Without one, what parses of it is used, as `generate` would.
 * - A file that reads cleanly but holds no document is reported as incomplete, so that the
 *   resources it held are kept by the per-resource rule (last-good.ts) rather than removed.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { cmp, diag, type Diagnostic } from '../model/diagnostics.js';
import { parseYaml, type SourceDocument } from '../input/read.js';
import { SourceHealth, type SourceState, type SourceStatus } from './health.js';
import { listFiles } from './list.js';
import { readManifestFile } from './read-file.js';
import type { Snapshot } from './store.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../input/limits.js';

/** The file-system calls of a source; tests inject failures here. */
export interface SourceFs {
  /** Lists the files of `paths` (list.ts's contract: failures are diagnostics, never thrown). */
  list(paths: readonly string[], diagnostics: Diagnostic[]): string[];
  /** Reads a file as UTF-8; throws the fs error (with its `code`) on failure. */
  readFile(file: string): string;
}

/** A file that read.ts's safe reader refused (not a regular file, over the size limit, unreadable). */
export class FileRefused extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/** The real file system, reading through the safe reader (never blocks on a FIFO, bounded size). */
export function realFs(limits: InputLimits = DEFAULT_INPUT_LIMITS): SourceFs {
  return {
    list: listFiles,
    readFile: (file) => {
      const r = readManifestFile(file, limits);
      if (r.ok) return r.text;
      if (r.gone) throw Object.assign(new Error(`${file} is gone`), { code: 'ENOENT' });
      throw new FileRefused(r.diagnostic ?? diag('MM_INPUT_UNREADABLE', file, `${file} cannot be read.`));
    },
  };
}

/** What /readyz shows for one `-f` path: its listing, and its files that are not `ok`. */
export interface PathStatus extends SourceStatus {
  readonly files: number;
  readonly unhealthyFiles: readonly SourceStatus[];
}

interface FileContent {
  readonly documents: SourceDocument[];
}

interface FileEntry {
  readonly root: string;
  readonly health: SourceHealth<FileContent>;
  text?: string;
  parsed?: { documents: SourceDocument[]; diagnostics: Diagnostic[] };
}

/** Findings on a file's text that make the whole file unusable: its last good content stays. */
const FILE_FAILURES: ReadonlySet<string> = new Set(['MM_INPUT_YAML_SYNTAX', 'MM_INPUT_TOO_LARGE', 'MM_INPUT_TOO_MANY_DOCUMENTS', 'MM_INPUT_ALIAS_EXPANSION', 'MM_INPUT_TOO_DEEP']);

/** At most this many unhealthy files are listed per path on /readyz (the count is always given). */
const MAX_LISTED = 50;

export class SourceFiles {
  private readonly roots = new Map<string, SourceHealth<readonly string[]>>();
  private readonly files = new Map<string, FileEntry>();

  constructor(
    paths: readonly string[],
    private readonly fs: SourceFs,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly limits: InputLimits = DEFAULT_INPUT_LIMITS,
  ) {
    for (const p of paths) this.roots.set(p, new SourceHealth(p, now));
  }

  read(): Snapshot {
    const snap: Snapshot = { documents: [], fileOf: new Map(), empty: new Set(), diagnostics: [], files: [] };
    const present = new Set<string>();
    for (const root of this.roots.keys()) {
      for (const file of this.listRoot(root, snap, present)) {
        if (present.has(file)) continue; // under two -f paths: read once
        const content = this.readFile(root, file, snap);
        if (content === 'gone') continue;
        present.add(file);
        this.add(file, content, snap);
      }
    }
    for (const f of [...this.files.keys()]) if (!present.has(f)) this.files.delete(f);
    snap.files.push(...[...present].sort());
    return snap;
  }

  status(): PathStatus[] {
    return [...this.roots.values()].map((h) => {
      const mine = [...this.files].filter(([, e]) => e.root === h.source).sort(([a], [b]) => cmp(a, b));
      const unhealthy = mine.filter(([, e]) => e.health.current !== 'ok').map(([, e]) => e.health.status());
      return { ...h.status(), files: mine.length, unhealthyFiles: unhealthy.slice(0, MAX_LISTED) };
    });
  }

  /** The files of `root` to read now; files of unlisted parts are added to `snap` as last read. */
  private listRoot(root: string, snap: Snapshot, present: Set<string>): string[] {
    const health = this.roots.get(root)!;
    const found: Diagnostic[] = [];
    const listed = this.fs.list([root], found);
    const failed = found.filter((d) => d.code === 'MM_INPUT_UNREADABLE');
    snap.diagnostics.push(...found.filter((d) => d.code !== 'MM_INPUT_UNREADABLE'));
    // A file read before that is now not a regular file, or a link loop, is skipped by the lister
    // and never opened; that is a failure to read it, not its removal: its last good content stays.
    for (const d of found) {
      if (d.code !== 'MM_INPUT_NOT_REGULAR' && d.code !== 'MM_INPUT_SYMLINK_LOOP') continue;
      const e = this.files.get(d.object);
      if (!e?.health.lastGood || present.has(d.object)) continue;
      this.noteTransition(e.health, e.health.fail(d.message), 'cannot be read');
      snap.diagnostics.push(diag('MM_SOURCE_STALE', d.object, `${d.object} cannot be read now (see ${d.code}); its last good content (revision ${e.health.revision}) stays in effect until it is a readable file again.`));
      present.add(d.object);
      this.add(d.object, e.health.lastGood, snap);
    }
    if (failed.length === 0) {
      this.noteTransition(health, health.succeed(listed, hash(listed.join('\n'))), 'is listed again', true);
      return listed;
    }
    this.noteTransition(health, health.fail(failed.map((d) => d.message).join(' ')), 'cannot be listed');
    // The files of the last successful listing that this one could not reach keep their content.
    const listedSet = new Set(listed);
    const keep: string[] = [];
    for (const d of failed) {
      const carried = (health.lastGood ?? [])
        .filter((f) => !listedSet.has(f) && !present.has(f) && isUnder(f, d.object))
        .flatMap((f) => {
          const e = this.files.get(f);
          return e?.health.lastGood ? [[f, e] as const] : [];
        });
      if (carried.length === 0) {
        snap.diagnostics.push(d);
        continue;
      }
      snap.diagnostics.push(
        diag('MM_SOURCE_STALE', d.object, `${d.object} cannot be listed now (${d.message.replace(/\.$/, '')}); the ${carried.length} file(s) last read from it stay in effect, unread, until it can be listed again.`),
      );
      for (const [f, e] of carried) {
        present.add(f);
        this.add(f, e.health.lastGood!, snap);
        keep.push(f);
      }
    }
    // What was listed and what was carried is the fallback of the next failure, even if this path
    // never lists cleanly (one subdirectory that is never readable, say).
    keep.push(...listed);
    health.keepPartial(keep, hash(keep.join('\n')));
    return listed;
  }

  private readFile(root: string, file: string, snap: Snapshot): FileContent | 'gone' {
    let entry = this.files.get(file);
    if (entry === undefined || entry.root !== root) {
      entry = { root, health: new SourceHealth<FileContent>(file, this.now) };
      this.files.set(file, entry);
    }
    let text: string;
    try {
      text = this.fs.readFile(file);
    } catch (e) {
      // Gone between listing and reading (a delete, or an editor's rename): it is simply gone.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      const why = (e as Error).message;
      this.noteTransition(entry.health, entry.health.fail(`cannot be read: ${why}`), 'cannot be read');
      const good = entry.health.lastGood;
      if (good === undefined) {
        snap.diagnostics.push(e instanceof FileRefused ? e.diagnostic : diag('MM_INPUT_UNREADABLE', file, `${file} cannot be read: ${why}`));
        return { documents: [] };
      }
      snap.diagnostics.push(diag('MM_SOURCE_STALE', file, `${file} cannot be read now (${why}); its last good content (revision ${entry.health.revision}) stays in effect until it can be read again.`));
      return good;
    }
    if (entry.text !== text || entry.parsed === undefined) {
      entry.text = text;
      entry.parsed = parseYaml(text, file, this.limits);
    }
    const parsed = entry.parsed;
    snap.diagnostics.push(...parsed.diagnostics);
    // A syntax error or a file over an input limit: the file as a whole is not what was meant.
    const syntax = parsed.diagnostics.find((d) => FILE_FAILURES.has(d.code));
    if (syntax === undefined) {
      this.noteTransition(entry.health, entry.health.succeed({ documents: parsed.documents }, hash(text)), 'reads again', true);
      if (parsed.documents.length === 0) snap.empty.add(file);
      return { documents: parsed.documents };
    }
    this.noteTransition(entry.health, entry.health.fail(`does not parse: ${syntax.message}`), 'does not parse');
    const good = entry.health.lastGood;
    if (good === undefined) return { documents: parsed.documents };
    snap.diagnostics.push(diag('MM_SOURCE_STALE', file, `${file} does not parse (see ${syntax.code}); its last good content (revision ${entry.health.revision}) stays in effect until it parses again.`));
    return good;
  }

  private add(file: string, content: FileContent, snap: Snapshot): void {
    for (const d of content.documents) {
      snap.documents.push(d);
      snap.fileOf.set(d, file);
    }
  }

  /**
   * One log line per change of state of a path or file: a failure when it starts, a recovery when
   * it ends; nothing for the first successful read, nor for a retry that changes nothing.
   */
  private noteTransition(health: SourceHealth<unknown>, left: SourceState | undefined, what: string, ok = false): void {
    if (left === undefined) return;
    const source = health.source;
    if (ok) {
      if (left !== 'pending') this.log.info({ event: 'source-recovered', source }, `${source} ${what}; its current content is served`);
      return;
    }
    // The health that changed, not a lookup by path: a file named with -f is a path and a file.
    const status = health.status();
    const kept = status?.state === 'stale' ? `its last good content (revision ${status.revision}) stays in effect` : 'nothing of it was read before, so nothing of it is served';
    this.log.warn({ event: 'source-stale', source, state: status?.state, err: status?.error }, `${source} ${what}; ${kept}`);
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

function isUnder(file: string, dir: string): boolean {
  return file === dir || file.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}
