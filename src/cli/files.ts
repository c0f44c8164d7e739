/** Reading `-f` arguments: files, or directories walked recursively for .yaml/.yml/.json. Effects. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { diag, type Diagnostic } from '../model/diagnostics.js';
import { parseYaml, type SourceDocument } from '../input/read.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface Loaded {
  documents: SourceDocument[];
  diagnostics: Diagnostic[];
  files: string[];
}

export function loadInputs(paths: readonly string[]): Loaded {
  const loaded: Loaded = { documents: [], diagnostics: [], files: [] };
  for (const p of paths) collect(p, loaded, true);
  return loaded;
}

function collect(p: string, out: Loaded, explicit: boolean): void {
  let st;
  try {
    st = statSync(p);
  } catch {
    out.diagnostics.push(diag('MM_INPUT_UNREADABLE', p, `${p} does not exist or cannot be read.`));
    return;
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(p).sort()) {
      if (name.startsWith('.')) continue;
      collect(path.join(p, name), out, false);
    }
    return;
  }
  if (!explicit && !EXTENSIONS.has(path.extname(p).toLowerCase())) return;
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch (e) {
    out.diagnostics.push(diag('MM_INPUT_UNREADABLE', p, `${p} cannot be read: ${(e as Error).message}`));
    return;
  }
  out.files.push(p);
  const parsed = parseYaml(text, p);
  out.documents.push(...parsed.documents);
  out.diagnostics.push(...parsed.diagnostics);
}
