/**
 * Reading `-f` arguments once, for `generate` and `validate`. Effects: reads files. Never throws:
 * the paths are walked by the shared lister (src/store/list.ts), each file is read by the shared
 * safe reader (src/store/read-file.ts), and every file that cannot be used is a diagnostic.
 */
import type { Diagnostic } from '../model/diagnostics.js';
import { parseYaml, type SourceDocument } from '../input/read.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../input/limits.js';
import { listFiles } from '../store/list.js';
import { readManifestFile } from '../store/read-file.js';

export interface Loaded {
  documents: SourceDocument[];
  diagnostics: Diagnostic[];
  /** The files that were read. */
  files: string[];
}

export function loadInputs(paths: readonly string[], limits: InputLimits = DEFAULT_INPUT_LIMITS): Loaded {
  const loaded: Loaded = { documents: [], diagnostics: [], files: [] };
  for (const file of listFiles(paths, loaded.diagnostics)) {
    const read = readManifestFile(file, limits);
    if (!read.ok) {
      if (read.diagnostic) loaded.diagnostics.push(read.diagnostic);
      continue;
    }
    loaded.files.push(file);
    const parsed = parseYaml(read.text, file, limits);
    // Not push(...list): a spread of tens of thousands of items overflows the stack.
    for (const d of parsed.documents) loaded.documents.push(d);
    for (const d of parsed.diagnostics) loaded.diagnostics.push(d);
  }
  return loaded;
}
