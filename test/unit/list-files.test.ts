/**
 * The one lister of `-f` paths (src/store/list.ts), used by generate/validate and by serve's store:
 * it never throws, and every path it cannot use is a diagnostic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '../../src/model/diagnostics.js';
import { listFiles, missingPaths } from '../../src/store/list.js';
import { tmpTree } from '../support/cli.js';
import { runChild, runCliChild, srcModule } from '../support/child-cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('directories are walked in name order for .yaml/.yml/.json, dot names skipped; explicit files whatever their extension', () => {
  const dir = tmpTree({ 'b.yaml': 'x', 'a/c.yml': 'x', 'a/d.json': 'x', 'notes.txt': 'x', '.hidden.yaml': 'x', '.git/e.yaml': 'x', 'extra.conf': 'x' });
  const diagnostics: Diagnostic[] = [];
  const files = listFiles([dir, path.join(dir, 'extra.conf')], diagnostics);
  assert.deepEqual(files.map((f) => path.relative(dir, f)), ['a/c.yml', 'a/d.json', 'b.yaml', 'extra.conf']);
  assert.deepEqual(diagnostics, []);
});

test('a missing path is MM_INPUT_UNREADABLE; a directory with nothing to read is MM_INPUT_EMPTY', () => {
  const dir = tmpTree({ 'sub/readme.md': 'x' });
  const diagnostics: Diagnostic[] = [];
  assert.deepEqual(listFiles([path.join(dir, 'nope'), dir], diagnostics), []);
  assert.deepEqual(diagnostics.map((d) => [d.code, path.relative(dir, d.object)]), [
    ['MM_INPUT_UNREADABLE', 'nope'],
    ['MM_INPUT_EMPTY', ''],
  ]);
});

test('missingPaths names exactly the paths that do not exist', () => {
  const dir = tmpTree({ 'a.yaml': 'x' });
  assert.deepEqual(missingPaths([dir, path.join(dir, 'a.yaml'), path.join(dir, 'b.yaml')]), [path.join(dir, 'b.yaml')]);
});

// A directory that cannot be listed. chmod 000 does not stop root, so as root the reading runs in a
// child process under the unprivileged uid 65534.
test('an unreadable directory inside the tree is a diagnostic for generate, not a crash', () => {
  const dir = tmpTree({ 'ok.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n' });
  const locked = path.join(dir, 'locked');
  mkdirSync(locked);
  chmodSync(locked, 0o000);
  chmodSync(dir, 0o755);
  const script = `import(${JSON.stringify(path.join(root, 'src/cli/main.ts'))}).then(async (m) => {
    let out = ''; const code = await m.main(['validate', '-o', 'json', '-f', ${JSON.stringify(dir)}], { out: (s) => (out += s), err: () => {} });
    process.stdout.write(JSON.stringify({ code, diagnostics: JSON.parse(out) }));
  })`;
  const asRoot = process.getuid?.() === 0;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
  chmodSync(locked, 0o755);
  assert.equal(r.status, 0, r.stderr);
  const { code, diagnostics } = JSON.parse(r.stdout) as { code: number; diagnostics: Diagnostic[] };
  assert.equal(code, 1);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.object]), [['MM_INPUT_UNREADABLE', locked]]);
  assert.match(diagnostics[0]!.message, /cannot be listed/);
});

test('a directory reached through several links is listed once; a link to a directory above it is MM_INPUT_SYMLINK_LOOP', () => {
  const dir = tmpTree({ 'real/a.yaml': 'x' });
  symlinkSync(path.join(dir, 'real'), path.join(dir, 'alias'));
  symlinkSync('..', path.join(dir, 'real', 'up'));
  const diagnostics: Diagnostic[] = [];
  const files = listFiles([dir], diagnostics);
  assert.deepEqual(files.map((f) => path.relative(dir, f)), ['alias/a.yaml']);
  assert.deepEqual(diagnostics.map((d) => [d.code, path.relative(dir, d.object)]), [['MM_INPUT_SYMLINK_LOOP', 'alias/up']]);
});

test('a chain of links that never ends in a file is MM_INPUT_UNREADABLE', () => {
  const dir = tmpTree({});
  symlinkSync('b.yaml', path.join(dir, 'a.yaml'));
  symlinkSync('a.yaml', path.join(dir, 'b.yaml'));
  const diagnostics: Diagnostic[] = [];
  assert.deepEqual(listFiles([dir], diagnostics), []);
  assert.deepEqual(diagnostics.map((d) => [d.code, path.basename(d.object)]), [['MM_INPUT_UNREADABLE', 'a.yaml'], ['MM_INPUT_UNREADABLE', 'b.yaml'], ['MM_INPUT_EMPTY', path.basename(dir)]]);
  assert.match(diagnostics[0]!.message, /chain of symbolic links/);
});

test('a FIFO named with -f is skipped too, and one put in place of a listed file is refused by the reader without blocking', { skip: process.platform === 'win32' }, () => {
  const dir = tmpTree({});
  const fifo = path.join(dir, 'pipe.yaml');
  mkfifo(fifo);
  const cli = runCliChild(['validate', '-o', 'json', '-f', fifo], 30_000);
  assert.equal(cli.timedOut, false);
  assert.deepEqual((JSON.parse(cli.out) as Diagnostic[]).map((d) => d.code), ['MM_INPUT_NOT_REGULAR']);
  const read = runChild(`const m = await import(${JSON.stringify(srcModule('store/read-file.ts'))}); process.stdout.write(JSON.stringify(m.readManifestFile(${JSON.stringify(fifo)}, { maxFileBytes: 100 })));`, 30_000);
  assert.equal(read.timedOut, false, 'readManifestFile blocked on the FIFO');
  const result = JSON.parse(read.out) as { ok: boolean; diagnostic?: Diagnostic };
  assert.equal(result.ok, false);
  assert.equal(result.diagnostic?.code, 'MM_INPUT_NOT_REGULAR');
});

function mkfifo(file: string): void {
  const r = spawnSync('mkfifo', [file]);
  assert.equal(r.status, 0, `mkfifo failed: ${r.stderr}`);
}
