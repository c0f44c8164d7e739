/**
 * The MCP sink end to end: `serve --mcp` in process, and a real @grpc/grpc-js ADS client that
 * behaves as istiod's MCP client does (test/support/mcp.ts: 16 wildcard requests on connect, the
 * node only on the first, a timestamp as response_nonce, every response ACKed with its nonce and
 * version). What it receives is decoded with the proto definitions and compared with what the
 * pipeline generates for the same files; changes go through serve's own path (the file watcher,
 * the engine, the store). Waits are deadlines on events, never fixed sleeps.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadInputs } from '../../src/cli/files.js';
import { readResources } from '../../src/input/read.js';
import { mcpObjects, type McpObject } from '../../src/mcp/objects.js';
import { ISTIOD_TYPE_URLS, MESH_CONFIG_TYPE_URL, SERVED_KINDS } from '../../src/mcp/types.js';
import { build } from '../../src/pipeline/build.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { createWire } from '../../src/proto/wire.js';
import { parseRegistry } from '../../src/registry/config.js';
import type { DiscoveryResponseWire } from '../../src/xds/services.js';
import { connectIstiod, decodeMcp, goTimeString, ISTIOD_NODE, type Istiod } from '../support/mcp.js';
import { DUBBO, RDS, client, decode, examplesCopy, pipelineRoute, removeTemps, services, sotwReq, start, tempDir, until } from '../support/xds.js';

after(removeTemps);

const wire = createWire();
const builtins = loadBuiltinProtocols();
const [SE, EF, VS] = (['ServiceEntry', 'EnvoyFilter', 'VirtualService'] as const).map((k) => SERVED_KINDS.find((s) => s.kind === k)!) as [
  (typeof SERVED_KINDS)[number],
  (typeof SERVED_KINDS)[number],
  (typeof SERVED_KINDS)[number],
];

/** What the sink must serve for a directory: the pipeline's objects as MCP objects, by type URL. */
function expected(dir: string): Map<string, McpObject[]> {
  const out = build(readResources(loadInputs([dir]).documents).config, builtins);
  const { objects, diagnostics } = mcpObjects(out, { domain: 'cluster.local' });
  assert.deepEqual(diagnostics, []);
  const byType = new Map<string, McpObject[]>(ISTIOD_TYPE_URLS.map((t) => [t, []]));
  for (const o of objects) byType.get(o.served.typeUrl)!.push(o);
  for (const list of byType.values()) list.sort((a, b) => (a.name < b.name ? -1 : 1));
  return byType;
}

/** Asserts that `r` is the complete set `want` (names, metadata, bodies decoded). */
function assertSet(r: DiscoveryResponseWire, want: readonly McpObject[]): void {
  const got = r.resources.map((a) => decodeMcp(a, wire.root));
  assert.deepEqual(got.map((d) => d.name), want.map((o) => o.name), r.type_url);
  for (const [i, d] of got.entries()) {
    const o = want[i]!;
    assert.equal(d.bodyType, `type.googleapis.com/istio.networking.v1alpha3.${o.served.kind}`);
    assert.deepEqual(d.spec, o.spec, d.name);
    assert.deepEqual(d.labels, o.labels, d.name);
    assert.deepEqual(d.annotations, o.annotations, d.name);
    assert.match(d.version, /^[0-9a-f]{16}$/);
  }
}

const versionsOf = (r: DiscoveryResponseWire): Record<string, string> =>
  Object.fromEntries(r.resources.map((a) => decodeMcp(a, wire.root)).map((d) => [d.name, d.version]));

const NEW_SERVICE = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: echo, namespace: mcp-test}
spec:
  hosts: [echo.mcp-test.example]
  ports: [{number: 9090, name: tcp-metaprotocol-thrift, protocol: TCP}]
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints: [{address: 10.9.0.1}]
`;

describe('MCP sink (serve --mcp) with an istiod-like ADS client', () => {
  test("every one of istiod's 16 type URLs is answered; the bodies decode to the generated objects; ACKs recorded", async () => {
    const dir = examplesCopy();
    const srv = await start(dir, { mcp: {} });
    const istiod = connectIstiod(srv.xdsPort);
    try {
      const responses = await istiod.receive(ISTIOD_TYPE_URLS.length);
      assert.deepEqual(responses.map((r) => r.type_url).sort(), [...ISTIOD_TYPE_URLS].sort());
      assert.equal(new Set(responses.map((r) => r.nonce)).size, responses.length, 'one nonce per response');
      const want = expected(dir);
      for (const r of responses) {
        assertSet(r, want.get(r.type_url)!);
        assert.ok(r.version_info !== '');
      }
      for (const s of [SE, EF, VS]) assert.ok(want.get(s.typeUrl)!.length > 0, `examples generate a ${s.kind}`);
      assert.deepEqual(istiod.latest.get(MESH_CONFIG_TYPE_URL)!.resources, [], 'MeshConfig: metamesh is no mesh config source');
      // The store's versions are what istiod got, and the ACKs are recorded per type URL.
      const se = istiod.latest.get(SE.typeUrl)!;
      assert.deepEqual(versionsOf(se), Object.fromEntries(srv.mcp!.store.set(SE.collection).resources.map((x) => [x.name, x.version])));
      await until(() => srv.xds.streams().filter((s) => s.typeUrl !== '' && Object.keys(s.ackedVersions).length > 0).length === 3, 'the ACKs of the three non-empty sets');
      const info = srv.xds.streams().find((s) => s.typeUrl === SE.typeUrl)!;
      assert.equal(info.nodeId, ISTIOD_NODE.id);
      assert.equal(info.service, 'ads');
      assert.deepEqual(info.ackedVersions, versionsOf(se));
      assert.equal(srv.logs.lines.filter((l) => l.event === 'rejected-request').length, 0);
    } finally {
      istiod.close();
      await srv.close();
    }
  });

  test('a change pushes the complete new set of each changed type only; unchanged objects keep their version; deletion = missing from the set', async () => {
    const dir = examplesCopy();
    const srv = await start(dir, { mcp: {} });
    const istiod = connectIstiod(srv.xdsPort);
    try {
      await istiod.receive(ISTIOD_TYPE_URLS.length);
      const before = { se: versionsOf(istiod.latest.get(SE.typeUrl)!), ef: versionsOf(istiod.latest.get(EF.typeUrl)!) };

      // A new Thrift ServiceEntry without addresses: re-served with a VIP, plus its outbound patch.
      const file = path.join(dir, 'echo.yaml');
      writeFileSync(file, NEW_SERVICE);
      const added = await istiod.receive(2);
      assert.deepEqual(added.map((r) => r.type_url).sort(), [EF.typeUrl, SE.typeUrl].sort(), 'only the changed types are pushed');
      let want = expected(dir);
      for (const r of added) assertSet(r, want.get(r.type_url)!);
      const seNow = versionsOf(istiod.latest.get(SE.typeUrl)!);
      assert.ok(seNow['mcp-test/echo'], 'the new ServiceEntry is served');
      for (const [name, v] of Object.entries(before.se)) assert.equal(seNow[name], v, `${name} kept its version`);
      const efNow = versionsOf(istiod.latest.get(EF.typeUrl)!);
      assert.ok(Object.keys(efNow).length > Object.keys(before.ef).length);
      for (const [name, v] of Object.entries(before.ef)) if (name in efNow) assert.equal(efNow[name], v, `${name} kept its version`);

      // Deleting the file: the next complete sets no longer hold what it generated.
      rmSync(file);
      const removed = await istiod.receive(2);
      assert.deepEqual(removed.map((r) => r.type_url).sort(), [EF.typeUrl, SE.typeUrl].sort());
      want = expected(dir);
      for (const r of removed) assertSet(r, want.get(r.type_url)!);
      assert.deepEqual(versionsOf(istiod.latest.get(SE.typeUrl)!), before.se);
      assert.deepEqual(versionsOf(istiod.latest.get(EF.typeUrl)!), before.ef);
      assert.equal(istiod.latest.get(SE.typeUrl)!.version_info, istiod.received.find((r) => r.type_url === SE.typeUrl)!.version_info, 'same content, same version_info');
    } finally {
      istiod.close();
      await srv.close();
    }
  });

  test('versions are content hashes: a second istiod (and a restarted metamesh) gets the same version_info and object versions', async () => {
    const dir = examplesCopy();
    const first = await start(dir, { mcp: {} });
    const a = connectIstiod(first.xdsPort);
    const b = connectIstiod(first.xdsPort);
    let restarted: Awaited<ReturnType<typeof start>> | undefined;
    let c: Istiod | undefined;
    try {
      await a.receive(16);
      await b.receive(16);
      restarted = await start(dir, { mcp: {} });
      c = connectIstiod(restarted.xdsPort);
      await c.receive(16);
      for (const t of ISTIOD_TYPE_URLS) {
        const [ra, rb, rc] = [a, b, c].map((x): DiscoveryResponseWire => x.latest.get(t)!) as [DiscoveryResponseWire, DiscoveryResponseWire, DiscoveryResponseWire];
        assert.equal(rb.version_info, ra.version_info, t);
        assert.equal(rc.version_info, ra.version_info, t);
        assert.deepEqual(versionsOf(rc), versionsOf(ra));
      }
    } finally {
      for (const x of [a, b, c]) x?.close();
      await first.close();
      await restarted?.close();
    }
  });

  test('a NACK is recorded and the rejected set is not sent again; the next change is', async () => {
    const dir = examplesCopy();
    const srv = await start(dir, { mcp: {} });
    const istiod = connectIstiod(srv.xdsPort);
    try {
      await istiod.receive(16);
      const file = path.join(dir, 'echo.yaml');
      writeFileSync(file, NEW_SERVICE);
      // NACK the ServiceEntry set; ACK the EnvoyFilter set.
      await istiod.receive(2, (r) => (r.type_url === SE.typeUrl ? 'rejected by the test' : undefined));
      await until(() => srv.xds.streams().find((s) => s.typeUrl === SE.typeUrl)?.nackCount === 1, 'the NACK to be recorded');
      assert.equal(srv.xds.streams().find((s) => s.typeUrl === SE.typeUrl)!.lastNackMessage, 'rejected by the test');
      const nack = srv.logs.lines.find((l) => l.event === 'nack');
      assert.ok(nack && nack.typeUrl === SE.typeUrl);
      // The next change (the file's endpoint) brings both sets again, the ServiceEntries current.
      writeFileSync(file, NEW_SERVICE.replace('10.9.0.1', '10.9.0.2'));
      const next = await istiod.receive(1);
      assert.equal(next[0]!.type_url, SE.typeUrl, 'only the ServiceEntries changed');
      assertSet(next[0]!, expected(dir).get(SE.typeUrl)!);
    } finally {
      istiod.close();
      await srv.close();
    }
  });

  test('with a registry, istiod is answered once every registry is read: its first ServiceEntry set already holds the registry services', async () => {
    const dir = examplesCopy();
    const snapshot = path.join(tempDir('metamesh-mcp-registry-'), 'registry.yaml');
    writeFileSync(snapshot, 'services:\n  - key: thrift:/demo\n    protocol: thrift\n    host: echo.registry.example.com\n    instances:\n      - {address: 10.1.0.5, port: 9090, labels: {}, weight: 100, healthy: true, enabled: true}\n');
    const registry = parseRegistry(`file://${snapshot}`);
    assert.ok(!('error' in registry));
    const srv = await start(dir, { mcp: {}, registries: [registry] });
    const istiod = connectIstiod(srv.xdsPort);
    try {
      const responses = await istiod.receive(16);
      const se = responses.find((r) => r.type_url === SE.typeUrl)!;
      const hosts = se.resources.map((a) => decodeMcp(a, wire.root).spec.hosts as string[]).flat();
      assert.ok(hosts.includes('echo.registry.example.com'), `the registry's ServiceEntry is in the first set: ${hosts.join(', ')}`);
      const ready = srv.logs.lines.findIndex((l) => l.event === 'mcp-ready');
      const registryUpdate = srv.logs.lines.findIndex((l) => l.event === 'registry-update');
      assert.ok(registryUpdate >= 0 && ready > registryUpdate, 'ready only once the registry services were applied');
    } finally {
      istiod.close();
      await srv.close();
    }
  });

  test('sidecars keep getting routes on the same port while istiod is served', async () => {
    const dir = examplesCopy();
    const srv = await start(dir, { mcp: {} });
    const istiod = connectIstiod(srv.xdsPort);
    const { client: c, open } = client(services.AdsClient, srv.xdsPort);
    try {
      await istiod.receive(16);
      const sidecar = open<DiscoveryResponseWire>('StreamAggregatedResources');
      sidecar.send(sotwReq([DUBBO]));
      const r = await sidecar.next();
      assert.equal(r.type_url, RDS);
      assert.deepEqual(decode(r.resources[0]!), pipelineRoute(dir, DUBBO));
      sidecar.close();
    } finally {
      c.close();
      istiod.close();
      await srv.close();
    }
  });
});

describe('MCP sink limits and refusals', () => {
  test('without --mcp an Istio type URL is not served (INVALID_ARGUMENT)', async () => {
    const srv = await start(examplesCopy());
    const istiod = connectIstiod(srv.xdsPort);
    try {
      const e = await istiod.stream.failure();
      assert.equal(e.code, 3);
      assert.match(e.details ?? '', /core\/v1alpha1\/MeshConfig.*is not served here/);
    } finally {
      istiod.close();
      await srv.close();
    }
  });

  test('MCP is state of the world only: a delta ADS request for an Istio type URL is INVALID_ARGUMENT', async () => {
    const srv = await start(examplesCopy(), { mcp: {} });
    const { client: c, open } = client(services.AdsClient, srv.xdsPort);
    try {
      const s = open('DeltaAggregatedResources');
      s.send({ node: ISTIOD_NODE, type_url: SE.typeUrl, resource_names_subscribe: [], response_nonce: '' });
      const e = await s.failure();
      assert.equal(e.code, 3);
    } finally {
      c.close();
      await srv.close();
    }
  });

  test('more MCP type URLs on one stream than the limit ends it with RESOURCE_EXHAUSTED', async () => {
    const srv = await start(examplesCopy(), { mcp: {} });
    const many = Array.from({ length: 65 }, (_, i) => `networking.istio.io/v1/Kind${i}`);
    const istiod = connectIstiod(srv.xdsPort, many);
    try {
      const e = await istiod.stream.failure();
      assert.equal(e.code, 8);
      assert.match(e.details ?? '', /type URL number 65 .* over the limit of 64/);
    } finally {
      istiod.close();
      await srv.close();
    }
  });

  test('the xDS limits apply to istiod streams: request size and streams per connection', async () => {
    const srv = await start(examplesCopy(), { mcp: {}, xdsLimits: { maxRequestBytes: 1024, maxStreamsPerConnection: 1 } });
    const { client: c, open } = client(services.AdsClient, srv.xdsPort);
    try {
      const big = open<DiscoveryResponseWire>('StreamAggregatedResources');
      big.send({ type_url: SE.typeUrl, response_nonce: goTimeString(), node: { ...ISTIOD_NODE, id: 'x'.repeat(2000) } });
      const e = await big.failure();
      assert.equal(e.code, 8);
      const one = open<DiscoveryResponseWire>('StreamAggregatedResources');
      one.send({ type_url: SE.typeUrl, response_nonce: goTimeString(), node: ISTIOD_NODE });
      await one.next();
      const two = open<DiscoveryResponseWire>('StreamAggregatedResources');
      two.send({ type_url: SE.typeUrl, response_nonce: goTimeString(), node: ISTIOD_NODE });
      const refused = await two.failure();
      assert.equal(refused.code, 8);
      assert.match(refused.details ?? '', /maxStreamsPerConnection|streams already open/);
    } finally {
      c.close();
      await srv.close();
    }
  });
});
