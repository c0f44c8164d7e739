import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWire, encodeRouteConfiguration } from '../../src/proto/wire.js';
import { ROUTE_CONFIGURATION_TYPE_URL as RDS } from '../../src/route/wire.js';
import { ResourceCache } from '../../src/xds/cache.js';
import { createNonceSource, versionInfoOf } from '../../src/xds/protocol.js';
import { SotwStream, type SotwRequest, type SotwResponse } from '../../src/xds/sotw.js';

const wire = createWire();
const encode = (json: object) => encodeRouteConfiguration(json, wire);

function route(name: string, cluster: string): object {
  return { name, virtualHosts: [{ name: 'dummy', domains: ['*'], routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster } }] }] };
}

/** A cache wired to the given machines, holding `names` (all pointing at cluster c1). */
function setup(names: string[]): ResourceCache {
  const cache = new ResourceCache({ encode });
  cache.setResources(new Map(names.map((n) => [n, route(n, 'c1')])));
  return cache;
}

function connect(cache: ResourceCache, nonces = createNonceSource()): SotwStream {
  return new SotwStream(cache, nonces);
}

const first = (names: string[], versionInfo = ''): SotwRequest => ({ typeUrl: RDS, versionInfo, resourceNames: names, responseNonce: '' });
const ack = (r: SotwResponse, names: string[]): SotwRequest => ({ typeUrl: RDS, versionInfo: r.versionInfo, resourceNames: names, responseNonce: r.nonce });
const nack = (r: SotwResponse, names: string[], ackedVersion: string, message = 'bad route'): SotwRequest => ({
  typeUrl: RDS,
  versionInfo: ackedVersion,
  resourceNames: names,
  responseNonce: r.nonce,
  errorDetail: { code: 3, message },
});
const one = (responses: SotwResponse[]): SotwResponse => {
  assert.equal(responses.length, 1, `expected one response, got ${responses.length}`);
  return responses[0]!;
};
const names = (r: SotwResponse) => r.resources.map((x) => x.name);

/** Feeds a cache change to the machine as the gRPC layer would. */
function change(cache: ResourceCache, s: SotwStream, fn: () => unknown): SotwResponse[] {
  const out: SotwResponse[] = [];
  const off = cache.subscribe((c, r) => out.push(...s.onCacheChange(c, r).responses));
  fn();
  off();
  return out;
}

test('nonces are unique and increasing on a stream, also across two type machines sharing it', () => {
  const cache = setup(['a', 'b']);
  const nonces = createNonceSource();
  const s1 = connect(cache, nonces);
  const s2 = connect(cache, nonces);
  const seen: string[] = [];
  let r1 = one(s1.onRequest(first(['a'])).responses);
  const r2 = one(s2.onRequest(first(['b'])).responses);
  seen.push(r1.nonce, r2.nonce);
  for (let i = 0; i < 5; i++) {
    s1.onRequest(ack(r1, ['a']));
    r1 = one(change(cache, s1, () => cache.upsert('a', route('a', `c${i + 2}`))));
    seen.push(r1.nonce);
  }
  assert.equal(new Set(seen).size, seen.length);
  for (let i = 1; i < seen.length; i++) assert.ok(Number(seen[i]) > Number(seen[i - 1]!));
});

test('the first request, which has no nonce, is answered with all requested resources that exist', () => {
  const cache = setup(['a', 'b', 'c']);
  const r = one(connect(cache).onRequest(first(['b', 'a', 'missing'])).responses);
  assert.deepEqual(names(r), ['a', 'b']);
  assert.equal(r.typeUrl, RDS);
  assert.equal(r.resources[0], cache.get('a'));
});

test('a request whose response_nonce is not the latest sent nonce is stale and ignored', () => {
  const cache = setup(['a', 'b']);
  const s = connect(cache);
  const r1 = one(s.onRequest(first(['a'])).responses);
  s.onRequest(ack(r1, ['a']));
  const r2 = one(change(cache, s, () => cache.upsert('a', route('a', 'c2'))));
  const before = s.state();
  const step = s.onRequest(ack(r1, ['a', 'b']));
  assert.deepEqual(step.responses, []);
  assert.deepEqual(step.events, [{ kind: 'stale-nonce-ignored', nonce: r1.nonce, latestNonce: r2.nonce }]);
  assert.deepEqual(s.state(), before);
  // The client's fresh request for the latest response carries the subscription change.
  const step2 = s.onRequest(ack(r2, ['a', 'b']));
  assert.deepEqual(step2.events.map((e) => e.kind), ['ack']);
  assert.deepEqual(names(one(step2.responses)), ['b']);
});

test('a request echoing the version without error_detail is an ACK and records the versions', () => {
  const cache = setup(['a', 'b']);
  const s = connect(cache);
  const r = one(s.onRequest(first(['a', 'b'])).responses);
  const step = s.onRequest(ack(r, ['a', 'b']));
  assert.deepEqual(step.events, [
    { kind: 'ack', nonce: r.nonce, versionInfo: r.versionInfo, resources: new Map([['a', cache.get('a')!.version], ['b', cache.get('b')!.version]]), removed: [] },
  ]);
  assert.deepEqual(step.responses, []);
  const st = s.state();
  assert.deepEqual(st.held, { a: cache.get('a')!.version, b: cache.get('b')!.version });
  assert.equal(st.ackedVersionInfo, r.versionInfo);
  assert.equal(st.inFlight, undefined);
});

test('a NACK is recorded, the last ACKed version is kept and the rejected content is not resent', () => {
  const cache = setup(['a']);
  const s = connect(cache);
  const r1 = one(s.onRequest(first(['a'])).responses);
  s.onRequest(ack(r1, ['a']));
  const good = cache.get('a')!.version;
  const r2 = one(change(cache, s, () => cache.upsert('a', route('a', 'bad'))));
  const bad = cache.get('a')!.version;
  const step = s.onRequest(nack(r2, ['a'], r1.versionInfo, 'route a is invalid'));
  assert.deepEqual(step.responses, []);
  assert.deepEqual(step.events, [{ kind: 'nack', nonce: r2.nonce, versionInfo: r1.versionInfo, code: 3, message: 'route a is invalid', rejected: [['a', bad]] }]);
  const st = s.state();
  assert.deepEqual(st.held, { a: good });
  assert.equal(st.ackedVersionInfo, r1.versionInfo);
  assert.deepEqual(st.nack, { count: 1, lastMessage: 'route a is invalid', lastCode: 3, lastNonce: r2.nonce });
  assert.deepEqual(st.rejected, { a: bad });
  // Re-requesting with the same nonce still does not bring the rejected content back.
  assert.deepEqual(s.onRequest({ ...first(['a'], r1.versionInfo), responseNonce: r2.nonce }).responses, []);
});

test('a rejected resource is left out when another resource changes and resent once its content changes', () => {
  const cache = setup(['a', 'b']);
  const s = connect(cache);
  const r1 = one(s.onRequest(first(['a', 'b'])).responses);
  s.onRequest(ack(r1, ['a', 'b']));
  const r2 = one(change(cache, s, () => cache.upsert('a', route('a', 'bad'))));
  s.onRequest(nack(r2, ['a', 'b'], r1.versionInfo));
  const r3 = one(change(cache, s, () => cache.upsert('b', route('b', 'c2'))));
  assert.deepEqual(names(r3), ['b']);
  s.onRequest(ack(r3, ['a', 'b']));
  assert.equal(s.state().rejected.a, cache.get('a')!.version);
  const r4 = one(change(cache, s, () => cache.upsert('a', route('a', 'fixed'))));
  assert.deepEqual(names(r4), ['a']);
  s.onRequest(ack(r4, ['a', 'b']));
  assert.deepEqual(s.state().rejected, {});
  assert.equal(s.state().held.a, cache.get('a')!.version);
});

test('a request without error_detail is an ACK even if its version_info differs (NACK means error_detail)', () => {
  const cache = setup(['a']);
  const s = connect(cache);
  const r = one(s.onRequest(first(['a'])).responses);
  const step = s.onRequest({ ...ack(r, ['a']), versionInfo: 'something-else' });
  assert.deepEqual(step.events.map((e) => e.kind), ['ack']);
  assert.equal(s.state().nack.count, 0);
  assert.deepEqual(Object.keys(s.state().held), ['a']);
});

test('only requested resources are sent and changes to others trigger nothing', () => {
  const cache = setup(['a', 'b', 'c']);
  const s = connect(cache);
  const r = one(s.onRequest(first(['b'])).responses);
  assert.deepEqual(names(r), ['b']);
  s.onRequest(ack(r, ['b']));
  assert.deepEqual(change(cache, s, () => cache.upsert('a', route('a', 'c2'))), []);
  assert.deepEqual(change(cache, s, () => cache.upsert('new', route('new', 'c2'))), []);
  assert.deepEqual(s.state().pending, []);
});

test('a requested name that does not exist yet is sent as soon as it exists, never as an empty placeholder', () => {
  const cache = setup([]);
  const s = connect(cache);
  const step = s.onRequest(first(['later']));
  assert.deepEqual(step.responses, []);
  assert.deepEqual(change(cache, s, () => cache.upsert('other', route('other', 'c1'))), []);
  const r = one(change(cache, s, () => cache.upsert('later', route('later', 'c1'))));
  assert.deepEqual(names(r), ['later']);
  assert.equal(r.resources[0]!.bytes.length > 0, true);
});

test('removing a resource from the cache sends nothing in SotW and the client keeps its ACKed version', () => {
  const cache = setup(['a', 'b']);
  const s = connect(cache);
  const r = one(s.onRequest(first(['a', 'b'])).responses);
  s.onRequest(ack(r, ['a', 'b']));
  const va = cache.get('a')!.version;
  assert.deepEqual(change(cache, s, () => cache.remove('a')), []);
  assert.equal(s.state().held.a, va);
  // Back with the same content: nothing to send; with new content: the response carries it.
  assert.deepEqual(change(cache, s, () => cache.upsert('a', route('a', 'c1'))), []);
  assert.deepEqual(names(one(change(cache, s, () => cache.upsert('a', route('a', 'c2'))))), ['a']);
});

test('adding names to the subscription answers with the added resources, removing names sends nothing', () => {
  const cache = setup(['a', 'b', 'c']);
  const s = connect(cache);
  const r1 = one(s.onRequest(first(['a'])).responses);
  const step = s.onRequest(ack(r1, ['a', 'c']));
  const r2 = one(step.responses);
  assert.deepEqual(names(r2), ['c']);
  const step3 = s.onRequest(ack(r2, ['c']));
  assert.deepEqual(step3.responses, []);
  assert.deepEqual(s.state().subscribed, ['c']);
  assert.deepEqual(Object.keys(s.state().held), ['c']);
  assert.deepEqual(change(cache, s, () => cache.upsert('a', route('a', 'c2'))), []);
  // Re-adding a dropped name sends it again: the client forgot it when it unsubscribed.
  assert.deepEqual(names(one(s.onRequest({ ...ack(r2, ['a', 'c']), versionInfo: r2.versionInfo }).responses)), ['a']);
});

test('the version_info of a response is a deterministic hash of the (name, version) pairs the client then holds', () => {
  const cache = setup(['a', 'b']);
  const r1 = one(connect(cache).onRequest(first(['a', 'b'])).responses);
  const r2 = one(connect(cache).onRequest(first(['b', 'a'])).responses);
  assert.equal(r1.versionInfo, r2.versionInfo);
  assert.equal(r1.versionInfo, versionInfoOf(r1.resources.map((r) => [r.name, r.version] as const)));
  assert.equal(versionInfoOf([['b', '2'], ['a', '1']]), versionInfoOf([['a', '1'], ['b', '2']]));
  const r3 = one(connect(cache).onRequest(first(['a'])).responses);
  assert.notEqual(r3.versionInfo, r1.versionInfo);
  // The same content in another cache (another process) gives the same version_info.
  const again = one(connect(setup(['a', 'b'])).onRequest(first(['a', 'b'])).responses);
  assert.equal(again.versionInfo, r1.versionInfo);
  // A later response carries only the changed resource, but its version_info covers both.
  const s = connect(cache);
  s.onRequest(ack(one(s.onRequest(first(['a', 'b'])).responses), ['a', 'b']));
  const r4 = one(change(cache, s, () => cache.upsert('a', route('a', 'c9'))));
  assert.deepEqual(names(r4), ['a']);
  assert.equal(r4.versionInfo, versionInfoOf([['a', cache.get('a')!.version], ['b', cache.get('b')!.version]]));
  // ... so a client reconnecting with it is recognised as up to date.
  assert.deepEqual(connect(cache).onRequest(first(['a', 'b'], r4.versionInfo)).responses, []);
});

test('one changed resource among many is sent alone: a change costs one resource per stream, not the subscription', () => {
  const all = Array.from({ length: 20 }, (_, i) => `route-${String(i).padStart(2, '0')}`);
  const cache = setup(all);
  const s = connect(cache);
  const r1 = one(s.onRequest(first(all)).responses);
  assert.equal(r1.resources.length, 20);
  s.onRequest(ack(r1, all));
  const r2 = one(change(cache, s, () => cache.upsert('route-07', route('route-07', 'c2'))));
  assert.deepEqual(names(r2), ['route-07']);
  assert.equal(r2.resources[0], cache.get('route-07'));
  s.onRequest(ack(r2, all));
  assert.equal(Object.keys(s.state().held).length, 20);
  assert.equal(s.state().held['route-07'], cache.get('route-07')!.version);
  assert.equal(s.state().held['route-00'], cache.get('route-00')!.version);
});

test('a reconnecting client whose version_info matches the current content gets no resend', () => {
  const cache = setup(['a', 'b']);
  const r = one(connect(cache).onRequest(first(['a', 'b'])).responses);
  const s = connect(cache);
  assert.deepEqual(s.onRequest(first(['a', 'b'], r.versionInfo)).responses, []);
  assert.equal(s.state().ackedVersionInfo, r.versionInfo);
  assert.deepEqual(names(one(change(cache, s, () => cache.upsert('a', route('a', 'c2'))))), ['a']);
  // An outdated version_info gets everything.
  assert.deepEqual(names(one(connect(cache).onRequest(first(['a', 'b'], r.versionInfo)).responses)), ['a', 'b']);
});

test('an unknown type URL is an error result that changes nothing on this or other streams', () => {
  const cache = setup(['a']);
  const s = connect(cache);
  const other = connect(cache);
  const r = one(s.onRequest(first(['a'])).responses);
  const before = s.state();
  const step = s.onRequest({ ...ack(r, ['a']), typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster' });
  assert.equal(step.error?.kind, 'unknown-type-url');
  assert.equal(step.error?.grpcCode, 3);
  assert.match(step.error!.message, /envoy\.config\.cluster\.v3\.Cluster/);
  assert.deepEqual(step.responses, []);
  assert.deepEqual(s.state(), before);
  assert.deepEqual(names(one(other.onRequest(first(['a'])).responses)), ['a']);
  assert.deepEqual(s.onRequest(ack(r, ['a'])).events.map((e) => e.kind), ['ack']);
});

test('1,000 changes to one resource while a response is un-ACKed lead to exactly one follow-up with the latest version', () => {
  const cache = setup(['a', 'b']);
  const s = connect(cache);
  const r1 = one(s.onRequest(first(['a', 'b'])).responses);
  const sent: SotwResponse[] = [];
  const off = cache.subscribe((c, r) => sent.push(...s.onCacheChange(c, r).responses));
  for (let i = 0; i < 1000; i++) {
    cache.upsert('a', route('a', `c${i}`));
    assert.ok(s.pending.size <= 1);
  }
  off();
  assert.deepEqual(sent, []);
  assert.deepEqual(s.state().pending, ['a']);
  const follow = one(s.onRequest(ack(r1, ['a', 'b'])).responses);
  assert.equal(follow.resources.find((x) => x.name === 'a')!.version, cache.get('a')!.version);
  assert.equal(cache.get('a'), follow.resources[0]);
  assert.deepEqual(s.state().pending, []);
  assert.deepEqual(s.onRequest(ack(follow, ['a', 'b'])).responses, []);
});

test('the pending queue never grows beyond the number of subscribed resources', () => {
  const cache = setup(['a', 'b', 'c', 'x']);
  const s = connect(cache);
  const r1 = one(s.onRequest(first(['a', 'b', 'c'])).responses);
  for (let i = 0; i < 100; i++) {
    for (const n of ['a', 'b', 'c', 'x', 'y']) s.onCacheChange(cache.upsert(n, route(n, `c${i}`)).changed, []);
    assert.ok(s.pending.size <= 3);
  }
  assert.deepEqual(s.state().pending, ['a', 'b', 'c']);
  assert.deepEqual(names(one(s.onRequest(ack(r1, ['a', 'b', 'c'])).responses)), ['a', 'b', 'c']);
});
