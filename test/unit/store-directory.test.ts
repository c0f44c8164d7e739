import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { DirectoryStore, type StoreUpdate } from '../../src/store/directory.js';
import { mutationRouter } from '../support/manifests.js';
import { manualTimers } from '../support/manual-timers.js';

const silent = pino({ level: 'silent' });

const router = mutationRouter;

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-store-'));
  const t = manualTimers();
  const store = new DirectoryStore({ paths: [dir], logger: silent, watch: 'none', debounceMs: 100, timers: t.timers });
  const updates: StoreUpdate[] = [];
  return { dir, t, store, updates, cleanup: () => (store.close(), rmSync(dir, { recursive: true, force: true })) };
}

test('the first load upserts everything; an unchanged reload reports nothing', () => {
  const { dir, store, cleanup } = setup();
  try {
    writeFileSync(path.join(dir, 'a.yaml'), router('a', 'x'));
    writeFileSync(path.join(dir, 'b.yaml'), router('b', 'x'));
    const u = store.load();
    assert.deepEqual(u.changes.map((c) => (c.op === 'upsert' ? c.resource.metadata.name : c.name)).sort(), ['a', 'b']);
    assert.equal(u.optionsChanged, true);
    const again = store.load();
    assert.deepEqual(again.changes, []);
    assert.equal(again.optionsChanged, false);
    assert.equal(again.diagnosticsChanged, false);
  } finally {
    cleanup();
  }
});

test('a burst of events becomes one debounced reload with only the real changes', () => {
  const { dir, t, store, updates, cleanup } = setup();
  try {
    writeFileSync(path.join(dir, 'a.yaml'), router('a', 'x'));
    writeFileSync(path.join(dir, 'b.yaml'), router('b', 'x'));
    store.load();
    store.start((u) => updates.push(u));
    writeFileSync(path.join(dir, 'a.yaml'), router('a', 'y'));
    store.schedule();
    unlinkSync(path.join(dir, 'b.yaml'));
    store.schedule();
    assert.deepEqual([...t.pending.values()].map((p) => p.ms).sort((a, b) => a - b), [100, 1000], 'one debounce timer and one deadline');
    assert.equal(updates.length, 0);
    [...t.pending.values()].find((p) => p.ms === 100)!.fn();
    assert.equal(updates.length, 1);
    assert.equal(t.pending.size, 0, 'the reload cancels the deadline');
    const changes = updates[0]!.changes;
    assert.equal(changes.length, 2);
    const up = changes.find((c) => c.op === 'upsert');
    assert.ok(up && up.op === 'upsert' && up.resource.metadata.name === 'a');
    assert.deepEqual(changes.find((c) => c.op === 'delete'), { op: 'delete', kind: 'MetaRouter', namespace: 'ns', name: 'b' });
  } finally {
    cleanup();
  }
});

test('a file that stops parsing keeps its last good resources, with a diagnostic; fixing it applies the fix', () => {
  const { dir, t, store, updates, cleanup } = setup();
  try {
    const file = path.join(dir, 'a.yaml');
    writeFileSync(file, router('a', 'x'));
    store.load();
    store.start((u) => updates.push(u));
    writeFileSync(file, `${router('a', 'y')}  broken: [unclosed\n`);
    store.schedule();
    t.fireTimeouts();
    assert.equal(updates.length, 1, 'the new diagnostic is reported');
    assert.deepEqual(updates[0]!.changes, [], 'no delete, no half-edit');
    assert.ok(updates[0]!.diagnostics.some((d) => d.code === 'MM_INPUT_YAML_SYNTAX'));
    writeFileSync(file, router('a', 'z'));
    store.schedule();
    t.fireTimeouts();
    assert.equal(updates.length, 2);
    const c = updates[1]!.changes;
    assert.equal(c.length, 1);
    assert.ok(c[0]!.op === 'upsert' && JSON.stringify(c[0]!.resource.spec).includes('"z"'));
    assert.ok(!updates[1]!.diagnostics.some((d) => d.code === 'MM_INPUT_YAML_SYNTAX'));
  } finally {
    cleanup();
  }
});

test('polling notices a changed file and schedules a reload', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-store-'));
  const t = manualTimers();
  const store = new DirectoryStore({ paths: [dir], logger: silent, watch: 'poll', pollIntervalMs: 1000, timers: t.timers });
  const updates: StoreUpdate[] = [];
  try {
    writeFileSync(path.join(dir, 'a.yaml'), router('a', 'x'));
    store.load();
    store.start((u) => updates.push(u));
    t.fireIntervals();
    t.fireTimeouts();
    assert.equal(updates.length, 0, 'nothing changed');
    writeFileSync(path.join(dir, 'b.yaml'), router('b', 'x'));
    t.fireIntervals();
    t.fireTimeouts();
    assert.equal(updates.length, 1);
    assert.equal(updates[0]!.changes.length, 1);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a burst of events that never goes quiet still reloads, at the latest 10 debounce delays after its first event', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-burst-'));
  const t = manualTimers();
  const store = new DirectoryStore({ paths: [dir], logger: silent, watch: 'none', timers: t.timers, debounceMs: 100, rescanIntervalMs: 0 });
  try {
    writeFileSync(path.join(dir, 'a.yaml'), mutationRouter('a', 'v1'));
    store.load();
    const updates: StoreUpdate[] = [];
    store.start((u) => updates.push(u));
    writeFileSync(path.join(dir, 'a.yaml'), mutationRouter('a', 'v2'));
    // Events keep coming: every schedule() restarts the debounce, but the first event set a deadline.
    for (let i = 0; i < 50; i++) store.schedule();
    const delays = [...t.pending.values()].filter((p) => !p.repeat).map((p) => p.ms).sort((a, b) => a - b);
    assert.deepEqual(delays, [100, 1000], 'one debounce timer and one deadline, however many events');
    const deadline = [...t.pending].find(([, p]) => p.ms === 1000)!;
    deadline[1].fn();
    assert.equal(updates.length, 1, 'the deadline reloads');
    assert.equal(t.pending.size, 0, 'both timers are gone after the reload');
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rollback() after an update its consumer could not apply hands the same changes over again at the next reload', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-rollback-'));
  const store = new DirectoryStore({ paths: [dir], logger: silent, watch: 'none' });
  try {
    writeFileSync(path.join(dir, 'a.yaml'), mutationRouter('a', 'v1'));
    store.load();
    writeFileSync(path.join(dir, 'a.yaml'), mutationRouter('a', 'v2'));
    const failed = store.load();
    assert.equal(failed.changes.length, 1);
    store.rollback();
    const again = store.load();
    assert.deepEqual(again.changes, failed.changes, 'the change is offered again');
    assert.equal(store.load().changes.length, 0, 'once taken, it is not offered a third time');
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
