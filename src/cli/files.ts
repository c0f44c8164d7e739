/**
 * Reading `-f` arguments once, for `generate` and `validate`. Effects: reads files. Never throws:
 * the paths are walked by the shared lister (src/store/list.ts) and every unreadable file is a
 * diagnostic.
 */
import { readFileSync } from 'node:fs';
import { diag, type Diagnostic } from '../model/diagnostics.js';
import { parseYaml, type SourceDocument } from '../input/read.js';
import { listFiles } from '../store/list.js';

export interface Loaded {
  documents: SourceDocument[];
  diagnostics: Diagnostic[];
  /** The files that were read. */
  files: string[];
}

export function loadInputs(paths: readonly string[]): Loaded {
  const loaded: Loaded = { documents: [], diagnostics: [], files: [] };
  for (const file of listFiles(paths, loaded.diagnostics)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      loaded.diagnostics.push(diag('MM_INPUT_UNREADABLE', file, `${file} cannot be read: ${(e as Error).message}`));
      continue;
    }
    loaded.files.push(file);
    const parsed = parseYaml(text, file);
    loaded.documents.push(...parsed.documents);
    loaded.diagnostics.push(...parsed.diagnostics);
  }
  return loaded;
}
