import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWire, encodeRouteConfiguration } from '../../src/proto/wire.js';
import { ResourceCache } from '../../src/xds/cache.js';
import { FanOut } from '../../src/xds/fanout.js';

const wire = createWire();
const route = (name: string, cluster: string) => ({ name, virtualHosts: [{ name: 'dummy', domains: ['*'], routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster } }] }] });

/** A FanOut whose "next event-loop turn" runs only when the test calls turn(). */
function setup(chunk: number) {
  const cache = new ResourceCache({ encode: (j) => encodeRouteConfiguration(j, wire) });
  const queued: Array<() => void> = [];
  const fan = new FanOut(cache, chunk, (fn) => queued.push(fn));
  const turn = () => {
    const fns = queued.splice(0);
    for (const fn of fns) fn();
    return fns.length;
  };
  return { cache, fan, turn, queued };
}

test('a change reaches the first chunk of streams at once and the rest one chunk per event-loop turn', () => {
  const { cache, fan, turn } = setup(3);
  const got: string[] = [];
  for (let i = 0; i < 8; i++) fan.add((changed) => got.push(`${i}:${[...changed].join(',')}`));
  cache.upsert('a', route('a', 'c1'));
  assert.deepEqual(got, ['0:a', '1:a', '2:a']);
  assert.equal(turn(), 1);
  assert.equal(got.length, 6);
  assert.equal(turn(), 1);
  assert.deepEqual(got, ['0:a', '1:a', '2:a', '3:a', '4:a', '5:a', '6:a', '7:a']);
  assert.equal(turn(), 0, 'nothing left scheduled');
  assert.equal(fan.backlog, 0);
});

test('successive changes reach every stream in order; changes during a delivery are merged into one', () => {
  const { cache, fan, turn } = setup(2);
  const got = new Map<number, string[]>();
  for (let i = 0; i < 5; i++) {
    got.set(i, []);
    fan.add((changed, removed) => got.get(i)!.push([...[...changed].sort(), ...[...removed].map((n) => `-${n}`)].join(',')));
  }
  cache.upsert('a', route('a', 'c1'));
  cache.upsert('b', route('b', 'c1'));
  cache.remove('a');
  cache.upsert('c', route('c', 'c1'));
  cache.remove('c');
  cache.upsert('c', route('c', 'c2'));
  assert.equal(fan.backlog, 2, 'the delivery under way and one merged delivery');
  while (turn() > 0);
  // The later event wins for a name both changed and removed: a removed, c changed.
  for (const [i, seen] of got) assert.deepEqual(seen, ['a', 'b,c,-a'], `stream ${i}`);
  assert.equal(fan.backlog, 0);
});

test('a flood of changes during a slow delivery never queues more than two deliveries', () => {
  const { cache, fan, turn } = setup(1);
  let calls = 0;
  for (let i = 0; i < 100; i++) fan.add(() => calls++);
  for (let k = 0; k < 1000; k++) {
    cache.upsert(`r${k % 7}`, route(`r${k % 7}`, `c${k}`));
    assert.ok(fan.backlog <= 2);
  }
  while (turn() > 0);
  assert.equal(calls, 200, 'each stream: the first change, then one merged notification');
});

test('a stream that closes before its chunk is skipped; one that opens after a change does not get it', () => {
  const { cache, fan, turn } = setup(1);
  const got: string[] = [];
  fan.add(() => got.push('first'));
  const removeSecond = fan.add(() => got.push('second'));
  cache.upsert('a', route('a', 'c1'));
  removeSecond();
  fan.add(() => got.push('late'));
  while (turn() > 0);
  assert.deepEqual(got, ['first']);
  cache.upsert('a', route('a', 'c2'));
  while (turn() > 0);
  assert.deepEqual(got, ['first', 'first', 'late']);
});

test('with no streams a change schedules nothing; close() stops delivery', () => {
  const { cache, fan, turn, queued } = setup(1);
  cache.upsert('a', route('a', 'c1'));
  assert.equal(queued.length, 0);
  const got: string[] = [];
  fan.add(() => got.push('x'));
  fan.add(() => got.push('y'));
  cache.upsert('a', route('a', 'c2'));
  fan.close();
  while (turn() > 0);
  cache.upsert('a', route('a', 'c3'));
  assert.deepEqual(got, ['x']);
});
