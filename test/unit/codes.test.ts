/**
 * Keeps the diagnostic catalogue (src/model/codes.ts), the code that emits it (src/) and its
 * documentation (docs/errors.md) in step. docs/errors.md documents each code under a level-3
 * heading that is exactly the code, followed by a `- **Severity:** <level>` line and, for the codes
 * the catalogue marks notInEffect, a `- **Not in effect:** yes…` line.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CODES, isNotInEffect, type Code } from '../../src/model/codes.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const srcDir = path.join(root, 'src');
const codesFile = path.join(srcDir, 'model', 'codes.ts');

const catalogue = Object.keys(CODES);

interface DocEntry {
  readonly code: string;
  readonly severity: string | undefined;
  readonly notInEffect: boolean;
}

/** `### MM_…` sections of docs/errors.md, each with the severity written under it. */
function documented(): DocEntry[] {
  const text = readFileSync(path.join(root, 'docs', 'errors.md'), 'utf8');
  const lines = text.split('\n');
  const entries: DocEntry[] = [];
  let fence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('```')) fence = !fence;
    if (fence) continue;
    const m = /^### (MM_[A-Z0-9_]+)\s*$/.exec(line);
    if (!m) continue;
    let severity: string | undefined;
    let notInEffect = false;
    for (let j = i + 1; j < lines.length && !/^#{1,3} /.test(lines[j]!); j++) {
      const s = /^- \*\*Severity:\*\* (error|warning|info)\b/.exec(lines[j]!);
      if (s) severity ??= s[1];
      if (/^- \*\*Not in effect:\*\* yes\b/.test(lines[j]!)) notInEffect = true;
    }
    entries.push({ code: m[1]!, severity, notInEffect });
  }
  return entries;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Code → the files of src/ (other than the catalogue) that name it as a string literal. */
function usedInSource(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const file of sourceFiles(srcDir)) {
    if (file === codesFile) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/'(MM_[A-Z0-9_]+)'/g)) {
      const list = used.get(m[1]!) ?? [];
      list.push(path.relative(root, file));
      used.set(m[1]!, list);
    }
  }
  return used;
}

test('every code in the catalogue has a ### heading in docs/errors.md', () => {
  const headings = new Set(documented().map((d) => d.code));
  const missing = catalogue.filter((c) => !headings.has(c));
  assert.deepEqual(missing, [], `document these codes in docs/errors.md: ${missing.join(', ')}`);
});

test('every ### MM_ heading in docs/errors.md is a code of the catalogue, documented once', () => {
  const docs = documented().map((d) => d.code);
  const unknown = docs.filter((c) => !(c in CODES));
  assert.deepEqual(unknown, [], `docs/errors.md documents codes that src/model/codes.ts lacks: ${unknown.join(', ')}`);
  const twice = docs.filter((c, i) => docs.indexOf(c) !== i);
  assert.deepEqual(twice, [], `documented more than once: ${twice.join(', ')}`);
});

test('the severity written in docs/errors.md matches the catalogue', () => {
  const wrong = documented()
    .filter((d) => d.code in CODES)
    .filter((d) => d.severity !== CODES[d.code as keyof typeof CODES].severity)
    .map((d) => `${d.code}: docs say ${d.severity ?? 'nothing'}, catalogue says ${CODES[d.code as keyof typeof CODES].severity}`);
  assert.deepEqual(wrong, []);
});

test('docs/errors.md marks "Not in effect" exactly the codes the catalogue marks notInEffect', () => {
  const wrong = documented()
    .filter((d) => d.code in CODES && d.notInEffect !== isNotInEffect(d.code as Code))
    .map((d) => `${d.code}: docs say ${d.notInEffect ? '' : 'not '}in effect, catalogue says ${isNotInEffect(d.code as Code) ? '' : 'not '}in effect`);
  assert.deepEqual(wrong, []);
});

test('only warnings are marked notInEffect (errors fail anyway; notes never fail)', () => {
  const marked = catalogue.filter((c) => isNotInEffect(c as Code));
  assert.ok(marked.length > 0);
  assert.deepEqual(marked.filter((c) => CODES[c as Code].severity !== 'warning'), []);
});

test('every code named in src/ is in the catalogue', () => {
  const unknown = [...usedInSource()]
    .filter(([code]) => !(code in CODES))
    .map(([code, files]) => `${code} (${[...new Set(files)].join(', ')})`);
  assert.deepEqual(unknown, [], 'add these codes to src/model/codes.ts (and docs/errors.md)');
});

test('every code in the catalogue is named somewhere in src/ outside the catalogue', () => {
  const used = usedInSource();
  const unused = catalogue.filter((c) => !used.has(c));
  assert.deepEqual(unused, [], 'these codes are never emitted: emit them where the situation arises, or retire them');
});
