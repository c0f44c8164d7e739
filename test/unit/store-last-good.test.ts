/**
 * What a watched directory keeps in effect when its files go bad: per-resource last known good
 * (a typo, a semantic error, a truncated, half-written or corrupted file never removes or replaces
 * a resource) and never withdrawing on a read or listing failure. Each case reloads the store
 * explicitly (watch 'none') and checks the changes it would hand to the engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { DirectoryStore, type DirectoryStoreOptions, type StoreUpdate } from '../../src/store/directory.js';
import { listFiles } from '../../src/store/list.js';
import type { SourceFs } from '../../src/store/sources.js';
import type { Diagnostic } from '../../src/model/diagnostics.js';

const silent = pino({ level: 'silent' });

const router = (name: string, weights: readonly number[] = [100], field = 'weight') => `apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: ${name}, namespace: ns}
spec:
  hosts: [svc.ns.svc.cluster.local]
  routes:
  - name: r
    route:
${weights.map((w, i) => `    - destination: {host: svc.ns.svc.cluster.local, subset: v${i}}\n      ${field}: ${w}`).join('\n')}
`;

const serviceEntry = (name: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: ns}
spec:
  hosts: [${name}.ns.svc.cluster.local]
  ports: [{number: 20880, name: tcp-metaprotocol-dubbo, protocol: TCP}]
  resolution: STATIC
  endpoints: [{address: 10.0.0.1}]
`;

/** A store over a temp directory; `fs` lets a case make reads or listings fail on demand. */
function setup(files: Record<string, string>, extra: Partial<DirectoryStoreOptions> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-lkg-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const store = new DirectoryStore({ paths: [dir], logger: silent, watch: 'none', now: () => 0, ...extra });
  const first = store.load();
  return { dir, file: (n: string) => path.join(dir, n), store, first, cleanup: () => (store.close(), rmSync(dir, { recursive: true, force: true })) };
}

const names = (u: StoreUpdate, op: 'upsert' | 'delete') => u.changes.filter((c) => c.op === op).map((c) => (c.op === 'upsert' ? c.resource.metadata.name : c.name)).sort();
const codes = (u: StoreUpdate) => u.diagnostics.map((d) => d.code);
const find = (ds: readonly Diagnostic[], code: string) => ds.find((d) => d.code === code);

test('a MetaRouter with a typo (wieght) keeps its last valid version, named by revision', () => {
  const s = setup({ 'a.yaml': router('a', [60, 40]) });
  try {
    writeFileSync(s.file('a.yaml'), router('a', [60, 40], 'wieght'));
    const u = s.store.load();
    assert.deepEqual(u.changes, [], 'neither removed nor replaced');
    assert.ok(codes(u).includes('MM_INPUT_UNKNOWN_FIELD'), 'the typo is still reported');
    const kept = find(u.diagnostics, 'MM_RESOURCE_LAST_GOOD');
    assert.equal(kept?.object, 'MetaRouter ns/a');
    assert.equal(kept?.severity, 'warning');
    assert.match(kept!.message, /revision [0-9a-f]{12}, read from .*a\.yaml#1/);
    // Fixing it applies the fix and ends the warning.
    writeFileSync(s.file('a.yaml'), router('a', [50, 50]));
    const fixed = s.store.load();
    assert.deepEqual(names(fixed, 'upsert'), ['a']);
    assert.ok(!codes(fixed).includes('MM_RESOURCE_LAST_GOOD'));
  } finally {
    s.cleanup();
  }
});

test('a MetaRouter whose weights no longer sum to 100 (a semantic error) keeps its last valid version', () => {
  const s = setup({ 'a.yaml': router('a', [60, 40]) });
  try {
    writeFileSync(s.file('a.yaml'), router('a', [60, 30]));
    const u = s.store.load();
    assert.deepEqual(u.changes, []);
    assert.ok(codes(u).includes('MM_ROUTER_WEIGHTS'), 'the finding on the new version is reported');
    assert.equal(find(u.diagnostics, 'MM_RESOURCE_LAST_GOOD')?.object, 'MetaRouter ns/a');
  } finally {
    s.cleanup();
  }
});

test('a ServiceEntry that fails Istio validation keeps its last valid version', () => {
  const s = setup({ 'se.yaml': serviceEntry('demo') });
  try {
    writeFileSync(s.file('se.yaml'), serviceEntry('demo').replace('resolution: STATIC', 'resolution: STATIK'));
    const u = s.store.load();
    assert.deepEqual(u.changes, []);
    assert.equal(find(u.diagnostics, 'MM_RESOURCE_LAST_GOOD')?.object, 'ServiceEntry ns/demo');
  } finally {
    s.cleanup();
  }
});

test('a truncated file (: > f.yaml) removes nothing', () => {
  const s = setup({ 'a.yaml': `${router('a')}---\n${serviceEntry('demo')}` });
  try {
    writeFileSync(s.file('a.yaml'), '');
    const u = s.store.load();
    assert.deepEqual(u.changes, []);
    assert.ok(codes(u).includes('MM_INPUT_EMPTY'));
    assert.deepEqual(u.diagnostics.filter((d) => d.code === 'MM_RESOURCE_LAST_GOOD').map((d) => d.object), ['MetaRouter ns/a', 'ServiceEntry ns/demo']);
  } finally {
    s.cleanup();
  }
});

test('a half-written file (cut inside a document) neither removes nor replaces anything', () => {
  const full = `${serviceEntry('demo')}---\n${router('a')}`;
  const s = setup({ 'a.yaml': full });
  try {
    const at = full.indexOf('metadata: {name: a');
    // Cut where the YAML still parses: the last document has lost its metadata.
    writeFileSync(s.file('a.yaml'), `${full.slice(0, at)}metadata:\n`);
    const u = s.store.load();
    assert.deepEqual(u.changes, []);
    assert.ok(codes(u).includes('MM_INPUT_NOT_OBJECT'));
    assert.equal(find(u.diagnostics, 'MM_RESOURCE_LAST_GOOD')?.object, 'MetaRouter ns/a');
    // Cut where it does not parse: the whole file keeps its last good content.
    writeFileSync(s.file('a.yaml'), `${full.slice(0, at)}metad`);
    const broken = s.store.load();
    assert.deepEqual(broken.changes, []);
    assert.equal(find(broken.diagnostics, 'MM_SOURCE_STALE')?.object, s.file('a.yaml'));
  } finally {
    s.cleanup();
  }
});

test('four corrupted bytes in a document remove nothing', () => {
  const full = `${serviceEntry('demo')}---\n${router('a')}`;
  const s = setup({ 'a.yaml': full });
  try {
    const at = full.indexOf('metadata: {name: a');
    writeFileSync(s.file('a.yaml'), `${full.slice(0, at)}\u0000\u0000\u0000\u0000${full.slice(at + 4)}`);
    const u = s.store.load();
    assert.equal(names(u, 'delete').length, 0, JSON.stringify(u.changes));
    assert.deepEqual(u.changes, []);
  } finally {
    s.cleanup();
  }
});

test('a document really gone from a file that reads cleanly is removed, and so is a deleted file', () => {
  const s = setup({ 'a.yaml': `${router('a')}---\n${router('b')}`, 'c.yaml': router('c') });
  try {
    writeFileSync(s.file('a.yaml'), router('a'));
    assert.deepEqual(names(s.store.load(), 'delete'), ['b']);
    unlinkSync(s.file('c.yaml'));
    const u = s.store.load();
    assert.deepEqual(names(u, 'delete'), ['c']);
    assert.ok(!codes(u).includes('MM_RESOURCE_LAST_GOOD'));
  } finally {
    s.cleanup();
  }
});

test('a resource that was never valid has nothing to keep: it is simply absent', () => {
  const s = setup({ 'a.yaml': router('a', [60, 40], 'wieght') });
  try {
    assert.deepEqual(s.first.changes, []);
    assert.ok(!codes(s.first).includes('MM_RESOURCE_LAST_GOOD'));
  } finally {
    s.cleanup();
  }
});

/** A SourceFs over the real one whose reads or listings fail while `fail` says so. */
function faultyFs(fail: { read?: string; list?: string; code: string }): SourceFs {
  const error = (p: string) => Object.assign(new Error(`${fail.code}: simulated failure, open '${p}'`), { code: fail.code });
  return {
    list: (paths, diagnostics) => {
      const files = listFiles(paths, diagnostics);
      const bad = fail.list;
      if (bad === undefined) return files;
      diagnostics.push({ code: 'MM_INPUT_UNREADABLE', severity: 'error', object: bad, message: `the directory ${bad} cannot be listed: ${error(bad).message}` });
      return files.filter((f) => !f.startsWith(`${bad}/`));
    },
    readFile: (file) => {
      if (fail.read !== undefined && file.endsWith(fail.read)) throw error(file);
      return readFileSync(file, 'utf8');
    },
  };
}

test('a file that cannot be read (EIO) keeps its last good content and says so; /readyz state is stale', () => {
  const fail: { read?: string; code: string } = { code: 'EIO' };
  const s = setup({ 'a.yaml': router('a'), 'b.yaml': router('b') }, { fs: faultyFs(fail) });
  try {
    fail.read = 'a.yaml';
    const u = s.store.load();
    assert.deepEqual(u.changes, []);
    const stale = find(u.diagnostics, 'MM_SOURCE_STALE');
    assert.equal(stale?.object, s.file('a.yaml'));
    assert.equal(stale?.severity, 'warning');
    assert.match(stale!.message, /EIO.*last good content \(revision [0-9a-f]{12}\)/);
    const [root] = s.store.status();
    assert.equal(root!.state, 'ok');
    assert.deepEqual(root!.unhealthyFiles.map((f) => [f.source, f.state]), [[s.file('a.yaml'), 'stale']]);
    delete fail.read;
    const back = s.store.load();
    assert.ok(!codes(back).includes('MM_SOURCE_STALE'));
    assert.deepEqual(s.store.status()[0]!.unhealthyFiles, []);
  } finally {
    s.cleanup();
  }
});

test('a directory listing that fails (EMFILE) withdraws nothing; a later successful listing believes removals', () => {
  const fail: { list?: string; code: string } = { code: 'EMFILE' };
  const s = setup({ 'a.yaml': router('a'), 'b.yaml': router('b') }, { fs: faultyFs(fail) });
  try {
    fail.list = s.dir;
    const u = s.store.load();
    assert.deepEqual(u.changes, [], 'no file is believed deleted');
    assert.equal(find(u.diagnostics, 'MM_SOURCE_STALE')?.object, s.dir);
    assert.ok(!codes(u).includes('MM_INPUT_UNREADABLE'));
    const [root] = s.store.status();
    assert.equal(root!.state, 'stale');
    assert.match(root!.error ?? '', /EMFILE/);
    delete fail.list;
    unlinkSync(s.file('b.yaml'));
    const after = s.store.load();
    assert.deepEqual(names(after, 'delete'), ['b']);
    assert.equal(s.store.status()[0]!.state, 'ok');
  } finally {
    s.cleanup();
  }
});

test('a subdirectory that cannot be listed keeps its files; removals elsewhere are still believed', () => {
  const fail: { list?: string; code: string } = { code: 'EACCES' };
  const s = setup({ 'a.yaml': router('a') }, { fs: faultyFs(fail) });
  try {
    mkdirSync(s.file('team'));
    writeFileSync(s.file('team/b.yaml'), router('b'));
    assert.deepEqual(names(s.store.load(), 'upsert'), ['b']);
    fail.list = s.file('team');
    unlinkSync(s.file('a.yaml'));
    const u = s.store.load();
    assert.deepEqual(names(u, 'delete'), ['a'], 'only the file really gone is removed');
    assert.deepEqual(u.diagnostics.filter((d) => d.code === 'MM_SOURCE_STALE').map((d) => d.object), [s.file('team')]);
    assert.match(find(u.diagnostics, 'MM_SOURCE_STALE')!.message, /the 1 file\(s\) last read from it stay in effect/);
  } finally {
    s.cleanup();
  }
});

test('a file that grows over an input limit keeps its last good content in serve (MM_SOURCE_STALE), like a syntax error', () => {
  const limits = { maxFileBytes: 4096, maxDocuments: 2, maxExpandedBytes: 1 << 20, maxDepth: 50 };
  const s = setup({ 'a.yaml': router('a') }, { limits });
  try {
    assert.deepEqual(names(s.first, 'upsert'), ['a']);
    writeFileSync(s.file('a.yaml'), `${router('a')}---\n${router('b')}---\n${router('c')}`);
    const u = s.store.load();
    assert.deepEqual(u.changes, [], 'nothing removed, nothing added from the file over the limit');
    assert.ok(codes(u).includes('MM_INPUT_TOO_MANY_DOCUMENTS'), codes(u).join(', '));
    assert.match(find(u.diagnostics, 'MM_SOURCE_STALE')?.message ?? '', /see MM_INPUT_TOO_MANY_DOCUMENTS.*last good content/);
    writeFileSync(s.file('a.yaml'), 'x'.repeat(5000));
    const big = s.store.load();
    assert.deepEqual(big.changes, [], 'a file over the byte limit is refused by the reader and keeps its content too');
    assert.ok(codes(big).includes('MM_SOURCE_STALE'), codes(big).join(', '));
  } finally {
    s.cleanup();
  }
});

test('a subdirectory that never lists does not leave the others without a fallback: a later failure of another keeps its files', () => {
  const bad = new Set<string>();
  const fs: SourceFs = {
    list: (paths, diagnostics) =>
      listFiles(paths, diagnostics).filter((f) => {
        const dir = [...bad].find((b) => f.startsWith(`${b}/`));
        if (dir && !diagnostics.some((d) => d.object === dir)) diagnostics.push({ code: 'MM_INPUT_UNREADABLE', severity: 'error', object: dir, message: `the directory ${dir} cannot be listed: EACCES` });
        return dir === undefined;
      }),
    readFile: (file) => readFileSync(file, 'utf8'),
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-lkg-'));
  mkdirSync(path.join(dir, 'lost+found'));
  writeFileSync(path.join(dir, 'lost+found', 'x.yaml'), router('never-read'));
  mkdirSync(path.join(dir, 'sub'));
  writeFileSync(path.join(dir, 'sub', 'a.yaml'), router('a'));
  bad.add(path.join(dir, 'lost+found'));
  const store = new DirectoryStore({ paths: [dir], logger: silent, watch: 'none', now: () => 0, fs });
  try {
    assert.deepEqual(names(store.load(), 'upsert'), ['a'], 'lost+found never lists, sub/a.yaml is served');
    bad.add(path.join(dir, 'sub'));
    const u = store.load();
    assert.deepEqual(u.changes, [], 'sub cannot be listed now either: a stays served');
    assert.ok(codes(u).includes('MM_SOURCE_STALE'), codes(u).join(', '));
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file replaced by a FIFO is skipped, never opened, and its last good content stays (MM_SOURCE_STALE)', () => {
  const s = setup({ 'a.yaml': router('a'), 'b.yaml': router('b') });
  try {
    unlinkSync(s.file('a.yaml'));
    execFileSync('mkfifo', [s.file('a.yaml')]);
    const u = s.store.load();
    assert.deepEqual(u.changes, [], 'a is neither removed nor replaced');
    assert.ok(codes(u).includes('MM_INPUT_NOT_REGULAR'), codes(u).join(', '));
    assert.match(find(u.diagnostics, 'MM_SOURCE_STALE')?.message ?? '', /a\.yaml cannot be read now \(see MM_INPUT_NOT_REGULAR\)/);
  } finally {
    s.cleanup();
  }
});
