/**
 * The one walk of `-f` paths, shared by `metamesh generate/validate` and the watched store of
 * `metamesh serve`. Effects: stats and lists the file system; never opens a file. Never throws and
 * never hangs: a path that cannot be used becomes a diagnostic and the walk goes on.
 *
 * - A file named explicitly is listed whatever its extension.
 * - A directory is walked recursively, in name order, for `.yaml`, `.yml` and `.json` files; names
 *   starting with `.` are skipped (editor swap files, `.git`).
 * - Symbolic links are followed (to files and to directories). A directory is walked once per
 *   `-f` path even when several links lead to it. A link to a directory that is being walked or
 *   that contains one (`.`, `..`, an ancestor) is a loop: `MM_INPUT_SYMLINK_LOOP`, not followed.
 *   Without this, two such links make the walk exponential and it never ends.
 * - Only regular files are listed. A FIFO, socket or device is `MM_INPUT_NOT_REGULAR` and skipped:
 *   opening a FIFO blocks until someone writes to it, which may be never.
 * - A missing or unreadable path named explicitly, an unreadable directory met during the walk and
 *   a chain of links that never ends in a file give `MM_INPUT_UNREADABLE`. An entry that vanishes
 *   between listing and stat (a delete or an editor's rename while `serve` is reloading) is skipped
 *   silently: it is simply gone.
 * - A directory named explicitly that holds no such file gives `MM_INPUT_EMPTY`, so an empty or
 *   mistyped directory cannot pass for a clean result.
 */
import { readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { diag, type Diagnostic } from '../model/diagnostics.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export function listFiles(paths: readonly string[], diagnostics: Diagnostic[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const before = out.length;
    const isDir = walk(p, { explicit: true, above: [], walked: new Set() }, out, diagnostics);
    if (isDir && out.length === before) {
      diagnostics.push(diag('MM_INPUT_EMPTY', p, `${p} has no .yaml, .yml or .json files; give the directory that holds the manifests.`));
    }
  }
  return out;
}

interface WalkState {
  readonly explicit: boolean;
  /** Real paths of the directories being walked, outermost first. */
  readonly above: readonly string[];
  /** Real paths of every directory walked for this `-f` path. */
  readonly walked: Set<string>;
}

/** Lists `p` into `out`; returns whether it was a readable directory. */
function walk(p: string, state: WalkState, out: string[], diagnostics: Diagnostic[]): boolean {
  let st: Stats;
  try {
    st = statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? `${p} does not exist.` : code === 'ELOOP' ? `${p} is a chain of symbolic links that never ends in a file or directory.` : `${p} cannot be read: ${(e as Error).message}`;
    if (state.explicit || code !== 'ENOENT') diagnostics.push(diag('MM_INPUT_UNREADABLE', p, message));
    return false;
  }
  if (st.isFile()) {
    if (state.explicit || EXTENSIONS.has(path.extname(p).toLowerCase())) out.push(p);
    return false;
  }
  if (!st.isDirectory()) {
    if (state.explicit || EXTENSIONS.has(path.extname(p).toLowerCase())) {
      diagnostics.push(diag('MM_INPUT_NOT_REGULAR', p, `${p} is ${kindOf(st)}, not a regular file; it was skipped without being opened. Remove it or give a regular file.`));
    }
    return false;
  }
  let real: string;
  try {
    real = realpathSync(p);
  } catch (e) {
    diagnostics.push(diag('MM_INPUT_UNREADABLE', p, `the directory ${p} cannot be resolved: ${(e as Error).message}`));
    return false;
  }
  const inside = real.endsWith(path.sep) ? real : real + path.sep;
  if (state.above.some((a) => a === real || a.startsWith(inside))) {
    diagnostics.push(diag('MM_INPUT_SYMLINK_LOOP', p, `${p} is a symbolic link to ${real}, a directory that contains it; it was not followed. Remove the link.`));
    return false;
  }
  if (state.walked.has(real)) return true; // reached again through another link: listed already
  state.walked.add(real);
  let names: string[];
  try {
    names = readdirSync(p).sort();
  } catch (e) {
    diagnostics.push(diag('MM_INPUT_UNREADABLE', p, `the directory ${p} cannot be listed: ${(e as Error).message}`));
    return false;
  }
  const inner: WalkState = { explicit: false, above: [...state.above, real], walked: state.walked };
  for (const name of names) if (!name.startsWith('.')) walk(path.join(p, name), inner, out, diagnostics);
  return true;
}

/** What a non-regular, non-directory file is, for messages. */
export function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'a special file';
}

/** The paths of `paths` that do not exist (or cannot be stat'ed): what `serve` refuses to start on. */
export function missingPaths(paths: readonly string[]): string[] {
  return paths.filter((p) => {
    try {
      statSync(p);
      return false;
    } catch {
      return true;
    }
  });
}
