import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { main } from '../../src/cli/main.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'metamesh-cli-'));
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

test('generate on the examples exits 0 and prints the five output keys', async () => {
  const r = await run('generate', '-f', path.join(root, 'examples'));
  assert.equal(r.code, 0, r.err);
  const doc = parse(r.out) as Record<string, unknown[]>;
  assert.deepEqual(Object.keys(doc), ['serviceEntries', 'envoyFilters', 'virtualServices', 'routes', 'diagnostics']);
  assert.ok(doc.envoyFilters!.length > 0);
  assert.ok(doc.routes!.length > 0);
});

test('-o json and -o yaml print the same document', async () => {
  const y = await run('generate', '-f', path.join(root, 'examples'));
  const j = await run('generate', '-o', 'json', '-f', path.join(root, 'examples'));
  assert.deepEqual(JSON.parse(j.out), parse(y.out));
});

test('an invalid MetaRouter gives exit 1 and a diagnostic, not a crash', async () => {
  const f = tmpFile('bad.yaml', `apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: bad, namespace: ns}
spec:
  hosts: [a.b.svc.cluster.local]
  routes:
  - route:
    - {destination: {host: a.b.svc.cluster.local, subset: v1}, weight: 30}
    - {destination: {host: a.b.svc.cluster.local, subset: v2}, weight: 30}
`);
  const r = await run('generate', '-o', 'json', '-f', f);
  assert.equal(r.code, 1);
  const codes = (JSON.parse(r.out) as { diagnostics: { code: string }[] }).diagnostics.map((d) => d.code);
  assert.ok(codes.includes('MM_ROUTER_WEIGHTS'), codes.join());
  assert.ok(codes.includes('MM_ROUTER_NOT_APPLIED'), codes.join());
  assert.match(r.err, /error\(s\) in the input/);
});

test('validate prints one line per diagnostic and a summary', async () => {
  const f = tmpFile('broken.yaml', 'kind: [unclosed\n');
  const r = await run('validate', '-f', f);
  assert.equal(r.code, 1);
  assert.match(r.out, /^error\s+MM_INPUT_YAML_SYNTAX/m);
  assert.match(r.out, /1 file\(s\) checked: 1 error\(s\)/);
});

test('usage errors exit 2', async () => {
  assert.equal((await run()).code, 2);
  assert.equal((await run('frobnicate', '-f', 'x')).code, 2);
  assert.equal((await run('generate')).code, 2);
  assert.equal((await run('generate', '-f', 'x', '-o', 'xml')).code, 2);
  assert.equal((await run('generate', '--bogus')).code, 2);
});

test('a missing file is a diagnostic with exit 1', async () => {
  const r = await run('validate', '-f', path.join(root, 'no-such-dir'));
  assert.equal(r.code, 1);
  assert.match(r.out, /does not exist/);
});

test('--help exits 0 and documents the exit codes', async () => {
  const r = await run('--help');
  assert.equal(r.code, 0);
  assert.match(r.out, /Exit status: 0 = no errors, 1 = errors in the input, 2 = usage error/);
});
