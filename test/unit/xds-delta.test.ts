import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWire, encodeRouteConfiguration } from '../../src/proto/wire.js';
import { ROUTE_CONFIGURATION_TYPE_URL as RDS } from '../../src/route/wire.js';
import { ResourceCache } from '../../src/xds/cache.js';
import { createNonceSource } from '../../src/xds/protocol.js';
import { DeltaStream, type DeltaRequest, type DeltaResponse } from '../../src/xds/delta.js';
import { REMOVED_VERSION } from '../../src/xds/subscription.js';

const wire = createWire();
const encode = (json: object) => encodeRouteConfiguration(json, wire);

function route(name: string, cluster: string): object {
  return { name, virtualHosts: [{ name: 'dummy', domains: ['*'], routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster } }] }] };
}

function setup(names: string[]): ResourceCache {
  const cache = new ResourceCache({ encode });
  cache.setResources(new Map(names.map((n) => [n, route(n, 'c1')])));
  return cache;
}

const sub = (names: string[], extra: Partial<DeltaRequest> = {}): DeltaRequest => ({ typeUrl: RDS, resourceNamesSubscribe: names, responseNonce: '', ...extra });
const unsub = (names: string[]): DeltaRequest => ({ typeUrl: RDS, resourceNamesUnsubscribe: names, responseNonce: '' });
const ack = (r: DeltaResponse): DeltaRequest => ({ typeUrl: RDS, responseNonce: r.nonce });
const nack = (r: DeltaResponse, message = 'bad route'): DeltaRequest => ({ typeUrl: RDS, responseNonce: r.nonce, errorDetail: { code: 3, message } });
const one = (responses: DeltaResponse[]): DeltaResponse => {
  assert.equal(responses.length, 1, `expected one response, got ${responses.length}`);
  return responses[0]!;
};
const names = (r: DeltaResponse) => r.resources.map((x) => x.name);

function change(cache: ResourceCache, s: DeltaStream, fn: () => unknown): DeltaResponse[] {
  const out: DeltaResponse[] = [];
  const off = cache.subscribe((c, r) => out.push(...s.onCacheChange(c, r).responses));
  fn();
  off();
  return out;
}

test('subscribing sends the existing resources with their per-resource versions and nothing for missing ones', () => {
  const cache = setup(['a', 'b']);
  const s = new DeltaStream(cache);
  const r = one(s.onRequest(sub(['a', 'b', 'missing'])).responses);
  assert.deepEqual(names(r), ['a', 'b']);
  assert.deepEqual(r.resources.map((x) => x.version), [cache.get('a')!.version, cache.get('b')!.version]);
  assert.deepEqual(r.removedResources, []);
  assert.equal(r.typeUrl, RDS);
});

test('nonces are unique and increasing on a stream', () => {
  const cache = setup(['a']);
  const s = new DeltaStream(cache, createNonceSource());
  let r = one(s.onRequest(sub(['a'])).responses);
  const seen = [r.nonce];
  for (let i = 0; i < 5; i++) {
    s.onRequest(ack(r));
    r = one(change(cache, s, () => cache.upsert('a', route('a', `c${i + 2}`))));
    seen.push(r.nonce);
  }
  assert.equal(new Set(seen).size, seen.length);
  for (let i = 1; i < seen.length; i++) assert.ok(Number(seen[i]) > Number(seen[i - 1]!));
});

test('initial_resource_versions are honoured: known versions are not resent, stale ones are, vanished ones are reported removed', () => {
  const cache = setup(['a', 'b']);
  const s = new DeltaStream(cache);
  const r = one(s.onRequest(sub(['a', 'b', 'gone'], { initialResourceVersions: { a: cache.get('a')!.version, b: 'old', gone: 'old' } })).responses);
  assert.deepEqual(names(r), ['b']);
  assert.deepEqual(r.removedResources, ['gone']);
  s.onRequest(ack(r));
  assert.deepEqual(s.state().held, { a: cache.get('a')!.version, b: cache.get('b')!.version });
});

test('a client that already has every version gets no response at all', () => {
  const cache = setup(['a']);
  const s = new DeltaStream(cache);
  assert.deepEqual(s.onRequest(sub(['a'], { initialResourceVersions: { a: cache.get('a')!.version } })).responses, []);
});

test('initial_resource_versions on a later request are ignored', () => {
  const cache = setup(['a', 'b']);
  const s = new DeltaStream(cache);
  const r = one(s.onRequest(sub(['a'])).responses);
  s.onRequest(ack(r));
  assert.deepEqual(names(one(s.onRequest(sub(['b'], { initialResourceVersions: { b: cache.get('b')!.version } })).responses)), ['b']);
});

test('a change sends only the changed resource, and an unsubscribed resource is neither updated nor reported removed', () => {
  const cache = setup(['a', 'b']);
  const s = new DeltaStream(cache);
  s.onRequest(ack(one(s.onRequest(sub(['a', 'b'])).responses)));
  const r = one(change(cache, s, () => cache.upsert('b', route('b', 'c2'))));
  assert.deepEqual(names(r), ['b']);
  s.onRequest(ack(r));
  assert.deepEqual(s.onRequest(unsub(['b'])).responses, []);
  assert.deepEqual(s.state().subscribed, ['a']);
  assert.deepEqual(change(cache, s, () => cache.upsert('b', route('b', 'c3'))), []);
  assert.deepEqual(change(cache, s, () => cache.remove('b')), []);
});

test('a subscribed resource that disappears is reported in removed_resources, one the client never had is not', () => {
  const cache = setup(['a', 'b']);
  const s = new DeltaStream(cache);
  s.onRequest(ack(one(s.onRequest(sub(['a', 'b', 'never'])).responses)));
  const r = one(change(cache, s, () => cache.setResources(new Map([['a', route('a', 'c1')]]))));
  assert.deepEqual(r.resources, []);
  assert.deepEqual(r.removedResources, ['b']);
  assert.deepEqual(s.onRequest(ack(r)).events, [{ kind: 'ack', nonce: r.nonce, versionInfo: r.systemVersionInfo, resources: new Map(), removed: ['b'] }]);
  assert.deepEqual(s.state().held, { a: cache.get('a')!.version });
  assert.deepEqual(s.state().subscribed, ['a', 'b', 'never']);
  // It comes back: sent again, because the client dropped it.
  assert.deepEqual(names(one(change(cache, s, () => cache.upsert('b', route('b', 'c1'))))), ['b']);
});

test('a requested name that does not exist yet is sent as soon as it exists', () => {
  const cache = setup([]);
  const s = new DeltaStream(cache);
  assert.deepEqual(s.onRequest(sub(['later'])).responses, []);
  assert.deepEqual(change(cache, s, () => cache.upsert('other', route('other', 'c1'))), []);
  assert.deepEqual(names(one(change(cache, s, () => cache.upsert('later', route('later', 'c1'))))), ['later']);
});

test('subscribing again to a resource the client has resends it', () => {
  const cache = setup(['a']);
  const s = new DeltaStream(cache);
  s.onRequest(ack(one(s.onRequest(sub(['a'])).responses)));
  assert.deepEqual(names(one(s.onRequest(sub(['a'])).responses)), ['a']);
});

test('an ACK records the per-resource versions the client has', () => {
  const cache = setup(['a', 'b']);
  const s = new DeltaStream(cache);
  const r = one(s.onRequest(sub(['a', 'b'])).responses);
  const step = s.onRequest(ack(r));
  assert.deepEqual(step.events, [
    { kind: 'ack', nonce: r.nonce, versionInfo: r.systemVersionInfo, resources: new Map([['a', cache.get('a')!.version], ['b', cache.get('b')!.version]]), removed: [] },
  ]);
  assert.deepEqual(s.state().held, { a: cache.get('a')!.version, b: cache.get('b')!.version });
  assert.equal(s.state().inFlight, undefined);
});

test('a stale nonce is ignored as an ACK, but its subscription diff is still applied', () => {
  const cache = setup(['a', 'b']);
  const s = new DeltaStream(cache);
  const r1 = one(s.onRequest(sub(['a'])).responses);
  s.onRequest(ack(r1));
  const r2 = one(change(cache, s, () => cache.upsert('a', route('a', 'c2'))));
  const step = s.onRequest({ ...ack(r1), resourceNamesSubscribe: ['b'] });
  assert.deepEqual(step.events, [{ kind: 'stale-nonce-ignored', nonce: r1.nonce, latestNonce: r2.nonce }]);
  assert.deepEqual(step.responses, []);
  assert.equal(s.state().inFlight?.nonce, r2.nonce);
  assert.deepEqual(s.state().pending, ['b']);
  assert.deepEqual(names(one(s.onRequest(ack(r2)).responses)), ['b']);
});

test('a NACK is recorded, the client keeps its last ACKed version and the rejected content is not resent until it changes', () => {
  const cache = setup(['a', 'b']);
  const s = new DeltaStream(cache);
  s.onRequest(ack(one(s.onRequest(sub(['a', 'b'])).responses)));
  const good = cache.get('a')!.version;
  const r = one(change(cache, s, () => cache.upsert('a', route('a', 'bad'))));
  const bad = cache.get('a')!.version;
  const step = s.onRequest(nack(r, 'route a is invalid'));
  assert.deepEqual(step.responses, []);
  assert.equal(step.events[0]!.kind, 'nack');
  const st = s.state();
  assert.equal(st.held.a, good);
  assert.deepEqual(st.rejected, { a: bad });
  assert.deepEqual(st.nack, { count: 1, lastMessage: 'route a is invalid', lastCode: 3, lastNonce: r.nonce });
  const onlyB = one(change(cache, s, () => cache.upsert('b', route('b', 'c2'))));
  assert.deepEqual(names(onlyB), ['b']);
  s.onRequest(ack(onlyB));
  assert.equal(s.state().held.a, good);
  const fixed = one(change(cache, s, () => cache.upsert('a', route('a', 'fixed'))));
  assert.deepEqual(names(fixed), ['a']);
  s.onRequest(ack(fixed));
  assert.deepEqual(s.state().rejected, {});
});

test('a rejected removal is not retried until the resource changes again', () => {
  const cache = setup(['a']);
  const s = new DeltaStream(cache);
  s.onRequest(ack(one(s.onRequest(sub(['a'])).responses)));
  const r = one(change(cache, s, () => cache.remove('a')));
  assert.deepEqual(r.removedResources, ['a']);
  s.onRequest(nack(r));
  assert.deepEqual(s.state().rejected, { a: REMOVED_VERSION });
  assert.deepEqual(s.onRequest(sub(['x'])).responses, []);
  assert.deepEqual(names(one(change(cache, s, () => cache.upsert('a', route('a', 'c2'))))), ['a']);
});

test('an unknown type URL is an error result that changes nothing on this or other streams', () => {
  const cache = setup(['a']);
  const s = new DeltaStream(cache);
  const other = new DeltaStream(cache);
  const r = one(s.onRequest(sub(['a'])).responses);
  const before = s.state();
  const step = s.onRequest({ ...ack(r), typeUrl: 'type.googleapis.com/envoy.config.listener.v3.Listener' });
  assert.equal(step.error?.kind, 'unknown-type-url');
  assert.deepEqual(step.responses, []);
  assert.deepEqual(s.state(), before);
  assert.deepEqual(names(one(other.onRequest(sub(['a'])).responses)), ['a']);
  assert.deepEqual(s.onRequest(ack(r)).events.map((e) => e.kind), ['ack']);
});

test('1,000 changes to one resource while a response is un-ACKed lead to exactly one follow-up with the latest version', () => {
  const cache = setup(['a', 'b']);
  const s = new DeltaStream(cache);
  const r1 = one(s.onRequest(sub(['a', 'b'])).responses);
  const sent: DeltaResponse[] = [];
  const off = cache.subscribe((c, r) => sent.push(...s.onCacheChange(c, r).responses));
  for (let i = 0; i < 1000; i++) {
    cache.upsert('a', route('a', `c${i}`));
    assert.ok(s.pending.size <= 1);
  }
  off();
  assert.deepEqual(sent, []);
  const follow = one(s.onRequest(ack(r1)).responses);
  assert.deepEqual(names(follow), ['a']);
  assert.equal(follow.resources[0], cache.get('a'));
  assert.deepEqual(s.onRequest(ack(follow)).responses, []);
});

test('the pending queue never grows beyond the number of subscribed resources', () => {
  const cache = setup(['a', 'b', 'x']);
  const s = new DeltaStream(cache);
  const r1 = one(s.onRequest(sub(['a', 'b'])).responses);
  for (let i = 0; i < 100; i++) {
    for (const n of ['a', 'b', 'x', 'y']) s.onCacheChange(cache.upsert(n, route(n, `c${i}`)).changed, []);
    s.onCacheChange([], cache.remove('x').removed);
    assert.ok(s.pending.size <= 2);
  }
  assert.deepEqual(s.state().pending, ['a', 'b']);
  assert.deepEqual(names(one(s.onRequest(ack(r1)).responses)), ['a', 'b']);
});

test('an ACK or NACK arriving after the client unsubscribed a name changes nothing for that name: re-subscribing sends it again', () => {
  const cache = setup(['a']);
  const s = new DeltaStream(cache);
  const r = one(s.onRequest(sub(['a'])).responses);
  s.onRequest(unsub(['a']));
  const step = s.onRequest(nack(r, 'late'));
  assert.deepEqual(step.events[0] && 'rejected' in step.events[0] ? step.events[0].rejected : undefined, []);
  assert.deepEqual(s.state().rejected, {});
  assert.deepEqual(names(one(s.onRequest(sub(['a'])).responses)), ['a'], 'not held back as rejected');
  const s2 = new DeltaStream(cache);
  const r2 = one(s2.onRequest(sub(['a'])).responses);
  s2.onRequest(unsub(['a']));
  s2.onRequest(ack(r2));
  assert.deepEqual(s2.state().held, {}, 'an unsubscribed name is not held');
});

test('a request repeating an already answered nonce with error_detail is not a second NACK', () => {
  const cache = setup(['a', 'b']);
  const s = new DeltaStream(cache);
  const r = one(s.onRequest(sub(['a'])).responses);
  assert.equal(s.onRequest(nack(r, 'bad')).events[0]!.kind, 'nack');
  const again = s.onRequest({ ...nack(r, 'bad'), resourceNamesSubscribe: ['b'] });
  assert.deepEqual(again.events, []);
  assert.equal(s.state().nack.count, 1);
  assert.deepEqual(names(one(again.responses)), ['b'], 'the subscription change still applies');
});

test('a version the client declares in initial_resource_versions is kept clipped (it is the client\'s string)', () => {
  const cache = setup(['a']);
  const s = new DeltaStream(cache);
  const r = one(s.onRequest(sub(['a'], { initialResourceVersions: { a: 'v'.repeat(100_000) } })).responses);
  assert.deepEqual(names(r), ['a'], 'an unknown version is resent');
  const s2 = new DeltaStream(cache);
  s2.onRequest(sub(['a', 'gone'], { initialResourceVersions: { gone: 'x'.repeat(100_000) } }));
  assert.ok(JSON.stringify(s2.state()).length < 10_000, 'what the stream keeps is bounded');
});
