/**
 * The input findings of the hardening issue, each reproduced as it was found and run through the
 * public entry points only (the CLI, the store of `serve`), with the default limits. Inputs that
 * hung or exhausted the reading process run in a child process with a deadline, so on a reader
 * without the fix they fail by the deadline instead of hanging the test run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../../src/model/diagnostics.js';
import { DUBBO_SERVICE, metaRouter, runCli, tmpTree } from '../support/cli.js';
import { runChild, runCliChild, srcModule } from '../support/child-cli.js';

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
  let r;
  try {
    r = runCliChild(['generate', '-o', 'json', '-f', dir], 60_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(r.timedOut, false, 'generate did not finish within 60 s');
  const out = JSON.parse(r.out) as { routes: unknown[]; diagnostics: { code: string; object: string; message: string }[] };
  assert.deepEqual(out.diagnostics.map((d) => [d.code, path.basename(d.object)]), [['MM_INPUT_TOO_LARGE', 'huge.yaml']]);
  assert.match(out.diagnostics[0]!.message, /is 10\d{7} bytes, more than 4194304 bytes/);
  assert.ok(out.routes.length > 0);
  assert.equal(r.code, 1);
});

test('two symlink loops in a directory given to generate: each reported once, the files read once, no hang', () => {
  const dir = tmpTree({ 'manifests/service.yaml': DUBBO_SERVICE });
  symlinkSync('.', path.join(dir, 'manifests', 'loop1'));
  symlinkSync('..', path.join(dir, 'manifests', 'loop2'));
  const r = runCliChild(['generate', '-o', 'json', '-f', path.join(dir, 'manifests')], 30_000);
  assert.equal(r.timedOut, false, 'generate did not finish within 30 s');
  const out = JSON.parse(r.out) as { diagnostics: Diagnostic[] };
  assert.deepEqual(out.diagnostics.map((d) => [d.code, path.relative(dir, d.object)]), [
    ['MM_INPUT_SYMLINK_LOOP', 'manifests/loop1'],
    ['MM_INPUT_SYMLINK_LOOP', 'manifests/loop2'],
  ]);
  assert.equal(r.code, 0, r.err);
});

test('a FIFO named *.yaml in a directory given to generate is skipped without being opened; the other files are applied', { skip: process.platform === 'win32' }, () => {
  const dir = tmpTree({ 'service.yaml': DUBBO_SERVICE, 'router.yaml': metaRouter('demo.dubbo.example', 'v2') });
  mkfifo(path.join(dir, 'pipe.yaml'));
  const r = runCliChild(['generate', '-o', 'json', '-f', dir], 30_000);
  assert.equal(r.timedOut, false, 'generate did not finish within 30 s (it opened the FIFO)');
  const out = JSON.parse(r.out) as { routes: unknown[]; diagnostics: Diagnostic[] };
  assert.deepEqual(out.diagnostics.map((d) => [d.code, path.basename(d.object)]), [['MM_INPUT_NOT_REGULAR', 'pipe.yaml']]);
  assert.match(out.diagnostics[0]!.message, /a FIFO \(named pipe\), not a regular file; it was skipped without being opened/);
  assert.ok(out.routes.length > 0);
  assert.equal(r.code, 0, r.err);
});

test('the store of serve loads a directory holding a FIFO and two symlink loops, without hanging', { skip: process.platform === 'win32' }, () => {
  const dir = tmpTree({ 'manifests/service.yaml': DUBBO_SERVICE });
  const manifests = path.join(dir, 'manifests');
  mkfifo(path.join(manifests, 'pipe.yaml'));
  symlinkSync('.', path.join(manifests, 'loop1'));
  symlinkSync('..', path.join(manifests, 'loop2'));
  const script = `const { DirectoryStore } = await import(${JSON.stringify(srcModule('store/directory.ts'))});
    const { default: pino } = await import('pino');
    const store = new DirectoryStore({ paths: [${JSON.stringify(manifests)}], logger: pino({ level: 'silent' }), watch: 'none' });
    const u = store.load();
    process.stdout.write(JSON.stringify({ changes: u.changes.length, codes: u.diagnostics.map((d) => d.code).sort() }));`;
  const r = runChild(script, 30_000);
  assert.equal(r.timedOut, false, 'the store did not finish loading within 30 s');
  const { changes, codes } = JSON.parse(r.out) as { changes: number; codes: string[] };
  assert.deepEqual(codes, ['MM_INPUT_NOT_REGULAR', 'MM_INPUT_SYMLINK_LOOP', 'MM_INPUT_SYMLINK_LOOP']);
  assert.ok(changes > 0, 'the regular file was not read');
});

function mkfifo(file: string): void {
  const r = spawnSync('mkfifo', [file]);
  assert.equal(r.status, 0, `mkfifo failed: ${r.stderr}`);
}
