import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceHealth } from '../../src/store/health.js';

test('SourceHealth: failures keep the last good snapshot; each change of state is reported once, with its time', () => {
  let now = 1_000;
  const h = new SourceHealth<string>('/etc/metamesh/a.yaml', () => now);
  assert.deepEqual(h.status(), { source: '/etc/metamesh/a.yaml', state: 'pending', since: new Date(1_000).toISOString() });

  now = 2_000;
  assert.equal(h.fail('EACCES'), 'pending', 'pending → failed');
  assert.equal(h.lastGood, undefined, 'nothing was ever good');
  assert.deepEqual(h.status(), { source: '/etc/metamesh/a.yaml', state: 'failed', since: new Date(2_000).toISOString(), error: 'EACCES' });

  now = 3_000;
  assert.equal(h.succeed('v1', 'r1'), 'failed', 'failed → ok');
  assert.equal(h.succeed('v2', 'r2'), undefined, 'ok → ok is no change');
  now = 4_000;
  assert.equal(h.fail('EMFILE'), 'ok', 'ok → stale');
  now = 5_000;
  assert.equal(h.fail('EIO'), undefined, 'a retry that fails again is no change');
  assert.equal(h.lastGood, 'v2');
  assert.deepEqual(h.status(), { source: '/etc/metamesh/a.yaml', state: 'stale', since: new Date(4_000).toISOString(), revision: 'r2', error: 'EIO' });

  assert.equal(h.succeed('v3', 'r3'), 'stale', 'stale → ok');
  assert.deepEqual(h.status(), { source: '/etc/metamesh/a.yaml', state: 'ok', since: new Date(5_000).toISOString(), revision: 'r3' });
});
