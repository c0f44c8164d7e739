/**
 * Real read and listing failures, not simulated ones: file descriptors run out (in a child process
 * with a lowered `ulimit -n`, which then opens files until EMFILE), and a file that fails to read
 * with EIO. Neither may withdraw a resource.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { DirectoryStore } from '../../src/store/directory.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const router = (name: string) => `apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: ${name}, namespace: ns}
spec:
  hosts: [${name}.ns.svc.cluster.local]
  routes:
  - name: r
    route:
    - destination: {host: ${name}.ns.svc.cluster.local}
`;

/** Loads a store, exhausts the file descriptors, reloads; prints what the reload reported. */
const CHILD = `
import { openSync } from 'node:fs';
import pino from 'pino';
const { DirectoryStore } = await import(process.env.STORE_MODULE);
const store = new DirectoryStore({ paths: [process.env.STORE_DIR], logger: pino({ level: 'silent' }), watch: 'none' });
const first = store.load();
const held = [];
try { for (;;) held.push(openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; }
const u = store.load();
process.stdout.write(JSON.stringify({ first: first.changes.length, changes: u.changes.map((c) => c.op), codes: u.diagnostics.map((d) => d.code) }));
`;

test('when file descriptors run out (EMFILE) during a reload, nothing is withdrawn and the source says it is stale', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-emfile-'));
  try {
    writeFileSync(path.join(dir, 'a.yaml'), router('a'));
    writeFileSync(path.join(dir, 'b.yaml'), router('b'));
    const out = execFileSync('bash', ['-c', 'ulimit -n 128 && exec "$0" --import tsx --input-type=module -e "$CHILD_SCRIPT"', process.execPath], {
      cwd: root,
      env: { ...process.env, CHILD_SCRIPT: CHILD, STORE_DIR: dir, STORE_MODULE: pathToFileURL(path.join(root, 'src/store/directory.ts')).href },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const r = JSON.parse(out) as { first: number; changes: string[]; codes: string[] };
    assert.equal(r.first, 2, 'both resources were read before the descriptors ran out');
    assert.deepEqual(r.changes, [], 'no resource is withdrawn');
    assert.ok(r.codes.includes('MM_SOURCE_STALE'), `got ${r.codes.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that fails to read with EIO keeps its resources', { skip: process.platform !== 'linux' && 'needs /proc/self/mem' }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-eio-'));
  const store = new DirectoryStore({ paths: [dir], logger: pino({ level: 'silent' }), watch: 'none' });
  try {
    const file = path.join(dir, 'a.yaml');
    writeFileSync(file, router('a'));
    assert.equal(store.load().changes.length, 1);
    // Reading /proc/self/mem from offset 0 fails with EIO: a real read error on a listed file.
    unlinkSync(file);
    symlinkSync('/proc/self/mem', file);
    const u = store.load();
    assert.deepEqual(u.changes, []);
    assert.deepEqual(u.diagnostics.map((d) => [d.code, d.object]), [['MM_SOURCE_STALE', file]]);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
