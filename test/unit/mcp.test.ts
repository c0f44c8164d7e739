/**
 * The MCP sink's pure parts: type URLs, generated objects → MCP objects (names, revision label,
 * host qualification), encoding (decoded back with the proto definitions, versions), the store
 * (complete sets, last encodable version, readiness) and the per-type-URL stream state machine
 * (first answer even empty, timestamp nonce, ACK/NACK, coalescing, no resend of a NACKed set).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import path from 'node:path';
import { encodeMcpObject } from '../../src/mcp/encode.js';
import { mcpObjects, qualifyHost, qualifyVirtualService, REVISION_LABEL, type McpObject } from '../../src/mcp/objects.js';
import { McpStore } from '../../src/mcp/store.js';
import { McpStream } from '../../src/mcp/stream.js';
import { collectionOf, isMcpTypeUrl, ISTIOD_TYPE_URLS, MCP_RESOURCE_TYPE_URL, SERVED_KINDS } from '../../src/mcp/types.js';
import type { OutputObject } from '../../src/model/output.js';
import { ProtoJsonError, createWire } from '../../src/proto/wire.js';
import { DEFAULT_XDS_LIMITS } from '../../src/xds/limits.js';
import { createNonceSource } from '../../src/xds/protocol.js';
import type { SotwRequest } from '../../src/xds/sotw.js';
import { loadInputs } from '../../src/cli/files.js';
import { readResources } from '../../src/input/read.js';
import { build } from '../../src/pipeline/build.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { decodeMcp, goTimeString } from '../support/mcp.js';
import { root } from '../support/xds.js';

const wire = createWire();
const examples = build(readResources(loadInputs([path.join(root, 'examples')]).documents).config, loadBuiltinProtocols());
const SE = SERVED_KINDS.find((s) => s.kind === 'ServiceEntry')!;
const EF = SERVED_KINDS.find((s) => s.kind === 'EnvoyFilter')!;

function object(name: string, spec: Record<string, unknown> = { hosts: [`${name}.example.com`], resolution: 'STATIC' }, extra: Partial<McpObject> = {}): McpObject {
  return { served: SE, name: `ns/${name}`, labels: {}, annotations: {}, createTime: undefined, spec, ...extra };
}

describe('MCP type URLs', () => {
  test('every type URL istiod 1.31 requests is MCP; RDS and other Envoy types are not', () => {
    assert.equal(ISTIOD_TYPE_URLS.length, 16);
    for (const t of ISTIOD_TYPE_URLS) assert.ok(isMcpTypeUrl(t), t);
    for (const t of ['type.googleapis.com/envoy.config.route.v3.RouteConfiguration', 'type.googleapis.com/istio.networking.v1alpha3.ServiceEntry', '', 'networking.istio.io/v1/serviceentry', 'example.com/v1/Thing', 'networking.istio.io/ServiceEntry']) {
      assert.ok(!isMcpTypeUrl(t), t);
    }
    assert.ok(isMcpTypeUrl('networking.istio.io/v1beta1/ServiceEntry'), 'another version of a kind');
    assert.ok(isMcpTypeUrl('policy.istio.io/v2alpha1/NewKind'), 'a kind a later istiod may read');
  });

  test('a collection is group/Kind, whatever version istiod asks for', () => {
    assert.equal(collectionOf('networking.istio.io/v1/ServiceEntry'), SE.collection);
    assert.equal(collectionOf('networking.istio.io/v1alpha3/ServiceEntry'), SE.collection);
    assert.equal(collectionOf('networking.istio.io/v1alpha3/EnvoyFilter'), EF.collection);
    for (const s of SERVED_KINDS) assert.ok(ISTIOD_TYPE_URLS.includes(s.typeUrl), s.typeUrl);
  });
});

describe('generated objects → MCP objects', () => {
  test('examples: every generated ServiceEntry, EnvoyFilter and VirtualService, named <namespace>/<name>', () => {
    const { objects, diagnostics } = mcpObjects(examples, { domain: 'cluster.local' });
    assert.deepEqual(diagnostics, []);
    const expected = [...examples.serviceEntries, ...examples.envoyFilters, ...examples.virtualServices];
    assert.equal(objects.length, expected.length);
    assert.ok(examples.envoyFilters.length > 0 && examples.serviceEntries.length > 0 && examples.virtualServices.length > 0);
    for (const [i, o] of objects.entries()) {
      const src = expected[i]!;
      assert.equal(o.name, `${src.metadata.namespace}/${src.metadata.name}`);
      assert.equal(o.served.kind, src.kind);
      assert.deepEqual(o.labels, src.metadata.labels ?? {});
      assert.deepEqual(o.annotations, src.metadata.annotations ?? {});
      assert.equal(o.createTime, undefined);
    }
  });

  test('--mcp-revision labels every object that has no istio.io/rev of its own', () => {
    const se: OutputObject = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'a', namespace: 'ns', labels: { [REVISION_LABEL]: 'canary' } }, spec: {} };
    const ef: OutputObject = { apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: { name: 'b', namespace: 'ns' }, spec: {} };
    const { objects } = mcpObjects({ serviceEntries: [se], envoyFilters: [ef], virtualServices: [] }, { domain: 'cluster.local', revision: 'stable' });
    assert.deepEqual(objects.map((o) => o.labels[REVISION_LABEL]), ['canary', 'stable']);
    assert.deepEqual(mcpObjects({ serviceEntries: [], envoyFilters: [ef], virtualServices: [] }, { domain: 'x' }).objects[0]!.labels, {});
  });

  test('objects that cannot be named, of another kind, or generated twice are left out with MM_MCP_NOT_SERVED', () => {
    const o = (kind: string, namespace: string, name: string): OutputObject => ({ apiVersion: 'v', kind, metadata: { name, namespace }, spec: {} });
    const { objects, diagnostics } = mcpObjects(
      { serviceEntries: [o('ServiceEntry', '', 'a'), o('ServiceEntry', 'ns', 'a/b'), o('ServiceEntry', 'ns', 'ok'), o('ServiceEntry', 'ns', 'ok')], envoyFilters: [o('Gateway', 'ns', 'g')], virtualServices: [] },
      { domain: 'cluster.local' },
    );
    assert.deepEqual(objects.map((x) => x.name), ['ns/ok']);
    assert.deepEqual(diagnostics.map((d) => [d.code, d.object]), [
      ['MM_MCP_NOT_SERVED', 'ServiceEntry a'],
      ['MM_MCP_NOT_SERVED', 'ServiceEntry ns/a/b'],
      ['MM_MCP_NOT_SERVED', 'ServiceEntry ns/ok'],
      ['MM_MCP_NOT_SERVED', 'Gateway ns/g'],
    ]);
  });

  test('create_time: the source creationTimestamp when it is RFC 3339, none otherwise', () => {
    const se = (name: string): OutputObject => ({ apiVersion: 'v', kind: 'ServiceEntry', metadata: { name, namespace: 'ns' }, spec: {} });
    const times: Record<string, string> = { a: '2024-05-01T10:00:00Z', b: 'yesterday' };
    const { objects } = mcpObjects({ serviceEntries: [se('a'), se('b'), se('c')], envoyFilters: [], virtualServices: [] }, { domain: 'd', createTimeOf: (o) => times[o.metadata.name] });
    assert.deepEqual(objects.map((o) => o.createTime), ['2024-05-01T10:00:00Z', undefined, undefined]);
  });

  test('short hosts istiod resolves are qualified as from Kubernetes; FQDNs, IPs, * and ServiceEntry hosts are not', () => {
    assert.equal(qualifyHost('foo', 'ns', 'cluster.local'), 'foo.ns.svc.cluster.local');
    for (const h of ['foo.bar', '*', '10.0.0.1', '::1', '*.example.com']) assert.equal(qualifyHost(h, 'ns', 'cluster.local'), h);
    const vs = {
      hosts: ['foo', 'a.b.c'],
      gateways: ['gw'],
      http: [{ route: [{ destination: { host: 'bar' } }], mirror: { host: 'm' }, mirrors: [{ destination: { host: 'm2' } }] }],
      tcp: [{ match: [{ port: 1 }], route: [{ destination: { host: 'baz', port: { number: 2 } } }] }],
      tls: [{ route: [{ destination: { host: 'q.x' } }] }],
    };
    assert.deepEqual(qualifyVirtualService(vs, 'ns', 'd.local'), {
      hosts: ['foo.ns.svc.d.local', 'a.b.c'],
      gateways: ['gw'],
      http: [{ route: [{ destination: { host: 'bar.ns.svc.d.local' } }], mirror: { host: 'm.ns.svc.d.local' }, mirrors: [{ destination: { host: 'm2.ns.svc.d.local' } }] }],
      tcp: [{ match: [{ port: 1 }], route: [{ destination: { host: 'baz.ns.svc.d.local', port: { number: 2 } } }] }],
      tls: [{ route: [{ destination: { host: 'q.x' } }] }],
    });
    const se: OutputObject = { apiVersion: 'v', kind: 'ServiceEntry', metadata: { name: 's', namespace: 'ns' }, spec: { hosts: ['short'] } };
    assert.deepEqual(mcpObjects({ serviceEntries: [se], envoyFilters: [], virtualServices: [] }, { domain: 'cluster.local' }).objects[0]!.spec, { hosts: ['short'] });
  });
});

describe('encoding', () => {
  test('every generated object decodes back, with the proto definitions, to its spec and metadata', () => {
    const { objects } = mcpObjects(examples, { domain: 'cluster.local', revision: 'r1', createTimeOf: () => '2024-05-01T10:00:00.5Z' });
    for (const o of objects) {
      const r = encodeMcpObject(o, wire);
      const d = decodeMcp({ type_url: MCP_RESOURCE_TYPE_URL, value: r.bytes }, wire.root);
      assert.equal(d.name, o.name);
      assert.equal(d.version, r.version);
      assert.match(r.version, /^[0-9a-f]{16}$/);
      assert.deepEqual(d.labels, o.labels);
      assert.deepEqual(d.annotations, o.annotations);
      assert.equal(d.createTime, '2024-05-01T10:00:00.500Z');
      assert.equal(d.bodyType, `type.googleapis.com/${o.served.bodyType}`);
      assert.deepEqual(d.spec, o.spec, o.name);
    }
  });

  test('the version is a content hash: equal for equal content, different when anything istiod reads changes', () => {
    const base = object('a');
    const v = encodeMcpObject(base, wire).version;
    assert.equal(encodeMcpObject({ ...base, spec: { resolution: 'STATIC', hosts: ['a.example.com'] } }, wire).version, v, 'key order does not matter');
    const changed = [
      { ...base, spec: { ...base.spec, hosts: ['b.example.com'] } },
      { ...base, labels: { x: 'y' } },
      { ...base, annotations: { x: 'y' } },
      { ...base, createTime: '2024-01-01T00:00:00Z' },
      { ...base, name: 'ns/b' },
    ];
    const versions = new Set([v, ...changed.map((o) => encodeMcpObject(o, wire).version)]);
    assert.equal(versions.size, changed.length + 1);
  });

  test('a field the Istio message does not have is an error naming it, never dropped', () => {
    assert.throws(() => encodeMcpObject(object('a', { hosts: ['a.example.com'], wieght: 1 }), wire), (e: unknown) => e instanceof ProtoJsonError && /wieght/.test(e.message));
    assert.throws(() => encodeMcpObject(object('a', { hosts: ['a.example.com'], resolution: 'MAYBE' }), wire), ProtoJsonError);
    assert.throws(() => encodeMcpObject(object('a', { hosts: 'a.example.com' }), wire), ProtoJsonError);
  });
});

describe('McpStore', () => {
  test('complete sets per collection, encoded once per content, changes reported per collection', () => {
    const store = new McpStore({ wire, ready: true });
    const seen: unknown[] = [];
    store.subscribe((c) => seen.push(c === 'all' ? 'all' : [...c]));
    const ef: McpObject = { served: EF, name: 'root/ef', labels: {}, annotations: {}, createTime: undefined, spec: { configPatches: [] } };
    let r = store.update([object('b'), object('a'), ef]);
    assert.deepEqual([...r.changed].sort(), [EF.collection, SE.collection]);
    assert.deepEqual(store.set(SE.collection).resources.map((x) => x.name), ['ns/a', 'ns/b']);
    assert.equal(store.set('networking.istio.io/DestinationRule').resources.length, 0);
    assert.equal(store.encodeCount, 3);
    const v1 = store.set(SE.collection).versionInfo;
    r = store.update([object('a'), ef, object('b')]);
    assert.equal(r.changed.size, 0);
    assert.equal(store.encodeCount, 3, 'identical objects are not encoded again');
    r = store.update([object('a'), ef]);
    assert.deepEqual([...r.changed], [SE.collection]);
    assert.notEqual(store.set(SE.collection).versionInfo, v1);
    assert.deepEqual(seen, [[SE.collection, EF.collection], [SE.collection]]);
  });

  test('an object that does not encode keeps its last encodable version (MM_MCP_NOT_ENCODABLE); one that never encoded is absent', () => {
    const store = new McpStore({ wire, ready: true });
    store.update([object('a')]);
    const good = store.set(SE.collection).resources[0]!;
    const r = store.update([object('a', { hosts: ['a.example.com'], bogus: true }), object('c', { hosts: 1 })]);
    assert.equal(r.changed.size, 0);
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.object]), [
      ['MM_MCP_NOT_ENCODABLE', 'ServiceEntry ns/a'],
      ['MM_MCP_NOT_ENCODABLE', 'ServiceEntry ns/c'],
    ]);
    assert.match(r.diagnostics[0]!.message, /bogus.*last encodable version \([0-9a-f]{16}\) stays served/);
    assert.match(r.diagnostics[1]!.message, /not sent to istiod/);
    assert.deepEqual(store.set(SE.collection).resources, [good]);
  });

  test('setReady tells every listener once', () => {
    const store = new McpStore({ wire });
    const seen: unknown[] = [];
    store.subscribe((c) => seen.push(c));
    assert.equal(store.ready, false);
    store.setReady();
    store.setReady();
    assert.deepEqual(seen, ['all']);
  });
});

describe('McpStream', () => {
  const SE_URL = 'networking.istio.io/v1/ServiceEntry';
  const req = (extra: Partial<SotwRequest> = {}): SotwRequest => ({ typeUrl: SE_URL, versionInfo: '', resourceNames: [], responseNonce: '', ...extra });
  const setup = (ready = true) => {
    const store = new McpStore({ wire, ready });
    const stream = new McpStream(SE_URL, store, createNonceSource(), DEFAULT_XDS_LIMITS);
    return { store, stream };
  };

  test("the first request is answered even when empty, whatever its nonce (istiod's is a timestamp)", () => {
    const { stream } = setup();
    const step = stream.onRequest(req({ responseNonce: goTimeString(), node: { id: 'istiod' } }));
    assert.equal(step.responses.length, 1);
    const r = step.responses[0]!;
    assert.deepEqual(r.resources, []);
    assert.equal(r.typeUrl, SE_URL);
    assert.equal(r.resourceTypeUrl, MCP_RESOURCE_TYPE_URL);
    assert.ok(r.versionInfo !== '' && r.nonce !== '');
    assert.equal(stream.state().nodeId, 'istiod');
  });

  test('nothing is answered before the store is ready; then the complete set', () => {
    const { store, stream } = setup(false);
    assert.deepEqual(stream.onRequest(req({ responseNonce: 'x' })).responses, []);
    store.update([object('a')]);
    assert.deepEqual(stream.onChange().responses, []);
    store.setReady();
    const [r] = stream.onChange().responses;
    assert.deepEqual(r!.resources.map((x) => x.name), ['ns/a']);
  });

  test('ACK, a change while in flight answered after the ACK with the latest complete set, removals reported', () => {
    const { store, stream } = setup();
    store.update([object('a'), object('b')]);
    const r1 = stream.onRequest(req()).responses[0]!;
    store.update([object('a')]);
    assert.deepEqual(stream.onChange().responses, [], 'one response in flight at a time');
    store.update([object('a'), object('c')]);
    assert.deepEqual(stream.onChange().responses, []);
    const ack = stream.onRequest(req({ responseNonce: r1.nonce, versionInfo: r1.versionInfo }));
    assert.equal(ack.events[0]!.kind, 'ack');
    const [r2] = ack.responses;
    assert.deepEqual(r2!.resources.map((x) => x.name), ['ns/a', 'ns/c'], 'complete, current set');
    assert.ok(Number(r2!.nonce) > Number(r1.nonce));
    const ack2 = stream.onRequest(req({ responseNonce: r2!.nonce, versionInfo: r2!.versionInfo }));
    const e = ack2.events[0]!;
    assert.ok(e.kind === 'ack');
    assert.deepEqual(e.removed, ['ns/b']);
    assert.deepEqual(Object.keys(stream.state().held), ['ns/a', 'ns/c']);
    assert.deepEqual(ack2.responses, []);
    assert.deepEqual(stream.onChange().responses, [], 'no change, nothing sent');
  });

  test('a stale nonce is ignored once a response was sent', () => {
    const { stream } = setup();
    const r1 = stream.onRequest(req({ responseNonce: goTimeString() })).responses[0]!;
    const step = stream.onRequest(req({ responseNonce: goTimeString() }));
    assert.deepEqual(step.responses, []);
    assert.deepEqual(step.events, [{ kind: 'stale-nonce-ignored', nonce: step.events[0]!.kind === 'stale-nonce-ignored' ? step.events[0]!.nonce : '', latestNonce: r1.nonce }]);
    assert.ok(stream.state().inFlight, 'still in flight');
  });

  test('a NACKed set is not sent again until the content changes', () => {
    const { store, stream } = setup();
    store.update([object('a')]);
    const r1 = stream.onRequest(req()).responses[0]!;
    stream.onRequest(req({ responseNonce: r1.nonce, versionInfo: r1.versionInfo }));
    store.update([object('a'), object('b')]);
    const [r2] = stream.onChange().responses;
    const nack = stream.onRequest(req({ responseNonce: r2!.nonce, versionInfo: r1.versionInfo, errorDetail: { code: 3, message: 'no' } }));
    assert.equal(nack.events[0]!.kind, 'nack');
    assert.deepEqual(nack.responses, []);
    assert.deepEqual(stream.onChange().responses, [], 'the NACKed set is not resent');
    assert.equal(stream.state().nack.count, 1);
    assert.deepEqual(Object.keys(stream.state().held), ['ns/a'], 'the client keeps what it ACKed');
    store.update([object('a'), object('b'), object('c')]);
    const [r3] = stream.onChange().responses;
    assert.deepEqual(r3!.resources.map((x) => x.name), ['ns/a', 'ns/b', 'ns/c']);
  });

  test('resource names narrow the set (a non-istiod client); name limits apply', () => {
    const { store, stream } = setup();
    store.update([object('a'), object('b')]);
    const [r] = stream.onRequest(req({ resourceNames: ['ns/b', 'ns/x'] })).responses;
    assert.deepEqual(r!.resources.map((x) => x.name), ['ns/b']);
    const over = stream.onRequest(req({ responseNonce: r!.nonce, resourceNames: ['x'.repeat(DEFAULT_XDS_LIMITS.maxNameLength + 1)] }));
    assert.equal(over.error?.kind, 'limit-exceeded');
  });
});
