/**
 * ZkOps, the watcher's requests to node-zookeeper-client: at most `concurrency` in flight, the rest
 * queued in order; each fails at its own deadline when no answer comes (one timer stands for all
 * of them); no timer is left once nothing is in flight. A fake client and a fake clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import zookeeper from 'node-zookeeper-client';
import { ZkOps, type Timers } from '../../src/registry/zookeeper/ops.js';

/** Timers on a clock moved by hand. */
function fakeClock() {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      pending.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  return {
    timers,
    now: () => now,
    pending: () => pending.size,
    /** Moves the clock to `to`, firing due timers in order. */
    advance(to: number): void {
      for (;;) {
        const due = [...pending].filter(([, t]) => t.at <= to).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (!due) break;
        pending.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = to;
    },
  };
}

/** A client whose exists() answers only when told to. */
function fakeClient() {
  const calls: { path: string; answer: (e: unknown, stat?: object) => void }[] = [];
  const client = {
    exists: (path: string, cb: (e: unknown, s: unknown) => void) => void calls.push({ path, answer: (e, s) => cb(e, s) }),
  };
  return { client, calls };
}

const settle = () => new Promise((r) => setImmediate(r));

test('ZkOps: a cap on requests in flight, each failing at its own deadline, and no timer left behind', async () => {
  const clock = fakeClock();
  const { client, calls } = fakeClient();
  const ops = new ZkOps(client as unknown as zookeeper.Client, { concurrency: 2, timeoutMs: 1000, timers: clock.timers, now: clock.now });
  const outcome: string[] = [];
  const track = (name: string, p: Promise<unknown>) => p.then((v) => outcome.push(`${name} ok ${v === undefined ? 'none' : 'stat'}`), (e: Error) => outcome.push(`${name} failed: ${e.message}`));
  track('a', ops.exists('/a'));
  clock.advance(100);
  track('b', ops.exists('/b'));
  track('c', ops.exists('/c'));
  track('d', ops.exists('/d'));
  assert.deepEqual(calls.map((c) => c.path), ['/a', '/b'], 'two in flight, two queued');
  assert.equal(clock.pending(), 1, 'one timer for all requests in flight');

  // /a gets no answer: it fails at 1000; /c takes its slot (deadline 2000).
  clock.advance(1000);
  await settle();
  assert.deepEqual(outcome, ['a failed: ZooKeeper did not answer a read of /a within 1000 ms']);
  assert.deepEqual(calls.map((c) => c.path), ['/a', '/b', '/c']);

  // /b is answered (a stat), /c with NO_NODE; /d starts at 1050.
  clock.advance(1050);
  calls[1]!.answer(null, { numChildren: 0 });
  calls[2]!.answer((zookeeper.Exception as unknown as { create(code: number): unknown }).create(zookeeper.Exception.NO_NODE));
  await settle();
  assert.deepEqual(outcome.slice(1), ['b ok stat', 'c ok none']);
  assert.deepEqual(calls.map((c) => c.path), ['/a', '/b', '/c', '/d']);

  // /d's deadline is its own (1050 + 1000), not the one of the request it replaced.
  clock.advance(2049);
  await settle();
  assert.equal(outcome.length, 3);
  clock.advance(2050);
  await settle();
  assert.equal(outcome[3], 'd failed: ZooKeeper did not answer a read of /d within 1000 ms');
  assert.equal(clock.pending(), 0, 'nothing in flight, no timer');

  // A late answer to a request that timed out changes nothing.
  calls[3]!.answer(null, {});
  await settle();
  assert.equal(outcome.length, 4);

  // Answered before its deadline: the timer goes with it.
  track('e', ops.exists('/e'));
  assert.equal(clock.pending(), 1);
  calls[4]!.answer(null, {});
  await settle();
  assert.equal(clock.pending(), 0);
  assert.equal(outcome[4], 'e ok stat');
});

test('ZkOps: 20,000 queued requests are started in order', async () => {
  const clock = fakeClock();
  const { client, calls } = fakeClient();
  const ops = new ZkOps(client as unknown as zookeeper.Client, { concurrency: 3, timeoutMs: 1000, timers: clock.timers, now: clock.now });
  const all = Array.from({ length: 20000 }, (_, i) => ops.exists(`/n${i}`));
  for (let i = 0; i < 20000; i++) {
    calls[i]!.answer(null, {});
    await Promise.resolve();
  }
  await Promise.all(all);
  assert.deepEqual(calls.map((c) => c.path), Array.from({ length: 20000 }, (_, i) => `/n${i}`));
  assert.equal(clock.pending(), 0);
});
