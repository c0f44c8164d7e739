/**
 * The golden stages of running in a cluster, for test/golden/golden.test.ts. Their in.yaml is
 * plain data:
 *
 *   vips        cidr, used (addresses other objects hold), requests ({key, previous?})
 *               → allocateVips: assigned, exhausted, moved
 *
 * Each stage shuffles every list whose order must not matter; `check` states what every case must
 * satisfy beyond its out.yaml.
 */
import assert from 'node:assert/strict';
import { allocateVips, type VipRequest } from '../../src/serviceentry/vip.js';
import type { DataStage } from './golden-registry.js';
import { shuffled } from './random.js';

interface VipsCase {
  cidr: string;
  used?: string[];
  requests: (VipRequest | string)[];
}

export const VIPS_STAGE: DataStage<VipsCase> = {
  kind: 'data',
  run: (c) => {
    const r = allocateVips(c.requests, new Set(c.used ?? []), c.cidr);
    return { assigned: Object.fromEntries([...r.assigned].sort(([a], [b]) => (a < b ? -1 : 1))), exhausted: r.exhausted, moved: r.moved };
  },
  shuffle: (c, seed) => ({ ...c, used: shuffled(c.used ?? [], seed), requests: shuffled(c.requests, seed + 1) }),
  check: (c) => {
    const ips = [...allocateVips(c.requests, new Set(c.used ?? []), c.cidr).assigned.values()];
    assert.equal(new Set(ips).size, ips.length, 'no address is given twice');
    for (const ip of ips) assert.ok(!(c.used ?? []).includes(ip), `${ip} is used elsewhere`);
  },
};
