/**
 * Input stage, first step: one file's YAML text → its documents. Pure: the caller reads the file.
 * Bounded: the limits of src/input/limits.ts (bytes, documents, alias expansion, nesting) make a
 * pathological file one diagnostic instead of a crash or a stall.
 */
import { Composer, LineCounter, Parser } from 'yaml';
import { diag, type Diagnostic } from '../model/diagnostics.js';
import { DEFAULT_INPUT_LIMITS, ExpansionMeter, tooLarge, type InputLimits } from './limits.js';

export interface SourceDocument {
  /** Where it came from, e.g. `examples/dubbo.yaml#2`; only used in messages. */
  readonly source: string;
  readonly value: unknown;
}

/**
 * Splits one file's text into documents. Never throws. A file over one of `limits` (see
 * src/input/limits.ts) gives one diagnostic naming the file and the limit, and no documents: its
 * other documents are not used either, since a half-read file is not what its author wrote.
 * Parsing is incremental, so a file with too many documents costs only the documents up to the
 * limit.
 */
export function parseYaml(text: string, source: string, limits: InputLimits = DEFAULT_INPUT_LIMITS): { documents: SourceDocument[]; diagnostics: Diagnostic[] } {
  const documents: SourceDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  const overLimit = (d: Diagnostic) => ({ documents: [], diagnostics: [d] });
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxFileBytes) return overLimit(tooLarge(source, limits, bytes));
  const meter = new ExpansionMeter(limits);
  const lines = new LineCounter();
  let i = 0;
  try {
    for (const doc of new Composer({ uniqueKeys: true }).compose(new Parser(lines.addNewLine).parse(text))) {
      i++;
      if (i > limits.maxDocuments) {
        return overLimit(diag('MM_INPUT_TOO_MANY_DOCUMENTS', source, `${source} has more than ${limits.maxDocuments} YAML documents (the limit, --max-documents); the whole file was skipped. Split it into several files.`));
      }
      const where = `${source}#${i}`;
      if (doc.errors.length > 0) {
        const first = doc.errors[0]!;
        const at = first.pos[0] >= 0 ? lines.linePos(first.pos[0]) : undefined;
        const position = at ? ` at line ${at.line}, column ${at.col}` : '';
        diagnostics.push(diag('MM_INPUT_YAML_SYNTAX', where, `${where}: ${first.message.split('\n')[0]}${position}; the document was skipped.`));
        continue;
      }
      const excess = meter.measure(doc);
      if (excess?.limit === 'maxDepth') {
        return overLimit(diag('MM_INPUT_TOO_DEEP', where, `${where} nests mappings and sequences more than ${limits.maxDepth} levels deep (the limit, --max-depth), counting what its aliases stand for; the whole file ${source} was skipped.`));
      }
      if (excess) {
        const what = excess.circular ? 'has an alias to a node that contains it, which expands without end' : `expands its aliases to more than ${limits.maxExpandedBytes} bytes together with the documents before it (the limit, --max-expanded-bytes)`;
        return overLimit(diag('MM_INPUT_ALIAS_EXPANSION', where, `${where} ${what}; the whole file ${source} was skipped. Write the repeated parts out, or use fewer aliases.`));
      }
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: -1 });
      } catch (e) {
        diagnostics.push(diag('MM_INPUT_YAML_SYNTAX', where, `${where}: ${(e as Error).message}; the document was skipped.`));
        continue;
      }
      if (value === null || value === undefined) continue; // an empty document, e.g. a trailing `---`
      documents.push({ source: where, value });
    }
  } catch (e) {
    // The parser has no known way to throw; should it (a stack overflow on some input), the file is
    // one syntax error, never a crash.
    return overLimit(diag('MM_INPUT_YAML_SYNTAX', source, `${source} could not be read as YAML: ${(e as Error).message}`));
  }
  if (documents.length === 0 && diagnostics.length === 0) {
    diagnostics.push(diag('MM_INPUT_EMPTY', source, `${source} has no YAML documents (it is empty, or only comments and separators); add the resources or leave the file out.`));
  }
  return { documents, diagnostics };
}
