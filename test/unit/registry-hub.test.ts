/**
 * The registry hub (src/runtime/registries.ts) commits a sync only once it was applied: when
 * applying throws, the same ServiceEntry changes are offered again at the next sync instead of
 * being lost (the diff would otherwise run against what was never applied).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { DEFAULT_REGISTRY_SYNC_OPTIONS, type SyncResult } from '../../src/registry/sync.js';
import { RegistryHub } from '../../src/runtime/registries.js';
import { tmpTree } from '../support/cli.js';
import { until } from '../support/xds.js';

const SNAPSHOT = `services:
  - key: thrift:/demo
    protocol: thrift
    host: echo.demo.example.com
    instances:
      - {address: 10.1.0.5, port: 9090, labels: {}, weight: 100, healthy: true, enabled: true}
`;

test('a sync whose changes fail to apply is not committed: the next sync offers the same changes, then they stick', async () => {
  const dir = tmpTree({ 'registry.yaml': SNAPSHOT });
  const calls: SyncResult[] = [];
  const logged: string[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
  const hub = new RegistryHub({
    configs: [{ kind: 'file', name: 'file://r', path: path.join(dir, 'registry.yaml') }],
    sync: DEFAULT_REGISTRY_SYNC_OPTIONS,
    logger,
    debounceMs: 1,
    tickMs: 20,
    onSync: (r) => {
      calls.push(r);
      if (calls.length === 1) throw new Error('the engine refused the batch');
    },
  });
  try {
    await until(() => calls.length >= 2, 'a second sync after the failed one', 5000);
    const ops = (r: SyncResult) => r.changes.map((c) => (c.op === 'upsert' ? `upsert ${c.resource.metadata.name}` : `delete ${c.name}`));
    assert.equal(calls[0]!.changes.length, 1);
    assert.deepEqual(ops(calls[1]!), ops(calls[0]!), 'the failed changes are offered again');
    assert.match(logged.join(''), /"event":"registry-update-failed".*the engine refused the batch/);
    // Applied now: later ticks find nothing new to offer.
    const applied = calls.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(calls.length, applied, 'a committed sync is not offered again');
  } finally {
    hub.close();
  }
});

test('applied() turns true only once a sync that read every registry was applied, not when the registries are read; the observer hears of failed syncs', async () => {
  const dir = tmpTree({ 'registry.yaml': SNAPSHOT });
  let fail = true;
  let failures = 0;
  const hub = new RegistryHub({
    configs: [{ kind: 'file', name: 'file://r', path: path.join(dir, 'registry.yaml') }],
    sync: DEFAULT_REGISTRY_SYNC_OPTIONS,
    logger: pino({ level: 'silent' }),
    debounceMs: 1,
    tickMs: 20,
    onSync: () => {
      if (fail) throw new Error('not yet');
    },
    observer: { failed: () => void failures++ },
  });
  try {
    assert.equal(hub.synced(), true, 'a file registry is read at once');
    assert.equal(hub.applied(), false, 'but nothing of it is served yet');
    await until(() => failures >= 2, 'two failed syncs', 5000);
    assert.equal(hub.applied(), false, 'a sync that failed to apply does not count');
    fail = false;
    await until(() => hub.applied(), 'the sync to be applied', 5000);
  } finally {
    hub.close();
  }
});
