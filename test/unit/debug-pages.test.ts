/**
 * The bodies of /debug/xds and /debug/config (src/runtime/debug.ts) stay bounded: streams and
 * config lists are paginated, names listed per stream are capped with the count left out, and
 * client strings are cut.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clip, configDebug, MAX_NAMES_LISTED, MAX_STRING, pageOf, xdsDebug } from '../../src/runtime/debug.js';
import type { OutputDocument } from '../../src/pipeline/document.js';
import type { OpenStream, StreamInfo } from '../../src/xds/session.js';

function fakeStream(id: number, names: number, nodeId = `node-${id}`): OpenStream {
  const base = { id, service: 'ads' as const, mode: 'sotw' as const, peer: `127.0.0.1:${1000 + id}`, connectedAt: '2026-01-01T00:00:00.000Z' };
  return {
    ...base,
    info: (): StreamInfo[] => {
      const subscribed = Array.from({ length: names }, (_, i) => `route-${String(i).padStart(7, '0')}`);
      const ackedVersions = Object.fromEntries(subscribed.map((n) => [n, 'v1']));
      return [{ ...base, nodeId, typeUrl: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', subscribed, ackedVersions, nackCount: 0, lastNackMessage: undefined }];
    },
    end: () => undefined,
  };
}

test('a stream with 500,000 subscribed names lists the first ones and says how many were left out', () => {
  const body = xdsDebug([fakeStream(1, 500_000)], { offset: 0, limit: 100 });
  const s = body.streams[0]!;
  assert.equal(s.subscribedCount, 500_000);
  assert.equal(s.subscribed.length, MAX_NAMES_LISTED);
  assert.equal(s.subscribed[0], 'route-0000000');
  assert.equal(s.subscribedOmitted, 500_000 - MAX_NAMES_LISTED);
  assert.equal(Object.keys(s.ackedVersions).length, MAX_NAMES_LISTED);
  assert.equal(s.ackedVersionsOmitted, 500_000 - MAX_NAMES_LISTED);
  assert.ok(JSON.stringify(body, null, 2).length < 20_000, 'a few kilobytes, not 143 MB');
});

test('streams are paginated in id order, with the total and the next offset', () => {
  const streams = [1, 2, 3, 4, 5].map((id) => fakeStream(id, 1));
  const first = xdsDebug(streams, { offset: 0, limit: 2 });
  assert.deepEqual(first.streams.map((s) => s.id), [1, 2]);
  assert.equal(first.total, 5);
  assert.equal(first.next, 2);
  const last = xdsDebug(streams, { offset: 4, limit: 2 });
  assert.deepEqual(last.streams.map((s) => s.id), [5]);
  assert.equal(last.next, undefined);
  assert.deepEqual(xdsDebug(streams, { offset: 9, limit: 2 }).streams, []);
});

test('client strings are cut with the number of characters left out', () => {
  const s = xdsDebug([fakeStream(1, 1, 'n'.repeat(15_000_000))], { offset: 0, limit: 1 }).streams[0]!;
  assert.equal(s.nodeId, `${'n'.repeat(MAX_STRING)}…(${15_000_000 - MAX_STRING} more characters)`);
  assert.equal(clip('short'), 'short');
  assert.equal(clip(undefined), undefined);
});

test('?offset=&limit= are read strictly, with a default limit and a hard maximum', () => {
  const q = (s: string) => pageOf(new URLSearchParams(s), 100, 1000);
  assert.deepEqual(q(''), { offset: 0, limit: 100 });
  assert.deepEqual(q('offset=5&limit=1000'), { offset: 5, limit: 1000 });
  for (const bad of ['limit=1001', 'limit=0', 'limit=-1', 'offset=x', 'offset=1e3', 'limit=99999999999']) assert.ok('error' in q(bad), bad);
});

test('/debug/config is the generate document when it fits, and a sliced one with the totals when not', () => {
  const doc = { serviceEntries: [1, 2, 3], envoyFilters: [1], virtualServices: [], routes: [1, 2], diagnostics: [] } as unknown as OutputDocument;
  assert.equal(configDebug(doc, { offset: 0, limit: 3 }), doc);
  const cut = configDebug(doc, { offset: 1, limit: 1 });
  assert.deepEqual(cut, {
    serviceEntries: [2],
    envoyFilters: [],
    virtualServices: [],
    routes: [2],
    diagnostics: [],
    page: { offset: 1, limit: 1, totals: { serviceEntries: 3, envoyFilters: 1, virtualServices: 0, routes: 2, diagnostics: 0 } },
  });
});
