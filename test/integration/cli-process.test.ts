/**
 * The real `bin/metamesh.js` in its own process: exit codes and what goes to stdout and stderr.
 * The package is compiled (tsconfig.build.json) into .tmp/cli-package/dist next to a copy of
 * bin/metamesh.js, package.json and protocols/, the layout the bin script expects.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { DUBBO_SERVICE, metaRouter, tmpTree } from '../support/cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = path.join(root, '.tmp/cli-package');
const bin = path.join(pkg, 'bin/metamesh.js');

before(() => {
  rmSync(pkg, { recursive: true, force: true });
  mkdirSync(pkg, { recursive: true });
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(pkg, 'dist')], { cwd: root, stdio: 'inherit' });
  for (const p of ['bin', 'protocols', 'proto', 'package.json']) cpSync(path.join(root, p), path.join(pkg, p), { recursive: true });
});

function metamesh(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('generate -o manifests: the objects on stdout, the diagnostics on stderr, exit 0', () => {
  const r = metamesh('generate', '-f', 'examples/', '-o', 'manifests');
  assert.equal(r.status, 0, r.stderr);
  const kinds = parseAllDocuments(r.stdout, { version: '1.1' }).map((d) => (d.toJS() as { kind: string }).kind);
  assert.ok(kinds.length > 0);
  assert.deepEqual([...new Set(kinds)], ['ServiceEntry', 'EnvoyFilter', 'VirtualService']);
  assert.match(r.stderr, /^info    MM_SERVICE_VIP_ALLOCATED  ServiceEntry video\/video-server: /m);
  assert.doesNotMatch(r.stdout, /MM_/);
});

test('validate exits 1 on a MetaRouter host typo, with the findings on stdout and nothing on stderr', () => {
  const dir = tmpTree({ 'a.yaml': `${DUBBO_SERVICE}---\n${metaRouter('demo.dubbo.exampel', 'v2')}` });
  const r = metamesh('validate', '-f', dir);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^warning MM_ROUTER_NO_SERVICE /m);
  assert.equal(r.stderr, '');
  assert.equal(metamesh('validate', '-f', 'examples/').status, 0);
});

test('a usage error exits 2 with nothing on stdout', () => {
  const r = metamesh('generate', '-f', 'examples/', '--tls-cert', 'x');
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, "metamesh generate: --tls-cert is not a flag of generate (it is a flag of serve)\nRun 'metamesh generate --help' for usage.\n");
});

test('serve on a missing path exits 2 without starting', () => {
  const r = metamesh('serve', '-f', 'no-such-dir/', '--xds-address', '127.0.0.1:0', '--http-address', '127.0.0.1:0');
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^metamesh serve: cannot serve no-such-dir\/: no such file or directory; nothing was started\.\n/);
});

test('--version and --help exit 0 on stdout', () => {
  const v = metamesh('--version');
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^metamesh \d+\.\d+\.\d+\n$/);
  const h = metamesh('validate', '--help');
  assert.equal(h.status, 0);
  assert.match(h.stdout, /--strict/);
  assert.equal(h.stderr, '');
});
