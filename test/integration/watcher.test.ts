/**
 * The file watcher against the real file system (fs.watch on temporary directories). The
 * periodic rescan is off in the fs.watch cases, so only the watcher itself can notice each change;
 * every wait is a poll with a deadline. The last case checks the rescan itself, with manual timers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { DirectoryStore, type StoreUpdate, type Timers } from '../../src/store/directory.js';
import { mutationRouter } from '../support/manifests.js';
import { manualTimers } from '../support/manual-timers.js';

const router = mutationRouter;

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Watched {
  readonly base: string;
  readonly dir: string;
  readonly updates: StoreUpdate[];
  readonly logs: Array<Record<string, unknown>>;
  readonly store: DirectoryStore;
  /** Waits for an update whose changes satisfy `pred`, returning it. */
  change(pred: (u: StoreUpdate) => boolean, what: string): Promise<StoreUpdate>;
  close(): void;
}

/** A store watching `target` ('dir' = the directory, or a file name inside it) with real fs.watch. */
function watched(files: Record<string, string>, target = 'dir', extra: { timers?: Timers } = {}): Watched {
  const base = mkdtempSync(path.join(os.tmpdir(), 'metamesh-watch-'));
  const dir = path.join(base, 'manifests');
  mkdirSync(dir);
  for (const [n, t] of Object.entries(files)) writeFileSync(path.join(dir, n), t);
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) });
  const paths = [target === 'dir' ? dir : path.join(dir, target)];
  const store = new DirectoryStore({ paths, logger, watch: 'auto', debounceMs: 20, rescanIntervalMs: 0, ...extra });
  const updates: StoreUpdate[] = [];
  store.load();
  store.start((u) => updates.push(u));
  let seen = 0;
  return {
    base,
    dir,
    updates,
    logs,
    store,
    async change(pred, what) {
      let found: StoreUpdate | undefined;
      await until(() => {
        for (; seen < updates.length; seen++) if (!found && pred(updates[seen]!)) found = updates[seen];
        return found !== undefined;
      }, what);
      return found!;
    },
    close: () => {
      store.close();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

const upserted = (value: string) => (u: StoreUpdate) => u.changes.some((c) => c.op === 'upsert' && JSON.stringify(c.resource.spec).includes(`"${value}"`));
const deleted = (name: string) => (u: StoreUpdate) => u.changes.some((c) => c.op === 'delete' && c.name === name);

test('after a rename-style save (sed -i), later edits and the deletion of that file are still seen', async () => {
  const w = watched({ 'a.yaml': router('a', 'v1') });
  try {
    const file = path.join(w.dir, 'a.yaml');
    execFileSync('sed', ['-i', 's/v1/v2/', file]);
    await w.change(upserted('v2'), 'the sed -i edit');
    // An editor's atomic save: write a temporary file, rename it over the original.
    writeFileSync(path.join(w.dir, '.a.yaml.tmp'), router('a', 'v3'));
    renameSync(path.join(w.dir, '.a.yaml.tmp'), file);
    await w.change(upserted('v3'), 'the atomic save');
    writeFileSync(file, router('a', 'v4'));
    await w.change(upserted('v4'), 'a plain edit after the renames');
    unlinkSync(file);
    await w.change(deleted('a'), 'the deletion');
  } finally {
    w.close();
  }
});

test('a file named with -f is followed across rename-style saves', async () => {
  const w = watched({ 'a.yaml': router('a', 'v1') }, 'a.yaml');
  try {
    const file = path.join(w.dir, 'a.yaml');
    execFileSync('sed', ['-i', 's/v1/v2/', file]);
    await w.change(upserted('v2'), 'the first sed -i');
    execFileSync('sed', ['-i', 's/v2/v3/', file]);
    await w.change(upserted('v3'), 'the second sed -i');
    writeFileSync(file, router('a', 'v4'));
    await w.change(upserted('v4'), 'a plain edit');
  } finally {
    w.close();
  }
});

test('the watched directory deleted and re-created: edits are seen again, each event logged once', async () => {
  const w = watched({ 'a.yaml': router('a', 'v1') });
  try {
    rmSync(w.dir, { recursive: true });
    const gone = await w.change(() => true, 'the deletion to be noticed');
    assert.deepEqual(gone.changes, [], 'a vanished -f directory withdraws nothing');
    assert.ok(gone.diagnostics.some((d) => d.code === 'MM_SOURCE_STALE' && d.object === w.dir));
    mkdirSync(w.dir);
    writeFileSync(path.join(w.dir, 'a.yaml'), router('a', 'v2'));
    await w.change(upserted('v2'), 'the file in the re-created directory');
    writeFileSync(path.join(w.dir, 'a.yaml'), router('a', 'v3'));
    await w.change(upserted('v3'), 'a later edit in the re-created directory');
    writeFileSync(path.join(w.dir, 'b.yaml'), router('b', 'v1'));
    await w.change(upserted('v1'), 'a new file in the re-created directory');
    assert.equal(w.logs.filter((l) => l.event === 'source-gone').length, 1);
    assert.equal(w.logs.filter((l) => l.event === 'source-back').length, 1);
  } finally {
    w.close();
  }
});

test('the watched directory replaced by a file and back: edits are seen again', async () => {
  const w = watched({ 'a.yaml': router('a', 'v1') });
  try {
    rmSync(w.dir, { recursive: true });
    writeFileSync(w.dir, router('a', 'v2'));
    await w.change(upserted('v2'), 'the file that replaced the directory');
    unlinkSync(w.dir);
    mkdirSync(w.dir);
    writeFileSync(path.join(w.dir, 'a.yaml'), router('a', 'v3'));
    await w.change(upserted('v3'), 'the directory that replaced the file');
    writeFileSync(path.join(w.dir, 'a.yaml'), router('a', 'v4'));
    await w.change(upserted('v4'), 'a later edit');
    assert.equal(w.logs.filter((l) => l.event === 'source-replaced').length, 2, 'directory → file and file → directory, once each');
  } finally {
    w.close();
  }
});

test('a subdirectory deleted and re-created is watched again', async () => {
  const w = watched({});
  try {
    const sub = path.join(w.dir, 'team');
    mkdirSync(sub);
    writeFileSync(path.join(sub, 'a.yaml'), router('a', 'v1'));
    await w.change(upserted('v1'), 'a file in a new subdirectory');
    rmSync(sub, { recursive: true });
    await w.change(deleted('a'), 'the subdirectory removed');
    mkdirSync(sub);
    writeFileSync(path.join(sub, 'a.yaml'), router('a', 'v2'));
    await w.change(upserted('v2'), 'the re-created subdirectory');
    writeFileSync(path.join(sub, 'a.yaml'), router('a', 'v3'));
    await w.change(upserted('v3'), 'a later edit in it');
  } finally {
    w.close();
  }
});

test('the periodic rescan catches a change that no notification reported', () => {
  const { timers, pending, fireTimeouts } = manualTimers();
  const base = mkdtempSync(path.join(os.tmpdir(), 'metamesh-rescan-'));
  // Polling once an hour stands for a watcher that missed the change: only the rescan is left.
  const store = new DirectoryStore({ paths: [base], logger: pino({ level: 'silent' }), watch: 'poll', pollIntervalMs: 3_600_000, rescanIntervalMs: 5_000, timers });
  const updates: StoreUpdate[] = [];
  try {
    writeFileSync(path.join(base, 'a.yaml'), router('a', 'v1'));
    store.load();
    store.start((u) => updates.push(u));
    const rescan = [...pending.values()].find((t) => t.repeat && t.ms === 5_000);
    assert.ok(rescan, 'a rescan every 5 s is scheduled');
    writeFileSync(path.join(base, 'a.yaml'), router('a', 'v2'));
    rescan.fn();
    fireTimeouts();
    assert.equal(updates.length, 1);
    assert.ok(upserted('v2')(updates[0]!));
    store.close();
    assert.equal(pending.size, 0, 'close() clears the rescan timer');
  } finally {
    store.close();
    rmSync(base, { recursive: true, force: true });
  }
});
