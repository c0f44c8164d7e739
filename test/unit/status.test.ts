/**
 * MetaRouter and ApplicationProtocol status (src/status/): conditions from diagnostics, transition
 * times, the "needs writing?" comparison and the status apply body.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diag } from '../../src/model/diagnostics.js';
import { computeStatus, statusNeedsWrite } from '../../src/status/conditions.js';
import { readStatus, type StatusTarget } from '../../src/status/model.js';
import { planStatusWrites, statusBody } from '../../src/status/writes.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-02T00:00:00Z';
const T2 = '2026-01-03T00:00:00Z';

function router(generation: number, status?: unknown): StatusTarget {
  return { apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'MetaRouter', metadata: { name: 'r', namespace: 'demo', generation }, ...(status !== undefined ? { status } : {}) };
}
const weights = diag('MM_ROUTER_WEIGHTS', 'MetaRouter demo/r', 'weights sum to 90.');

describe('status conditions', () => {
  it('a valid MetaRouter is Accepted and Programmed, with the generation observed', () => {
    const s = computeStatus(router(3), [], T0);
    assert.equal(s.observedGeneration, 3);
    assert.deepEqual(s.conditions.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime, c.observedGeneration]), [
      ['Accepted', 'True', 'Accepted', T0, 3],
      ['Programmed', 'True', 'Programmed', T0, 3],
    ]);
  });

  it('the transition time changes only with the status, not with reason, message or generation', () => {
    const first = computeStatus(router(1), [], T0);
    const same = computeStatus(router(2, first), [diag('MM_ROUTER_UNKNOWN_SUBSET', 'MetaRouter demo/r', 'no subset v3.')], T1);
    assert.deepEqual(same.conditions.map((c) => [c.reason, c.lastTransitionTime]), [['Accepted', T0], ['PartiallyProgrammed', T0]]);
    const broken = computeStatus(router(3, same), [weights], T2);
    assert.deepEqual(broken.conditions.map((c) => [c.status, c.lastTransitionTime]), [['False', T2], ['False', T2]]);
  });

  it('only the diagnostics about this object count', () => {
    const s = computeStatus(router(1), [diag('MM_ROUTER_WEIGHTS', 'MetaRouter demo/other', 'x'), diag('MM_ROUTER_WEIGHTS', 'MetaRouter other/r', 'x')], T0);
    assert.equal(s.conditions[0]!.status, 'True');
  });

  it('a message too long for the API is cut', () => {
    const many = Array.from({ length: 500 }, (_, i) => diag('MM_ROUTER_MATCH', 'MetaRouter demo/r', `match ${i} ${'x'.repeat(100)}`));
    const s = computeStatus(router(1), many, T0);
    assert.ok(s.conditions[0]!.message.length <= 32768);
    assert.match(s.conditions[0]!.message, /more characters\)$/);
  });

  it('an unreadable live status is read as none, and malformed conditions are left out', () => {
    assert.deepEqual(readStatus('nonsense'), { conditions: [] });
    assert.deepEqual(readStatus({ observedGeneration: 'x', conditions: [{ type: 'Accepted', status: 'Maybe' }, { type: 'Programmed', status: 'True' }] }).conditions.map((c) => c.type), ['Programmed']);
  });
});

describe('status writes', () => {
  it('no write when the live status already says it; a write when the generation moves on', () => {
    const s = computeStatus(router(4), [], T0);
    assert.equal(statusNeedsWrite(s, computeStatus(router(4, s), [], T1)), false);
    assert.equal(statusNeedsWrite(s, computeStatus(router(5, s), [], T1)), true);
    assert.equal(statusNeedsWrite(undefined, s), true);
  });

  it("other writers' conditions neither cause a write nor are part of the body", () => {
    const s = computeStatus(router(1), [], T0);
    const live = { ...s, conditions: [...s.conditions, { type: 'example.com/Other', status: 'True', reason: 'R', message: '', lastTransitionTime: T0 }] };
    assert.equal(statusNeedsWrite(live, computeStatus(router(1, live), [], T1)), false);
    const body = statusBody(router(1, live), computeStatus(router(1, live), [], T1));
    assert.deepEqual(body.status.conditions.map((c) => c.type), ['Accepted', 'Programmed']);
    assert.deepEqual(Object.keys(body).sort(), ['apiVersion', 'kind', 'metadata', 'status']);
    assert.deepEqual(body.metadata, { name: 'r', namespace: 'demo' });
  });

  it('planStatusWrites lists only the targets whose status changed, sorted', () => {
    const done = computeStatus(router(1), [], T0);
    const targets: StatusTarget[] = [
      { ...router(1), metadata: { name: 'z', namespace: 'demo', generation: 1 } },
      router(1, { ...done, conditions: done.conditions }),
      { ...router(2), metadata: { name: 'a', namespace: 'demo', generation: 2 } },
    ];
    assert.deepEqual(planStatusWrites(targets, [], T1).map((w) => w.object), ['MetaRouter demo/a', 'MetaRouter demo/z']);
  });
});
