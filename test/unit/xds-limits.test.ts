import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../src/cli/args.js';
import { commandSpec } from '../../src/cli/commands.js';
import { commandHelp } from '../../src/cli/help.js';
import { createWire, encodeRouteConfiguration } from '../../src/proto/wire.js';
import { ROUTE_CONFIGURATION_TYPE_URL as RDS } from '../../src/route/wire.js';
import { ResourceCache } from '../../src/xds/cache.js';
import { clip, clipNames, MAX_LOGGED_NAMES } from '../../src/util/clip.js';
import { DeltaStream } from '../../src/xds/delta.js';
import { DEFAULT_XDS_LIMITS, GRPC_RESOURCE_EXHAUSTED } from '../../src/xds/limits.js';
import { createNonceSource } from '../../src/xds/protocol.js';
import { SotwStream } from '../../src/xds/sotw.js';

const wire = createWire();
const limits = { maxNamesPerStream: 3, maxNameLength: 10 };
const route = (name: string) => ({ name, virtualHosts: [{ name: 'v', domains: ['*'], routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster: 'c' } }] }] });

function cache(): ResourceCache {
  const c = new ResourceCache({ encode: (j) => encodeRouteConfiguration(j, wire) });
  c.setResources(new Map(['a', 'b', 'c', 'd'].map((n) => [n, route(n)])));
  return c;
}

test('a short string is kept as it is; a long one is cut with the number of characters cut', () => {
  assert.equal(clip('node-1'), 'node-1');
  assert.equal(clip('x'.repeat(300), 256), `${'x'.repeat(256)}…(44 more characters)`);
  assert.equal(clip('abcdef', 3), 'abc…(3 more characters)');
});

test('clipping never splits a surrogate pair', () => {
  const s = `ab${'\u{1F4A5}'.repeat(3)}`;
  assert.equal(clip(s, 3), 'ab…(6 more characters)');
  assert.equal(clip(s, 4), `ab\u{1F4A5}…(4 more characters)`);
});

test('a long list of names is cut to a few, each clipped, with a count of the rest', () => {
  const shown = clipNames(Array.from({ length: MAX_LOGGED_NAMES + 5 }, (_, i) => (i === 0 ? 'n'.repeat(1000) : `n${i}`)));
  assert.equal(shown.length, MAX_LOGGED_NAMES + 1);
  assert.match(shown[0]!, /^n{256}…\(744 more characters\)$/);
  assert.equal(shown.at(-1), '…(5 more names)');
  assert.deepEqual(clipNames(['a', 'b']), ['a', 'b']);
});

test('SotW: a request over the name limit is an error that changes nothing; one at the limit is served', () => {
  const m = new SotwStream(cache(), createNonceSource(), limits);
  const r = m.onRequest({ typeUrl: RDS, versionInfo: '', resourceNames: ['a', 'b', 'a', 'c'], responseNonce: '' });
  assert.equal(r.responses.length, 1, 'duplicates count once');
  const before = m.state();
  const over = m.onRequest({ typeUrl: RDS, versionInfo: r.responses[0]!.versionInfo, resourceNames: ['a', 'b', 'c', 'd'], responseNonce: r.responses[0]!.nonce });
  assert.equal(over.error?.grpcCode, GRPC_RESOURCE_EXHAUSTED);
  assert.equal(over.error?.message, 'the request would subscribe this stream to 4 resource names: over the limit of 3 (--xds-max-names-per-stream)');
  assert.deepEqual(m.state(), before);
  const long = m.onRequest({ typeUrl: RDS, versionInfo: '', resourceNames: ['a', 'x'.repeat(11)], responseNonce: r.responses[0]!.nonce });
  assert.equal(long.error?.message, `resource name "${'x'.repeat(11)}" has 11 characters: over the limit of 10 (--xds-max-name-length)`);
  assert.deepEqual(m.state(), before);
});

test('delta: the limit applies to the subscription the diffs add up to, unsubscribes counted first', () => {
  const m = new DeltaStream(cache(), createNonceSource(), limits);
  assert.equal(m.onRequest({ typeUrl: RDS, resourceNamesSubscribe: ['a', 'b'], responseNonce: '' }).error, undefined);
  // 2 held; +c +d −a = 3: fine; a name both subscribed and unsubscribed ends unsubscribed.
  assert.equal(m.onRequest({ typeUrl: RDS, resourceNamesSubscribe: ['c', 'd', 'a'], resourceNamesUnsubscribe: ['a'], responseNonce: '' }).error, undefined);
  assert.deepEqual(m.state().subscribed, ['b', 'c', 'd']);
  const before = m.state();
  const over = m.onRequest({ typeUrl: RDS, resourceNamesSubscribe: ['e'], responseNonce: '' });
  assert.equal(over.error?.grpcCode, GRPC_RESOURCE_EXHAUSTED);
  assert.match(over.error?.message ?? '', /4 resource names: over the limit of 3/);
  assert.deepEqual(m.state(), before);
});

test('the machines default to the documented limits', () => {
  const m = new SotwStream(cache());
  const many = Array.from({ length: DEFAULT_XDS_LIMITS.maxNamesPerStream + 1 }, (_, i) => `n${i}`);
  assert.equal(m.onRequest({ typeUrl: RDS, versionInfo: '', resourceNames: many, responseNonce: '' }).error?.grpcCode, GRPC_RESOURCE_EXHAUSTED);
});

test('serve takes each xDS limit as a positive integer flag, listed in its help with its default', () => {
  const inv = parseArgs(['serve', '-f', 'x', '--xds-max-connections', '5', '--xds-max-streams-per-connection', '2', '--xds-max-names-per-stream', '7', '--xds-max-name-length', '99', '--xds-max-request-bytes', '1024']);
  assert.equal(inv.kind, 'serve');
  assert.deepEqual(inv.kind === 'serve' && inv.xdsLimits, { maxConnections: 5, maxStreamsPerConnection: 2, maxNamesPerStream: 7, maxNameLength: 99, maxRequestBytes: 1024 });
  const none = parseArgs(['serve', '-f', 'x']);
  assert.deepEqual(none.kind === 'serve' && none.xdsLimits, {});
  for (const bad of ['0', '1e3', '1.5', 'many', '']) {
    const u = parseArgs(['serve', '-f', 'x', '--xds-max-connections', bad]);
    assert.equal(u.kind, 'usage', bad);
    assert.equal(u.kind === 'usage' && u.reason, `--xds-max-connections must be a positive integer, not ${JSON.stringify(bad)}`);
  }
  const help = commandHelp(commandSpec('serve')!);
  for (const [flag, dflt] of [['--xds-max-connections', '10000'], ['--xds-max-streams-per-connection', '1000'], ['--xds-max-names-per-stream', '10000'], ['--xds-max-name-length', '1024'], ['--xds-max-request-bytes', '4194304']]) {
    assert.match(help, new RegExp(`\\n  ${flag} <n> +[^\\n]*\\(default ${dflt}\\)\\n`), flag);
  }
});
