import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { createWire, encodeRouteConfiguration } from '../../src/proto/wire.js';
import { ROUTE_CONFIGURATION_TYPE_URL as RDS } from '../../src/route/wire.js';
import { ResourceCache } from '../../src/xds/cache.js';
import { deltaResourcePiece, encodeDeltaResponse, encodeSotwResponse, sotwResourcePiece } from '../../src/xds/envelope.js';
import type { XdsResource } from '../../src/xds/protocol.js';
import { loadXdsServices, passThroughResponses } from '../../src/xds/services.js';
import { mulberry32 as seededRandom } from '../support/random.js';

const services = loadXdsServices();
const sotwMethod = services.RdsClient.service.StreamRoutes!;
const deltaMethod = services.RdsClient.service.DeltaRoutes!;
const wire = createWire();

function cacheWith(n: number, rnd: () => number): ResourceCache {
  const cache = new ResourceCache({ encode: (j) => encodeRouteConfiguration(j, wire) });
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}.ns.svc.cluster.local_${20880 + i}`;
    // Sizes across the 1- and 2-byte length boundaries (127/128) and beyond.
    const clusters = Array.from({ length: 1 + Math.floor(rnd() * 40) }, (_, k) => `outbound|${20880 + k}|v${k}|svc-${i}.ns.svc.cluster.local`);
    cache.upsert(name, {
      name,
      virtualHosts: [{ name: 'dummy', domains: ['*'], routes: clusters.map((c, k) => ({ name: `r${k}`, match: { prefix: '/' }, route: { cluster: c } })) }],
    });
  }
  return cache;
}

const resources = (cache: ResourceCache): XdsResource[] => cache.names().map((n) => cache.get(n)!);

test('SotW responses are byte-identical to the generic protobuf encoder and decode to the same message', () => {
  const rnd = seededRandom(7);
  for (let round = 0; round < 30; round++) {
    const rs = resources(cacheWith(Math.floor(rnd() * 6), rnd));
    const r = { versionInfo: `v${round}-\u00e9`, nonce: String(round + 1), typeUrl: RDS, resources: rs };
    const ours = encodeSotwResponse(r);
    const generic = sotwMethod.responseSerialize({
      version_info: r.versionInfo,
      resources: rs.map((x) => ({ type_url: RDS, value: Buffer.from(x.bytes) })),
      type_url: RDS,
      nonce: r.nonce,
    });
    assert.ok(ours.equals(generic), `round ${round}: bytes differ`);
    const back = sotwMethod.responseDeserialize(ours) as { version_info: string; nonce: string; resources: Array<{ value: Buffer }> };
    assert.equal(back.version_info, r.versionInfo);
    assert.equal(back.nonce, r.nonce);
    assert.equal(back.resources.length, rs.length);
    rs.forEach((x, i) => assert.ok(back.resources[i]!.value.equals(Buffer.from(x.bytes))));
  }
});

test('delta responses are byte-identical to the generic protobuf encoder, removals included', () => {
  const rnd = seededRandom(11);
  for (let round = 0; round < 30; round++) {
    const rs = resources(cacheWith(Math.floor(rnd() * 6), rnd));
    const removed = Array.from({ length: Math.floor(rnd() * 3) }, (_, i) => `gone-${round}-${i}`);
    const r = { systemVersionInfo: `s${round}`, nonce: String(round + 1), typeUrl: RDS, resources: rs, removedResources: removed };
    const ours = encodeDeltaResponse(r);
    const generic = deltaMethod.responseSerialize({
      system_version_info: r.systemVersionInfo,
      resources: rs.map((x) => ({ name: x.name, version: x.version, resource: { type_url: RDS, value: Buffer.from(x.bytes) } })),
      type_url: RDS,
      removed_resources: removed,
      nonce: r.nonce,
    });
    assert.ok(ours.equals(generic), `round ${round}: bytes differ`);
    const back = deltaMethod.responseDeserialize(ours) as { removed_resources: string[]; resources: Array<{ name: string; version: string }> };
    assert.deepEqual(back.removed_resources, removed);
    assert.deepEqual(back.resources.map((x) => [x.name, x.version]), rs.map((x) => [x.name, x.version]));
  }
});

test('empty singular strings are omitted, as proto3 does; an empty response is a valid message', () => {
  const ours = encodeSotwResponse({ versionInfo: '', nonce: '', typeUrl: '', resources: [] });
  assert.equal(ours.length, 0);
  const back = sotwMethod.responseDeserialize(ours) as { version_info: string; resources: unknown[] };
  assert.equal(back.version_info, '');
  assert.deepEqual(back.resources, []);
});

test('each resource version is wrapped once and the same bytes are reused by every response', () => {
  const cache = cacheWith(2, seededRandom(3));
  const a = cache.get(cache.names()[0]!)!;
  assert.equal(sotwResourcePiece(RDS, a), sotwResourcePiece(RDS, a));
  assert.equal(deltaResourcePiece(RDS, a), deltaResourcePiece(RDS, a));
  // A new version of the content is a new resource object and is wrapped anew.
  cache.upsert(a.name, { name: a.name, virtualHosts: [{ name: 'dummy', domains: ['*'], routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster: 'other' } }] }] });
  const a2 = cache.get(a.name)!;
  assert.notEqual(sotwResourcePiece(RDS, a2), sotwResourcePiece(RDS, a));
  assert.ok(sotwResourcePiece(RDS, a2).includes(Buffer.from(a2.bytes)));
});

test('the server definitions send a Buffer as is and still encode plain messages', () => {
  const def = passThroughResponses(services.RdsClient.service);
  const m = (def as Record<string, grpc.MethodDefinition<unknown, unknown>>).StreamRoutes!;
  const bytes = Buffer.from([0x0a, 0x01, 0x31]);
  assert.equal(m.responseSerialize(bytes), bytes);
  const plain = m.responseSerialize({ version_info: '1', resources: [], type_url: RDS, nonce: '1' });
  assert.deepEqual((sotwMethod.responseDeserialize(plain) as { version_info: string }).version_info, '1');
  assert.equal(m.path, sotwMethod.path);
});
