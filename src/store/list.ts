/**
 * The one walk of `-f` paths, shared by `metamesh generate/validate` and the watched store of
 * `metamesh serve`. Effects: stats and lists the file system. Never throws: a path that cannot be
 * read becomes a diagnostic and the walk goes on.
 *
 * - A file named explicitly is listed whatever its extension.
 * - A directory is walked recursively, in name order, for `.yaml`, `.yml` and `.json` files; names
 *   starting with `.` are skipped (editor swap files, `.git`).
 * - A missing or unreadable path named explicitly, and an unreadable directory met during the walk,
 *   give `MM_INPUT_UNREADABLE`. An entry that vanishes between listing and stat (a delete or an
 *   editor's rename while `serve` is reloading) is skipped silently: it is simply gone.
 * - A directory named explicitly that holds no such file gives `MM_INPUT_EMPTY`, so an empty or
 *   mistyped directory cannot pass for a clean result.
 */
import { readdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { diag, type Diagnostic } from '../model/diagnostics.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export function listFiles(paths: readonly string[], diagnostics: Diagnostic[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const before = out.length;
    const isDir = walk(p, true, out, diagnostics);
    if (isDir && out.length === before) {
      diagnostics.push(diag('MM_INPUT_EMPTY', p, `${p} has no .yaml, .yml or .json files; give the directory that holds the manifests.`));
    }
  }
  return out;
}

/** Lists `p` into `out`; returns whether it was a readable directory. */
function walk(p: string, explicit: boolean, out: string[], diagnostics: Diagnostic[]): boolean {
  let st: Stats;
  try {
    st = statSync(p);
  } catch (e) {
    const gone = (e as NodeJS.ErrnoException).code === 'ENOENT';
    if (explicit) diagnostics.push(diag('MM_INPUT_UNREADABLE', p, gone ? `${p} does not exist.` : `${p} cannot be read: ${(e as Error).message}`));
    else if (!gone) diagnostics.push(diag('MM_INPUT_UNREADABLE', p, `${p} cannot be read: ${(e as Error).message}`));
    return false;
  }
  if (!st.isDirectory()) {
    if (explicit || EXTENSIONS.has(path.extname(p).toLowerCase())) out.push(p);
    return false;
  }
  let names: string[];
  try {
    names = readdirSync(p).sort();
  } catch (e) {
    diagnostics.push(diag('MM_INPUT_UNREADABLE', p, `the directory ${p} cannot be listed: ${(e as Error).message}`));
    return false;
  }
  for (const name of names) if (!name.startsWith('.')) walk(path.join(p, name), false, out, diagnostics);
  return true;
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
