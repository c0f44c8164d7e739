/**
 * Real Apache Dubbo 3 Java providers (test/fixtures/dubbo-provider, built with Maven from Central
 * by test/support/dubbo.ts) registering demo.GreetingService into a real ZooKeeper and into rnacos
 * 0.8.8 (a Rust implementation of the Nacos server): one provider per register mode (interface,
 * instance, all) and one Triple provider with remote metadata. What they registered is read back
 * from the registry, and `generate --registry` must print ServiceEntries that match it: hosts,
 * 127.0.0.1 addresses, ports, protocols and labels, with nothing added to the providers by hand
 * (no annotations, no aeraki_* parameters). Then, while `serve` runs, one provider stops (SIGTERM:
 * Dubbo deregisters) and one crashes (kill -9): each endpoint stays for the removal grace period,
 * then goes, and the others stay.
 *
 * Four JVMs per registry, started at once. Every wait polls the registry or metamesh's output
 * against a deadline; nothing sleeps and hopes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { main } from '../../src/cli/main.js';
import { parseRegistry } from '../../src/registry/config.js';
import { serve, type Running } from '../../src/runtime/serve.js';
import { buildProvider, DUBBO_VERSION, startProviders, type DubboProvider, type ProviderBuild, type ProviderOptions } from '../support/dubbo.js';
import { Rnacos } from '../support/nacos.js';
import { until, ZkServer, ZkWriter } from '../support/zookeeper.js';

const IFACE = 'demo.GreetingService';
const GROUP = 'g1';
const VERSION = '1.0.0';
/** dubbo2istio's naming of an interface service: lower(interface-group-version, dots of the version as dashes). */
const HOST = `${IFACE}-${GROUP}-${VERSION.replaceAll('.', '-')}`.toLowerCase();
const PORT_NAME = 'tcp-metaprotocol-dubbo';
/** The removal grace period `serve` runs with here (30 s by default). */
const GRACE_MS = 3000;
/** The protection hold: how long the loss of every instance of a service is refused (catalog/service-policy.ts). */
const HOLD_MS = 3000;
const DEADLINE_MS = 60_000;

/** The four providers of each registry: one per register mode, and Triple with remote metadata. */
function providerSet(registry: string, crashable: string): [ProviderOptions, ProviderOptions, ProviderOptions, ProviderOptions] {
  const common = { group: GROUP, version: VERSION };
  return [
    { registry, app: 'prov-iface', mode: 'interface', ...common },
    // Crashed (kill -9) in the serve test: a short ZooKeeper session makes its nodes go in seconds.
    { registry: crashable, app: 'prov-inst', mode: 'instance', ...common },
    { registry, app: 'prov-all', mode: 'all', ...common },
    { registry, app: 'prov-tri', mode: 'all', protocol: 'tri', metadataType: 'remote', ...common },
  ];
}

interface Endpoint {
  readonly address: string;
  readonly port: number;
  readonly labels: Readonly<Record<string, string>>;
}

interface ServiceEntryJson {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: {
    hosts: string[];
    ports: { number: number; name: string; protocol: string }[];
    resolution: string;
    endpoints: { address: string; ports: Record<string, number>; labels?: Record<string, string>; weight?: number }[];
  };
}

interface Generated {
  serviceEntries: ServiceEntryJson[];
  routes: { name: string }[];
  diagnostics: { code: string; object: string; message: string }[];
}

async function generate(registry: string): Promise<Generated> {
  let out = '';
  let err = '';
  const code = await main(['generate', '--registry', registry, '-o', 'json'], { out: (s) => (out += s), err: (s) => (err += s) });
  assert.equal(code, 0, err);
  return JSON.parse(out) as Generated;
}

function byPort(a: Endpoint, b: Endpoint): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port;
}

/** A ServiceEntry's endpoints in the shape of what was registered. */
function endpointsOf(se: ServiceEntryJson): Endpoint[] {
  return se.spec.endpoints.map((e) => ({ address: e.address, port: e.ports[PORT_NAME]!, labels: e.labels ?? {} })).sort(byPort);
}

/** Checks one generated ServiceEntry against what the registry holds for its host. */
function assertServiceEntry(se: ServiceEntryJson | undefined, host: string, registered: Endpoint[]): void {
  assert.ok(se, `no ServiceEntry for ${host}`);
  assert.deepEqual(se.spec.hosts, [host]);
  assert.equal(se.spec.resolution, 'STATIC');
  assert.equal(se.spec.ports.length, 1);
  assert.equal(se.spec.ports[0]!.name, PORT_NAME);
  assert.equal(se.spec.ports[0]!.protocol, 'TCP');
  assert.ok(registered.some((r) => r.port === se.spec.ports[0]!.number), `the service port ${se.spec.ports[0]!.number} is none of the registered ports`);
  assert.deepEqual(endpointsOf(se), [...registered].sort(byPort));
  for (const e of se.spec.endpoints) assert.equal(e.weight, 100, 'Dubbo default weight');
  // Only what metamesh itself says about where the entry came from.
  for (const k of Object.keys(se.metadata.annotations ?? {})) assert.match(k, /^metamesh\.io\//);
}

/** The generated ServiceEntries, by host. */
function byHost(doc: { serviceEntries: ServiceEntryJson[] }): Map<string, ServiceEntryJson> {
  return new Map(doc.serviceEntries.map((se) => [se.spec.hosts[0]!, se]));
}

function assertDiagnostics(doc: Generated, triObject: RegExp): void {
  const codes = doc.diagnostics.map((d) => d.code);
  // The Triple provider is gRPC over HTTP/2, which Istio routes itself: noted, no MetaProtocol service.
  assert.ok(doc.diagnostics.some((d) => d.code === 'MM_REGISTRY_NOT_METAPROTOCOL' && triObject.test(d.object)), JSON.stringify(doc.diagnostics));
  // Nothing a real provider registers needs fixing to become a ServiceEntry.
  for (const bad of ['MM_SERVICEENTRY_LABEL_FIXED', 'MM_SERVICEENTRY_ENDPOINT_SKIPPED', 'MM_REGISTRY_BAD_RECORD', 'MM_REGISTRY_BAD_ENCODING', 'MM_REGISTRY_PROTOCOL_MIXED']) {
    assert.ok(!codes.includes(bad), `${bad}: ${JSON.stringify(doc.diagnostics.filter((d) => d.code === bad))}`);
  }
}

const quiet = pino({ level: 'silent' });

/** `serve` reading one registry, with a short removal grace period. */
async function serveRegistry(url: string): Promise<Running> {
  const config = parseRegistry(url);
  assert.ok(!('error' in config), JSON.stringify(config));
  return serve({ files: [], registries: [config], xdsAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', logger: quiet, watch: 'none', catalog: { removalGraceMs: GRACE_MS, protectionHoldMs: HOLD_MS } });
}

/** Whether the catalog reports the loss of `host`'s instances as refused (MM_CATALOG_PROTECTED). */
function protectedService(running: Running, host: string): boolean {
  return running.engine.output().diagnostics.some((d) => d.code === 'MM_CATALOG_PROTECTED' && d.message.includes(` of ${host} instead of`));
}

/** The endpoints `serve` currently generates for `host` (undefined when it has no ServiceEntry). */
function served(running: Running, host: string): Endpoint[] | undefined {
  const se = (running.engine.output().serviceEntries as unknown as ServiceEntryJson[]).find((s) => s.spec.hosts[0] === host);
  return se && endpointsOf(se);
}

/** The ports of `list`, sorted, as one string ('' for none), to compare with sorted(…). */
function ports(list: readonly Endpoint[] | undefined): string {
  return sorted(...(list ?? []).map((e) => e.port));
}

function sorted(...numbers: number[]): string {
  return numbers.sort((a, b) => a - b).join();
}

async function stopAll(list: readonly DubboProvider[]): Promise<void> {
  await Promise.all(list.map((p) => p.stop()));
}

let build: ProviderBuild;
before(async () => {
  build = await buildProvider();
});

/** A provider URL as Dubbo writes it into `/dubbo/<interface>/providers` (a node name, URL-encoded once). */
interface ProviderUrl {
  readonly scheme: string;
  readonly host: string;
  readonly port: number;
  readonly params: Readonly<Record<string, string>>;
}

function parseProviderNode(name: string): ProviderUrl {
  const url = new URL(decodeURIComponent(name));
  return { scheme: url.protocol.slice(0, -1), host: url.hostname, port: Number(url.port), params: Object.fromEntries(url.searchParams) };
}

/** What the providers wrote into ZooKeeper, read back. */
interface ZkRegistered {
  readonly providers: ProviderUrl[];
  /** Application → its instances' Curator JSON. */
  readonly instances: Map<string, { address: string; port: number; payload: { metadata: Record<string, string> } }[]>;
  readonly mapping: string[];
  /** Application → the parameters of the service definition it published for the interface. */
  readonly definitions: Map<string, Record<string, string>>;
  /** Application → its revision documents (remote metadata). */
  readonly revisions: Map<string, string[]>;
}

async function readZk(zk: ZkWriter): Promise<ZkRegistered> {
  const providers = (await zk.children(`/dubbo/${IFACE}/providers`)).map(parseProviderNode);
  const instances: ZkRegistered['instances'] = new Map();
  const revisions = new Map<string, string[]>();
  const definitions = new Map<string, Record<string, string>>();
  for (const app of await zk.children('/services')) {
    const list = [];
    for (const id of await zk.children(`/services/${app}`)) {
      const data = await zk.data(`/services/${app}/${id}`);
      if (data) list.push(JSON.parse(data) as { address: string; port: number; payload: { metadata: Record<string, string> } });
    }
    instances.set(app, list);
    revisions.set(app, await zk.children(`/dubbo/metadata/${app}`));
  }
  for (const app of await zk.children(`/dubbo/metadata/${IFACE}/${VERSION}/${GROUP}/provider`)) {
    const d = await zk.data(`/dubbo/metadata/${IFACE}/${VERSION}/${GROUP}/provider/${app}`);
    if (d) definitions.set(app, (JSON.parse(d) as { parameters: Record<string, string> }).parameters);
  }
  const mapping = ((await zk.data(`/dubbo/mapping/${IFACE}`)) ?? '').split(',').filter((s) => s !== '').sort();
  return { providers, instances, mapping, definitions, revisions };
}

/** The `dubbo` endpoint port of a Dubbo 3 application instance (its `dubbo.endpoints` metadata). */
function dubboEndpointPort(metadata: Record<string, string>, protocol = 'dubbo'): number | undefined {
  const list = JSON.parse(metadata['dubbo.endpoints'] ?? '[]') as { port: number; protocol: string }[];
  return list.find((e) => e.protocol === protocol)?.port;
}

describe('Dubbo 3 providers in ZooKeeper', () => {
  let zk: ZkServer;
  let reader: ZkWriter;
  let iface: DubboProvider;
  let inst: DubboProvider;
  let all: DubboProvider;
  let tri: DubboProvider;
  let registered: ZkRegistered;

  before(async () => {
    zk = await ZkServer.start();
    reader = await ZkWriter.connect(zk.connect);
    const registry = `zookeeper://${zk.connect}`;
    [iface, inst, all, tri] = await startProviders(build, providerSet(registry, `${registry}?session=4000`));
    // Ready means exported and registered; the interface → application mapping is written just after.
    await until(
      async () => {
        registered = await readZk(reader);
        return registered.providers.length === 3 && registered.mapping.length === 3 && registered.definitions.size === 4 && (registered.revisions.get('prov-tri') ?? []).length === 1 && registered.instances.size === 3;
      },
      DEADLINE_MS,
      () => `the providers' registrations in ZooKeeper; read so far: ${JSON.stringify({ ...registered, instances: [...(registered?.instances ?? [])], definitions: [...(registered?.definitions.keys() ?? [])], revisions: [...(registered?.revisions ?? [])] })}`,
    );
  });
  after(async () => {
    await stopAll([iface, inst, all, tri].filter((p) => p !== undefined));
    reader?.close();
    await zk?.close();
  });

  test('each register mode writes what Dubbo 3 writes, at 127.0.0.1 and the ports the providers were given', (t) => {
    t.diagnostic(`provider starts (ms): ${[iface, inst, all, tri].map((p) => `${p.options.app} ${p.startMs}`).join(', ')}`);
    const byApp = new Map(registered.providers.map((u) => [u.params.application!, u]));
    // Interface and all modes write a provider URL; instance mode does not.
    assert.deepEqual([...byApp.keys()].sort(), ['prov-all', 'prov-iface', 'prov-tri']);
    for (const [app, p] of [['prov-iface', iface], ['prov-all', all], ['prov-tri', tri]] as const) {
      const u = byApp.get(app)!;
      assert.deepEqual([u.scheme, u.host, u.port], [p.options.protocol ?? 'dubbo', '127.0.0.1', p.port], app);
      assert.deepEqual([u.params.interface, u.params.group, u.params.version, u.params.side, u.params.release], [IFACE, GROUP, VERSION, 'provider', DUBBO_VERSION], app);
      // What the provider says it exported is what it registered.
      assert.ok(p.urls.some((x) => x.startsWith(`${u.scheme}://127.0.0.1:${p.port}/${IFACE}?`)), `${app} exported ${p.urls.join(' ')}`);
      assert.ok(!Object.keys(u.params).some((k) => k.startsWith('aeraki')), app);
    }
    assert.equal(byApp.get('prov-iface')!.params['service-name-mapping'], undefined);
    assert.equal(byApp.get('prov-all')!.params['service-name-mapping'], 'true');
    // Instance and all modes write an application instance and the mapping; interface mode does neither.
    assert.deepEqual([...registered.instances.keys()].sort(), ['prov-all', 'prov-inst', 'prov-tri']);
    assert.deepEqual(registered.mapping, ['prov-all', 'prov-inst', 'prov-tri']);
    for (const [app, p] of [['prov-inst', inst], ['prov-all', all], ['prov-tri', tri]] as const) {
      const [i, ...more] = registered.instances.get(app)!;
      assert.equal(more.length, 0, app);
      assert.deepEqual([i!.address, i!.port, dubboEndpointPort(i!.payload.metadata, p.options.protocol ?? 'dubbo')], ['127.0.0.1', p.port, p.port], app);
    }
    // Remote metadata: the revision document is in ZooKeeper; local metadata keeps it in the provider.
    assert.equal(registered.instances.get('prov-tri')![0]!.payload.metadata['dubbo.metadata.storage-type'], 'remote');
    assert.deepEqual(registered.revisions.get('prov-tri'), [registered.instances.get('prov-tri')![0]!.payload.metadata['dubbo.metadata.revision']]);
    assert.deepEqual(registered.revisions.get('prov-inst'), []);
    // Every mode publishes its service definition, with the group and version it exports.
    for (const [app, params] of registered.definitions) assert.deepEqual([params.group, params.version, params.application], [GROUP, VERSION, app]);
  });

  test('generate --registry zookeeper://: one interface ServiceEntry with the three Dubbo providers, as registered', async () => {
    const doc = await generate(`zookeeper://${zk.connect}`);
    // From the provider URLs (interface and all modes)…
    const expected: Endpoint[] = registered.providers
      .filter((u) => u.scheme === 'dubbo')
      .map((u) => ({ address: u.host, port: u.port, labels: { application: u.params.application!, group: u.params.group!, version: u.params.version! } }));
    // …and the instance-mode application, through the mapping, with the group and version of its definition.
    const def = registered.definitions.get('prov-inst')!;
    for (const i of registered.instances.get('prov-inst')!) {
      expected.push({ address: i.address, port: dubboEndpointPort(i.payload.metadata)!, labels: { application: 'prov-inst', group: def.group!, version: def.version! } });
    }
    assert.equal(expected.length, 3);
    const ses = byHost(doc);
    assert.deepEqual([...ses.keys()], [HOST], 'one ServiceEntry, the interface\'s (the Triple provider gets none)');
    assertServiceEntry(ses.get(HOST), HOST, expected);
    const se = ses.get(HOST)!;
    assert.equal(se.metadata.annotations?.['metamesh.io/interface'], IFACE);
    assert.equal(se.metadata.annotations?.['metamesh.io/group'], GROUP);
    assert.equal(se.metadata.annotations?.['metamesh.io/version'], VERSION);
    assert.deepEqual(doc.routes.map((r) => r.name), [`${HOST}_${se.spec.ports[0]!.number}`]);
    assertDiagnostics(doc, /prov-tri|tri%3A/);
  });

  test('generate --registry zookeeper://…?level=application: one ServiceEntry per application that serves Dubbo', async () => {
    const doc = await generate(`zookeeper://${zk.connect}?level=application`);
    const ses = byHost(doc);
    assert.deepEqual([...ses.keys()].sort(), ['prov-all', 'prov-iface', 'prov-inst']);
    const fromUrl = (app: string) => registered.providers.filter((u) => u.params.application === app).map((u) => ({ address: u.host, port: u.port, labels: { application: app } }));
    const fromInstances = (app: string) => registered.instances.get(app)!.map((i) => ({ address: i.address, port: dubboEndpointPort(i.payload.metadata)!, labels: { application: app } }));
    assertServiceEntry(ses.get('prov-iface'), 'prov-iface', fromUrl('prov-iface'));
    assertServiceEntry(ses.get('prov-inst'), 'prov-inst', fromInstances('prov-inst'));
    // The all-mode provider is listed twice (URL and instance) at one address: one endpoint.
    assert.deepEqual(fromUrl('prov-all'), fromInstances('prov-all'));
    assertServiceEntry(ses.get('prov-all'), 'prov-all', fromInstances('prov-all'));
    for (const se of ses.values()) assert.equal(se.metadata.annotations?.['metamesh.io/application'], se.spec.hosts[0]);
    assertDiagnostics(doc, /prov-tri/);
  });

  test('serve: a provider stopped (SIGTERM) and one killed (kill -9, 4 s session) leave after the grace period; the others stay', async () => {
    const running = await serveRegistry(`zookeeper://${zk.connect}`);
    try {
      await until(() => ports(served(running, HOST)) === sorted(iface.port, inst.port, all.port), DEADLINE_MS, () => `the three providers served: ${JSON.stringify(served(running, HOST))}`);

      // SIGTERM: Dubbo deregisters (its provider node goes at once), then exits with 0.
      const stopped = iface.stop();
      await until(async () => (await readZk(reader)).providers.every((u) => u.port !== iface.port), DEADLINE_MS, () => 'the stopped provider deregistered');
      assert.equal(ports(served(running, HOST)), sorted(iface.port, inst.port, all.port), 'kept during the grace period');
      assert.equal(await stopped, 0, iface.output());
      await until(() => ports(served(running, HOST)) === sorted(inst.port, all.port), DEADLINE_MS, () => `the stopped provider removed: ${JSON.stringify(served(running, HOST))}`);

      // kill -9: no goodbye; its instance node lives until its 4 s session expires.
      await inst.kill();
      await until(async () => !(await readZk(reader)).instances.get('prov-inst')?.length, DEADLINE_MS, () => 'the killed provider\'s session expired');
      assert.equal(ports(served(running, HOST)), sorted(inst.port, all.port), 'kept during the grace period');
      await until(() => ports(served(running, HOST)) === sorted(all.port), DEADLINE_MS, () => `the killed provider removed: ${JSON.stringify(served(running, HOST))}`);
      assert.deepEqual(served(running, HOST), [{ address: '127.0.0.1', port: all.port, labels: { application: 'prov-all', group: GROUP, version: VERSION } }]);
    } finally {
      await running.close();
    }
  });
});

/** What the providers registered into Nacos, read back over the v1 Open API. */
interface NacosHostJson {
  ip: string;
  port: number;
  metadata: Record<string, string>;
}

async function nacosHosts(server: Rnacos, service: string): Promise<NacosHostJson[]> {
  return ((await server.instances(service)) as { hosts?: NacosHostJson[] }).hosts ?? [];
}

async function nacosServices(server: Rnacos): Promise<string[]> {
  const r = (await (await fetch(`${server.url}/nacos/v1/ns/service/list?pageNo=1&pageSize=100`)).json()) as { doms: string[] };
  return [...r.doms].sort();
}

async function nacosMapping(server: Rnacos): Promise<string[]> {
  const r = await fetch(`${server.url}/nacos/v1/cs/configs?${new URLSearchParams({ dataId: IFACE, group: 'mapping', tenant: '' }).toString()}`);
  return r.ok ? (await r.text()).split(',').filter((s) => s !== '').sort() : [];
}

describe('Dubbo 3 providers in Nacos (rnacos)', () => {
  const SERVICE = `providers:${IFACE}:${VERSION}:${GROUP}`;
  let server: Rnacos;
  let iface: DubboProvider;
  let inst: DubboProvider;
  let all: DubboProvider;
  let tri: DubboProvider;

  before(async () => {
    server = await Rnacos.start();
    const registry = `nacos://127.0.0.1:${server.port}`;
    // rnacos 0.8.8 ignores the casMd5 of a config write (real Nacos compares and swaps), so two
    // applications appending themselves to one interface's mapping at the same moment can lose one
    // of the two names. The three mapping writers (instance, all, tri) therefore start one by one.
    const set = providerSet(registry, registry);
    [iface, inst] = await startProviders(build, [set[0], set[1]]);
    [all] = await startProviders(build, [set[2]]);
    [tri] = await startProviders(build, [set[3]]);
    let seen = '';
    await until(
      async () => {
        const [services, hosts, mapping] = await Promise.all([nacosServices(server), nacosHosts(server, SERVICE), nacosMapping(server)]);
        seen = JSON.stringify({ services, hosts: hosts.length, mapping });
        return services.length === 4 && hosts.length === 3 && mapping.length === 3;
      },
      DEADLINE_MS,
      () => `the providers' registrations in rnacos; read so far: ${seen}`,
    );
  });
  after(async () => {
    await stopAll([iface, inst, all, tri].filter((p) => p !== undefined));
    await server?.close();
  });

  test('each register mode writes what Dubbo 3 writes: interface services, application services and the mapping', async (t) => {
    t.diagnostic(`provider starts (ms): ${[iface, inst, all, tri].map((p) => `${p.options.app} ${p.startMs}`).join(', ')}`);
    assert.deepEqual(await nacosServices(server), ['prov-all', 'prov-inst', 'prov-tri', SERVICE]);
    assert.deepEqual(await nacosMapping(server), ['prov-all', 'prov-inst', 'prov-tri']);
    const hosts = await nacosHosts(server, SERVICE);
    for (const [app, p] of [['prov-iface', iface], ['prov-all', all], ['prov-tri', tri]] as const) {
      const h = hosts.find((x) => x.metadata.application === app);
      assert.ok(h, `${app} in ${SERVICE}`);
      assert.deepEqual([h.ip, h.port, h.metadata.protocol, h.metadata.group, h.metadata.version, h.metadata.interface], ['127.0.0.1', p.port, p.options.protocol ?? 'dubbo', GROUP, VERSION, IFACE], app);
      assert.ok(!Object.keys(h.metadata).some((k) => k.startsWith('aeraki')), app);
    }
    for (const [app, p] of [['prov-inst', inst], ['prov-all', all], ['prov-tri', tri]] as const) {
      const [h, ...more] = await nacosHosts(server, app);
      assert.equal(more.length, 0, app);
      assert.deepEqual([h!.ip, h!.port, dubboEndpointPort(h!.metadata, p.options.protocol ?? 'dubbo')], ['127.0.0.1', p.port, p.port], app);
    }
  });

  test('generate --registry nacos://: the interface ServiceEntry and one per Dubbo application, as registered', async () => {
    const doc = await generate(`nacos://127.0.0.1:${server.port}`);
    const ses = byHost(doc);
    assert.deepEqual([...ses.keys()].sort(), [HOST, 'prov-all', 'prov-inst'], 'the Triple provider gets no MetaProtocol ServiceEntry');
    const dubboHosts = (await nacosHosts(server, SERVICE)).filter((h) => (h.metadata.protocol ?? 'dubbo') === 'dubbo');
    assertServiceEntry(
      ses.get(HOST),
      HOST,
      dubboHosts.map((h) => ({ address: h.ip, port: h.port, labels: { application: h.metadata.application!, group: h.metadata.group!, version: h.metadata.version! } })),
    );
    assert.equal(ses.get(HOST)!.metadata.annotations?.['metamesh.io/interface'], IFACE);
    for (const app of ['prov-all', 'prov-inst']) {
      const hosts = await nacosHosts(server, app);
      assertServiceEntry(ses.get(app), app, hosts.map((h) => ({ address: h.ip, port: dubboEndpointPort(h.metadata)!, labels: { application: app } })));
      assert.equal(ses.get(app)!.metadata.annotations?.['metamesh.io/application'], app);
    }
    assertDiagnostics(doc, /prov-tri|providers:/);
  });

  test('serve: a provider stopped (SIGTERM) and one killed (kill -9) leave after the grace period; the others stay', async () => {
    const running = await serveRegistry(`nacos://127.0.0.1:${server.port}?pollMs=200&resyncMs=1000`);
    try {
      await until(
        () => ports(served(running, HOST)) === sorted(iface.port, all.port) && ports(served(running, 'prov-inst')) === sorted(inst.port),
        DEADLINE_MS,
        () => `the providers served: ${JSON.stringify(running.engine.output().serviceEntries)}`,
      );

      // SIGTERM: Dubbo deregisters its instances, then exits with 0.
      const stopped = iface.stop();
      await until(async () => (await nacosHosts(server, SERVICE)).every((h) => h.port !== iface.port), DEADLINE_MS, () => 'the stopped provider deregistered');
      assert.equal(ports(served(running, HOST)), sorted(iface.port, all.port), 'kept during the grace period');
      assert.equal(await stopped, 0, iface.output());
      await until(() => ports(served(running, HOST)) === sorted(all.port), DEADLINE_MS, () => `the stopped provider removed: ${JSON.stringify(served(running, HOST))}`);

      // kill -9: the server drops its instances when its gRPC connection goes.
      await inst.kill();
      await until(async () => (await nacosHosts(server, 'prov-inst')).length === 0, DEADLINE_MS, () => 'the killed provider dropped by rnacos');
      assert.equal(ports(served(running, 'prov-inst')), sorted(inst.port), 'kept during the grace period');
      // Its application lost every instance: a sudden loss, refused for the hold, then applied.
      await until(() => protectedService(running, 'prov-inst'), DEADLINE_MS, () => `the loss of prov-inst protected: ${JSON.stringify(running.engine.output().diagnostics.map((d) => d.code))}`);
      assert.equal(ports(served(running, 'prov-inst')), sorted(inst.port), 'kept while protected');
      await until(() => served(running, 'prov-inst') === undefined, DEADLINE_MS, () => `the killed provider's application removed: ${JSON.stringify(served(running, 'prov-inst'))}`);
      assert.deepEqual(served(running, HOST), [{ address: '127.0.0.1', port: all.port, labels: { application: 'prov-all', group: GROUP, version: VERSION } }]);
      assert.equal(ports(served(running, 'prov-all')), sorted(all.port));
    } finally {
      await running.close();
    }
  });
});
