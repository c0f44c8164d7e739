/** The dashboard's registry history (src/dashboard/history.ts): one-minute buckets over the last hour, bounded, changes attributed to their registries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUCKET_MS, BUCKETS, RegistryHistory } from '../../src/dashboard/history.js';
import type { Change } from '../../src/pipeline/types.js';

const upsert = (name: string, registries: string): Change => ({
  op: 'upsert',
  resource: { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { namespace: 'ns', name, annotations: { 'metamesh.io/registry': registries } }, spec: {} } as never,
});

test('lags keep the longest per minute; changes count per registry, deletions by the registries that made the object', () => {
  const h = new RegistryHistory(['zk', 'nacos']);
  const t0 = 1_000 * BUCKET_MS;
  h.record({ nowMs: t0 + 1000, lagMs: { zk: 120 }, changes: [upsert('a', 'zk'), upsert('b', 'zk,nacos')] });
  h.record({ nowMs: t0 + 2000, lagMs: { zk: 80, nacos: 300 }, changes: [{ op: 'delete', kind: 'ServiceEntry', namespace: 'ns', name: 'b' }] });
  const zk = h.series('zk', t0 + 3000);
  const nacos = h.series('nacos', t0 + 3000);
  assert.equal(zk.length, BUCKETS);
  assert.deepEqual(zk.at(-1), { t: new Date(t0).toISOString(), lagMs: 120, changes: 3 });
  assert.deepEqual(nacos.at(-1), { t: new Date(t0).toISOString(), lagMs: 300, changes: 2 });
  assert.deepEqual(zk.at(-2), { t: new Date(t0 - BUCKET_MS).toISOString(), lagMs: null, changes: 0 });
  assert.deepEqual(h.series('unknown', t0).every((p) => p.changes === 0 && p.lagMs === null), true);
});

test('only the last hour is kept: two hours of steps leave sixty buckets, the oldest gone', () => {
  const h = new RegistryHistory(['zk']);
  const t0 = 5_000 * BUCKET_MS;
  for (let m = 0; m < 2 * BUCKETS; m++) h.record({ nowMs: t0 + m * BUCKET_MS, lagMs: { zk: m }, changes: [] });
  const s = h.series('zk', t0 + (2 * BUCKETS - 1) * BUCKET_MS);
  assert.deepEqual(s.map((p) => p.lagMs), Array.from({ length: BUCKETS }, (_, i) => BUCKETS + i));
  assert.equal((h as unknown as { rings: Map<string, unknown[]> }).rings.get('zk')!.length, BUCKETS);
});
