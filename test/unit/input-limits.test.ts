/**
 * The input limits (src/input/limits.ts): each is a diagnostic naming the file and the limit, never
 * a crash or a stall, and a file over a limit blocks only itself. (The pathological files that
 * called for them are in input-hardening.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseYaml } from '../../src/input/read.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../../src/input/limits.js';
import { runCli, tmpTree, DUBBO_SERVICE, metaRouter } from '../support/cli.js';

const small = (over: Partial<InputLimits>): InputLimits => ({ ...DEFAULT_INPUT_LIMITS, ...over });
const codes = (r: { diagnostics: { code: string }[] }) => r.diagnostics.map((d) => d.code);
const nested = (levels: number) => `${'['.repeat(levels)}x${']'.repeat(levels)}\n`;

const cases: [string, string, Partial<InputLimits>, string, RegExp][] = [
  ['a file over the byte limit', 'a: b\nc: d\n', { maxFileBytes: 5 }, 'MM_INPUT_TOO_LARGE', /f\.yaml is 10 bytes, more than 5 bytes \(the limit, --max-file-bytes\)/],
  ['a byte limit counted in UTF-8 bytes, not characters', 'a: ééé\n', { maxFileBytes: 8 }, 'MM_INPUT_TOO_LARGE', /is 10 bytes/],
  ['a file with one document more than the limit', 'a: 1\n---\nb: 2\n---\n', { maxDocuments: 2 }, 'MM_INPUT_TOO_MANY_DOCUMENTS', /more than 2 YAML documents \(the limit, --max-documents\)/],
  ['aliases expanding over the limit', 'a: &a [1, 2, 3, 4, 5, 6, 7, 8]\nb: [*a, *a, *a, *a, *a, *a, *a, *a]\n', { maxExpandedBytes: 200 }, 'MM_INPUT_ALIAS_EXPANSION', /f\.yaml#1 expands its aliases to more than 200 bytes/],
  ['the expansion summed over the documents of the file', 'a: &a [1, 2, 3, 4]\nb: [*a, *a]\n---\na: &a [1, 2, 3, 4]\nb: [*a, *a]\n', { maxExpandedBytes: 100 }, 'MM_INPUT_ALIAS_EXPANSION', /f\.yaml#2 expands/],
  ['an alias to a node that contains it', 'a: &a [1, *a]\n', {}, 'MM_INPUT_ALIAS_EXPANSION', /alias to a node that contains it, which expands without end/],
  ['nesting deeper than the limit', nested(5), { maxDepth: 4 }, 'MM_INPUT_TOO_DEEP', /more than 4 levels deep \(the limit, --max-depth\)/],
  ['nesting that is deep only once aliases are expanded', 'a: &a [x]\nb: &b [*a]\nc: &c [*b]\nd: [*c]\n', { maxDepth: 4 }, 'MM_INPUT_TOO_DEEP', /counting what its aliases stand for/],
];

for (const [name, text, limits, code, message] of cases) {
  test(`${name} is ${code}, the whole file skipped`, () => {
    const r = parseYaml(text, 'f.yaml', small(limits));
    assert.deepEqual(codes(r), [code]);
    assert.match(r.diagnostics[0]!.message, message);
    assert.deepEqual(r.documents, []);
  });
}

test('a file exactly at each limit is read', () => {
  const limits = small({ maxFileBytes: 15, maxDocuments: 2, maxDepth: 3 });
  const r = parseYaml('a: [[1]]\n---\nb\n', 'f.yaml', limits);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.documents.map((d) => d.value), [{ a: [[1]] }, 'b']);
});

test('aliases within the limit are expanded as before', () => {
  const r = parseYaml('a: &a {x: 1}\nb: *a\n', 'f.yaml');
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.documents[0]!.value, { a: { x: 1 }, b: { x: 1 } });
});

test('a file over a limit blocks only itself: the other files are read and applied', async () => {
  const dir = tmpTree({ 'a-service.yaml': DUBBO_SERVICE, 'b-too-many.yaml': '--- a\n'.repeat(4), 'c-router.yaml': metaRouter('demo.dubbo.example', 'v2') });
  const r = await runCli('generate', '-o', 'json', '--max-documents', '3', '-f', dir);
  const out = JSON.parse(r.out) as { routes: unknown[]; diagnostics: { code: string; object: string }[] };
  assert.deepEqual(out.diagnostics.map((d) => [d.code, path.basename(d.object)]), [['MM_INPUT_TOO_MANY_DOCUMENTS', 'b-too-many.yaml']]);
  assert.match(JSON.stringify(out.routes), /"subset|v2/);
  assert.equal(r.code, 1);
});
