/**
 * Rules of the code's shape that review would otherwise have to catch: no import cycles in src/
 * (type-only imports count: a cycle of types is still two modules that cannot be understood alone),
neither between files nor between the folders of src/ (each folder is a stage or a layer),
 * and small files (a file of src/ over 300 lines must say why in its header, after "Longer than 300
 * lines:").
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const src = path.join(root, 'src');
const MAX_LINES = 300;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a module, as absolute .ts paths (`export … from` included). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+'(\.[^']+)'/gm)) {
    out.push(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')));
  }
  return out;
}

/** Every cycle's modules, each cycle reported once (from its first module in path order). */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') cycles.push(stack.slice(stack.indexOf(m)));
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

test('the cycle finder finds a cycle of three and none in a chain', () => {
  assert.deepEqual(findCycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), [['a', 'b', 'c']]);
  assert.deepEqual(findCycles(new Map([['a', ['b']], ['b', ['c']], ['c', []]])), []);
});

test('src/ has no import cycles', () => {
  const graph = new Map(files(src).map((f) => [f, importsOf(f)]));
  const cycles = findCycles(graph).map((c) => c.map((f) => path.relative(root, f)).join(' → '));
  assert.deepEqual(cycles, []);
});

test('the folders of src/ (the stages and layers) have no import cycles between them', () => {
  const folder = (f: string) => path.relative(src, path.dirname(f)) || '.';
  const graph = new Map<string, string[]>();
  for (const f of files(src)) {
    const deps = graph.get(folder(f)) ?? [];
    for (const d of importsOf(f)) if (folder(d) !== folder(f) && !deps.includes(folder(d))) deps.push(folder(d));
    graph.set(folder(f), deps);
  }
  assert.deepEqual(findCycles(graph).map((c) => c.join(' → ')), []);
});

function lineCount(text: string): number {
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

test(`every file of src/ has at most ${MAX_LINES} lines or says why in its header`, () => {
  const long = files(src)
    .map((f) => ({ f, text: readFileSync(f, 'utf8') }))
    .filter(({ text }) => lineCount(text) > MAX_LINES && !/^[\s\S]{0,2000}?Longer than 300 lines:/.test(text))
    .map(({ f, text }) => `${path.relative(root, f)} (${lineCount(text)} lines)`);
  assert.deepEqual(long, []);
});
