/**
 * `--registry zookeeper://` end to end, against a real ZooKeeper holding what a real Dubbo 3.3.6
 * provider registered in interface mode (the verbatim node name of the registry facts): `generate`
 * prints its ServiceEntry, EnvoyFilters and route table; `serve` pushes a provider change to a
 * connected xDS client; a registry that cannot be reached makes `generate` fail with a message.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { parseRegistry, type ZookeeperRegistryConfig } from '../../src/registry/config.js';
import { serve } from '../../src/runtime/serve.js';
import { freePort, ZkServer, ZkWriter } from '../support/zookeeper.js';
import { captureLogs, client, services, sotwReq, until } from '../support/xds.js';
import type { DiscoveryResponseWire } from '../../src/xds/services.js';
import { ISTIOD_TYPE_URLS, SERVED_KINDS } from '../../src/mcp/types.js';
import { createWire } from '../../src/proto/wire.js';
import { connectIstiod, decodeMcp } from '../support/mcp.js';

/** The provider node Dubbo 3.3.6 wrote for demo.GreetingService (group g1, version 1.0.0). */
const PROVIDER =
  'dubbo%3A%2F%2F127.0.0.1%3A20880%2Fdemo.GreetingService%3Fapplication%3Dprov-iface%26deprecated%3Dfalse%26dubbo%3D2.0.2%26dynamic%3Dtrue%26generic%3Dfalse%26group%3Dg1%26interface%3Ddemo.GreetingService%26methods%3Dgreet%26prefer.serialization%3Dhessian2%2Cfastjson2%26release%3D3.3.6%26revision%3D1.0.0%26side%3Dprovider%26timestamp%3D1795972910937%26version%3D1.0.0';
const SECOND = PROVIDER.replace('127.0.0.1%3A20880', '127.0.0.2%3A20880');
const HOST = 'demo.greetingservice-g1-1-0-0';
const BAD = 'dubbo%3A%2F%2F10.0.0.2%3A20880%2Fdemo.BadService%3Fapplication%3Da%ZZ';

let server: ZkServer;
let writer: ZkWriter;
before(async () => {
  server = await ZkServer.start();
  writer = await ZkWriter.connect(server.connect);
  await writer.mkdirp('/dubbo/demo.GreetingService/providers');
  await writer.create(`/dubbo/demo.GreetingService/providers/${PROVIDER}`, '127.0.0.1', true);
  // Hostile data beside it: a provider node whose name is not valid URL encoding.
  await writer.create(`/dubbo/demo.BadService/providers/${BAD}`, '', true);
});
after(async () => {
  writer?.close();
  await server?.close();
});

async function generate(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['generate', ...argv], { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

test('generate --registry zookeeper:// prints the ServiceEntry, EnvoyFilters and route table of what the provider registered', async () => {
  const r = await generate('--registry', `zookeeper://${server.connect}`, '-o', 'json');
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { serviceEntries: unknown[]; envoyFilters: { metadata: { name: string } }[]; routes: { name: string }[] };
  assert.deepEqual(doc.routes.map((x) => x.name), [`${HOST}_20880`]);
  const se = JSON.stringify(doc.serviceEntries);
  assert.match(se, new RegExp(`"hosts":\\["${HOST.replaceAll('.', '\\.')}"\\]`), se);
  assert.match(se, /"address":"127\.0\.0\.1"/);
  assert.match(se, /"tcp-metaprotocol-dubbo"/);
  assert.ok(doc.envoyFilters.some((ef) => ef.metadata.name === `metamesh-outbound-${HOST}-20880`), JSON.stringify(doc.envoyFilters.map((e) => e.metadata.name)));
  assert.ok(!se.includes('badservice'), 'the badly encoded provider is not a service');
  const codes = (JSON.parse(r.out) as { diagnostics: { code: string }[] }).diagnostics.map((d) => d.code);
  assert.ok(codes.includes('MM_REGISTRY_BAD_ENCODING'), `the badly encoded provider is reported: ${codes.join(' ')}`);
});

test('generate fails with a clear message when a registry cannot be read', async () => {
  const port = await freePort();
  const started = Date.now();
  const r = await generate('--registry', `zookeeper://127.0.0.1:${port}`);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`^metamesh generate: registry not read within \\d+ s: zookeeper://127\\.0\\.0\\.1:${port}`));
  assert.ok(Date.now() - started < 60_000);
});

test('serve --registry pushes a provider that appears to a connected xDS client, and is ready only once the registry is read', async () => {
  const config = parseRegistry(`zookeeper://${server.connect}`) as ZookeeperRegistryConfig;
  const logs = captureLogs();
  const running = await serve({ files: [], registries: [config], xdsAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', logger: logs.logger, watch: 'none' });
  const c = client(services.RdsClient, running.xdsPort);
  try {
    await until(() => running.cache.get(`${HOST}_20880`) !== undefined, 'the route table from the registry', 20_000);
    const stream = c.open<DiscoveryResponseWire>('StreamRoutes');
    stream.send(sotwReq([`${HOST}_20880`]));
    const first = await stream.next();
    assert.equal(first.resources?.length, 1);
    const before = JSON.stringify(running.engine.output().serviceEntries);
    assert.ok(!before.includes('127.0.0.2'));
    await writer.create(`/dubbo/demo.GreetingService/providers/${SECOND}`, '127.0.0.2', true);
    await until(() => JSON.stringify(running.engine.output().serviceEntries).includes('127.0.0.2'), 'the second provider in the generated ServiceEntry', 20_000);
    stream.call.cancel();
  } finally {
    c.client.close();
    await running.close();
  }
});

test('serve --registry --mcp pushes a provider change to a connected istiod-like ADS client: the ServiceEntry set it receives gains the new endpoint', async () => {
  const config = parseRegistry(`zookeeper://${server.connect}`) as ZookeeperRegistryConfig;
  const logs = captureLogs();
  const running = await serve({ files: [], registries: [config], xdsAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', logger: logs.logger, watch: 'none', mcp: {} });
  const istiod = connectIstiod(running.xdsPort);
  const seType = SERVED_KINDS.find((k) => k.kind === 'ServiceEntry')!.typeUrl;
  const root = createWire().root;
  const endpoints = (): string[] => {
    const set = istiod.latest.get(seType);
    const se = set?.resources.map((a) => decodeMcp(a, root)).find((d) => d.name.endsWith(`/${HOST}`) || JSON.stringify(d.spec).includes(`"${HOST}"`));
    return ((se?.spec as { endpoints?: { address: string }[] } | undefined)?.endpoints ?? []).map((e) => e.address).sort();
  };
  const THIRD = PROVIDER.replace('127.0.0.1%3A20880', '127.0.0.3%3A20880');
  try {
    await istiod.receive(ISTIOD_TYPE_URLS.length);
    assert.ok(endpoints().includes('127.0.0.1'), `the registry's ServiceEntry is in istiod's first set: ${endpoints().join(',')}`);
    assert.ok(!endpoints().includes('127.0.0.3'));
    await writer.create(`/dubbo/demo.GreetingService/providers/${THIRD}`, '127.0.0.3', true);
    // Each push is one response for the ServiceEntry type; read until the new endpoint arrives.
    const deadline = Date.now() + 20_000;
    while (!endpoints().includes('127.0.0.3')) {
      assert.ok(Date.now() < deadline, `no push with 127.0.0.3 within 20 s: ${endpoints().join(',')}`);
      await istiod.receive(1);
    }
    assert.ok(endpoints().includes('127.0.0.1'), 'the other endpoints stay');
  } finally {
    istiod.close();
    await running.close();
  }
});
