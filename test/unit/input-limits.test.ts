/**
 * The input limits (src/input/limits.ts): each is a diagnostic naming the file and the limit, never
 * a crash or a stall, and a file over a limit blocks only itself. The pathological files of the
 * hardening issue are reproduced with the default limits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseYaml } from '../../src/input/read.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../../src/input/limits.js';
import { runCli, tmpTree, DUBBO_SERVICE, metaRouter } from '../support/cli.js';
import { runCliChild } from '../support/child-cli.js';

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

// The findings of the hardening issue, with the default limits.

test('130,000 documents in one 780 KB file are one diagnostic with exit 1, not a stack trace with exit 3', async () => {
  const dir = tmpTree({ 'many.yaml': '--- a\n'.repeat(130_000), 'service.yaml': DUBBO_SERVICE });
  const r = await runCli('validate', '-o', 'json', '-f', dir);
  assert.equal(r.code, 1, r.err);
  const list = JSON.parse(r.out) as { code: string; object: string; message: string }[];
  assert.deepEqual(list.map((d) => [d.code, path.basename(d.object)]), [['MM_INPUT_TOO_MANY_DOCUMENTS', 'many.yaml']]);
  assert.match(list[0]!.message, /more than 10000 YAML documents/);
});

test('a 404 KB file whose aliases expand to 400 MB (under the alias-count limit of the yaml package) is skipped before expanding', async () => {
  const big = 'x'.repeat(400_000);
  const bomb = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: bomb, namespace: ns}
spec:
  hosts: [bomb.example]
  ports: [{number: 80, name: tcp, protocol: TCP}]
  resolution: DNS
  s: &s "${big}"
  l: [${Array(999).fill('*s').join(', ')}]
`;
  const dir = tmpTree({ 'bomb.yaml': bomb, 'service.yaml': DUBBO_SERVICE });
  const r = await runCli('validate', '-o', 'json', '-f', dir);
  const list = JSON.parse(r.out) as { code: string; object: string }[];
  assert.deepEqual(list.map((d) => [d.code, path.basename(d.object)]), [['MM_INPUT_ALIAS_EXPANSION', 'bomb.yaml#1']]);
  assert.equal(r.code, 1);
});

test('an alias to a node that contains it is a diagnostic, not a stack overflow in later stages', async () => {
  const dir = tmpTree({ 'cycle.yaml': `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: c, namespace: ns}\nspec:\n  hosts: [c.example]\n  x: &x [*x]\n` });
  const r = await runCli('validate', '-o', 'json', '-f', dir);
  assert.deepEqual((JSON.parse(r.out) as { code: string }[]).map((d) => d.code), ['MM_INPUT_ALIAS_EXPANSION']);
  assert.equal(r.code, 1);
});

// A child process with a deadline: on a reader without the limit this runs for a minute and
// gigabytes, so it must not run inside the test process.
test('a 100 MB file of ServiceEntries is refused by its size, and the other files are still applied', () => {
  const dir = tmpTree({ 'service.yaml': DUBBO_SERVICE, 'router.yaml': metaRouter('demo.dubbo.example', 'v2') });
  const entry = `---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s, namespace: big}\nspec: {hosts: [s.big.example], ports: [{number: 80, name: tcp, protocol: TCP}], resolution: DNS}\n`;
  const chunk = entry.repeat(Math.ceil((1024 * 1024) / entry.length));
  const file = path.join(dir, 'huge.yaml');
  writeFileSync(file, chunk.repeat(Math.ceil((100 * 1024 * 1024) / chunk.length)));
  const r = runCliChild(['generate', '-o', 'json', '-f', dir], 60_000);
  assert.equal(r.timedOut, false, 'generate did not finish within 60 s');
  const out = JSON.parse(r.out) as { routes: unknown[]; diagnostics: { code: string; object: string; message: string }[] };
  assert.deepEqual(out.diagnostics.map((d) => [d.code, path.basename(d.object)]), [['MM_INPUT_TOO_LARGE', 'huge.yaml']]);
  assert.match(out.diagnostics[0]!.message, /is 10\d{7} bytes, more than 4194304 bytes/);
  assert.ok(out.routes.length > 0);
  assert.equal(r.code, 1);
});
