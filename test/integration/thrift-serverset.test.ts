/**
 * Thrift services announced in ServerSets (Finagle / twitter-commons / Aurora), end to end: real
 * Thrift servers (npm `thrift`, framed binary) are announced in a real ZooKeeper the way an
 * announcer does it, as EPHEMERAL_SEQUENTIAL `member_<10 digits>` nodes holding the ServiceInstance
 * JSON (`serviceEndpoint`, `additionalEndpoints`, `status`, `shard`), each member in its own
 * session. `metamesh generate --registry zookeeper://…?serverset=<path>` must print a ServiceEntry
 * of protocol thrift whose endpoints are those servers, and calling the endpoints it lists must
 * reach them. Members that are not ALIVE and member data that cannot be read are handled as
 * src/registry/zookeeper/serverset.ts says: no endpoint, and a diagnostic for what cannot be read.
 * `serve` follows a member leaving (its session closed) after the removal grace, keeping the other.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import thrift from 'thrift';
import { main } from '../../src/cli/main.js';
import { parseRegistry, type ZookeeperRegistryConfig } from '../../src/registry/config.js';
import { serve } from '../../src/runtime/serve.js';
import { captureLogs } from '../support/xds.js';
import { callEcho, startEchoServer, type EchoServer } from '../support/thrift.js';
import { until, ZkServer, ZkWriter } from '../support/zookeeper.js';

const SET = '/aurora/www-data/prod/echo';
/** The host metamesh gives the ServerSet: its path's segments reversed. */
const HOST = 'echo.prod.www-data.aurora';
const PORT_NAME = 'tcp-metaprotocol-thrift';

/** What a Java announcer writes (Gson of ServiceInstance, nulls left out), byte for byte in this field order. */
function member(host: string, port: number, status: string, shard: number, adminPort: number): string {
  return JSON.stringify({
    serviceEndpoint: { host, port },
    additionalEndpoints: { health: { host, port: adminPort }, thrift: { host, port } },
    status,
    shard,
  });
}

/**
 * twitter-commons' older encoding of the same record: TBinaryProtocol of ServiceInstance
 * (1: serviceEndpoint {1: host, 2: port}, 2: additionalEndpoints map, 3: status i32 enum, 4: shard).
 */
function thriftBinaryMember(host: string, port: number): Buffer {
  let bytes = Buffer.alloc(0);
  const transport = new thrift.TBufferedTransport(undefined, (b) => (bytes = Buffer.concat([bytes, b])));
  const p = new thrift.TBinaryProtocol(transport);
  const T = thrift.Thrift.Type;
  p.writeStructBegin('ServiceInstance');
  p.writeFieldBegin('serviceEndpoint', T.STRUCT, 1);
  p.writeStructBegin('Endpoint');
  p.writeFieldBegin('host', T.STRING, 1);
  p.writeString(host);
  p.writeFieldEnd();
  p.writeFieldBegin('port', T.I32, 2);
  p.writeI32(port);
  p.writeFieldEnd();
  p.writeFieldStop();
  p.writeStructEnd();
  p.writeFieldEnd();
  p.writeFieldBegin('additionalEndpoints', T.MAP, 2);
  p.writeMapBegin(T.STRING, T.STRUCT, 0);
  p.writeMapEnd();
  p.writeFieldEnd();
  p.writeFieldBegin('status', T.I32, 3);
  p.writeI32(2); // ALIVE
  p.writeFieldEnd();
  p.writeFieldStop();
  p.writeStructEnd();
  transport.flush();
  return bytes;
}

interface Endpoint {
  address: string;
  ports: Record<string, number>;
  labels: Record<string, string>;
}
interface GeneratedServiceEntry {
  metadata: { name: string; namespace: string };
  spec: { hosts: string[]; ports: { number: number; name: string; protocol: string }[]; endpoints: Endpoint[] };
}

let zk: ZkServer;
let writer: ZkWriter;
const servers: EchoServer[] = [];
const announcers: ZkWriter[] = [];
/** The two real servers and the member node announcing each. */
let alive: { server: EchoServer; identity: string; path: string; announcer: ZkWriter }[] = [];
let starting: string;
let malformed: string;
let binary: string;

before(async () => {
  zk = await ZkServer.start();
  writer = await ZkWriter.connect(zk.connect);
  await writer.mkdirp(SET);
  alive = [];
  for (const [i, host] of ['127.0.0.1', '127.0.0.2'].entries()) {
    const identity = `echo-${i}-${randomUUID()}`;
    const server = await startEchoServer(host, identity);
    servers.push(server);
    // Each member in its own session, as each server announces itself.
    const announcer = await ZkWriter.connect(zk.connect);
    announcers.push(announcer);
    const path = await announcer.createSequential(`${SET}/member_`, member(host, server.port, 'ALIVE', i, server.port + 1));
    alive.push({ server, identity, path, announcer });
  }
  starting = await writer.createSequential(`${SET}/member_`, member('127.0.0.3', 9090, 'STARTING', 2, 9091));
  malformed = await writer.createSequential(`${SET}/member_`, member('127.0.0.4', 9090, 'ALIVE', 3, 9091).slice(0, 40));
  binary = await writer.createSequential(`${SET}/member_`, thriftBinaryMember('127.0.0.5', 9090));
  // Finagle's weight vectors share the directory; they are not members.
  await writer.createSequential(`${SET}/vector_`, '{"vector":[{"select":"shard=0","weight":2}]}');
});

after(async () => {
  for (const a of announcers) a.close();
  writer?.close();
  await Promise.all(servers.map((s) => s.close()));
  await zk?.close();
});

function registryUrl(): string {
  return `zookeeper://${zk.connect}?serverset=${SET}`;
}

async function generate(): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['generate', '--registry', registryUrl(), '-o', 'json'], { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

/** host:port of each endpoint of `se`, with the port of the thrift port name (or the service port). */
function targets(se: GeneratedServiceEntry): { address: string; port: number }[] {
  return se.spec.endpoints.map((e) => ({ address: e.address, port: e.ports[PORT_NAME] ?? se.spec.ports[0]!.number }));
}

/** The session that owns the ephemeral node `path` (zero for a persistent node). */
function ephemeralOwner(path: string): Promise<string> {
  return new Promise((resolve, reject) =>
    writer.client.exists(path, (e, stat) => (e ? reject(e) : stat ? resolve(stat.ephemeralOwner.toString('hex')) : reject(new Error(`${path} does not exist`)))),
  );
}

test('the member nodes are ServerSet announcements: member_ plus a ten-digit sequence, ephemeral, in the announcers\' sessions', async () => {
  for (const p of [...alive.map((a) => a.path), starting, malformed, binary]) assert.match(p, new RegExp(`^${SET}/member_\\d{10}$`));
  assert.equal(new Set([...alive.map((a) => a.path), starting, malformed, binary]).size, 5);
  for (const a of alive) assert.equal(await ephemeralOwner(a.path), a.announcer.client.getSessionId().toString('hex'));
  assert.equal(await ephemeralOwner(starting), writer.client.getSessionId().toString('hex'));
});

test('generate --registry zookeeper://…?serverset= prints a thrift ServiceEntry whose endpoints are the ALIVE members, and they answer Thrift calls', async () => {
  const r = await generate();
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { serviceEntries: GeneratedServiceEntry[]; routes: { name: string }[]; diagnostics: { code: string; object: string; message: string }[] };
  const ses = doc.serviceEntries.filter((se) => se.spec.hosts.includes(HOST));
  assert.equal(ses.length, 1, JSON.stringify(doc.serviceEntries));
  const se = ses[0]!;
  assert.deepEqual(
    se.spec.ports.map((p) => [p.name, p.protocol]),
    [[PORT_NAME, 'TCP']],
  );
  // The two ALIVE members, with their shard as a label; STARTING, unreadable and binary members are not endpoints.
  assert.deepEqual(
    se.spec.endpoints.map((e) => [e.address, e.ports[PORT_NAME], e.labels.shard]),
    alive.map((a, i) => [a.server.host, a.server.port, String(i)]),
  );
  assert.ok(doc.routes.some((x) => x.name.startsWith(`${HOST}_`)), JSON.stringify(doc.routes.map((x) => x.name)));

  // The endpoints are the real servers: a Thrift call to each address and port the ServiceEntry lists.
  for (const [i, t] of targets(se).entries()) {
    assert.equal(await callEcho(t.address, t.port, 'ping'), `${alive[i]!.identity} ping`);
  }

  // Unreadable member data is reported, naming the node; the rest of the ServerSet is served.
  const bad = doc.diagnostics.filter((d) => d.code === 'MM_REGISTRY_BAD_RECORD');
  assert.deepEqual(bad.map((d) => d.object).sort(), [`ZooKeeper ${binary}`, `ZooKeeper ${malformed}`].sort(), JSON.stringify(doc.diagnostics));
  assert.ok(bad.every((d) => /not a JSON object \(a ServerSet member expected\)/.test(d.message)), JSON.stringify(bad));
  // A member that is not ALIVE is known but gets no traffic: no endpoint and nothing to report.
  assert.ok(!doc.diagnostics.some((d) => d.object.includes(starting) || d.object.includes('vector_')), JSON.stringify(doc.diagnostics));
});

/** The removal grace serve is given: long enough to see the member held back, short for a test. */
const GRACE_MS = 3000;

test('serve follows a member leaving: held back for the removal grace, then its endpoint goes; the other stays and still answers', async () => {
  const config = parseRegistry(registryUrl()) as ZookeeperRegistryConfig;
  const logs = captureLogs();
  const running = await serve({ files: [], registries: [config], xdsAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', logger: logs.logger, watch: 'none', shutdownGraceMs: 500, catalog: { removalGraceMs: GRACE_MS } });
  const endpoints = () => {
    const se = (running.engine.output().serviceEntries as unknown as GeneratedServiceEntry[]).find((x) => x.spec.hosts.includes(HOST));
    return se ? targets(se) : [];
  };
  const [stay, leave] = alive as [(typeof alive)[number], (typeof alive)[number]];
  const leaving = `${leave.server.host}:${leave.server.port}`;
  try {
    await until(() => endpoints().length === 2, 20_000, () => `both members as endpoints: ${JSON.stringify(endpoints())}`);

    // The announcer's session ends (the server stops announcing): ZooKeeper deletes its member node.
    leave.announcer.close();
    const pending = (l: Record<string, unknown>) => l.event === 'outage-policy' && l.decision === 'removal-pending' && Array.isArray(l.items) && l.items.includes(leaving);
    await until(() => logs.lines.some(pending), 20_000, () => `the leaving member held back: ${JSON.stringify(logs.lines.filter((l) => l.event === 'outage-policy'))}`);
    // Read in the same turn as the log line was found, long before the grace can be over.
    assert.deepEqual(endpoints().map((t) => `${t.address}:${t.port}`), alive.map((a) => `${a.server.host}:${a.server.port}`), 'kept during the grace');
    const line = logs.lines.find(pending)!;
    assert.equal(line.service, `serverset:${SET}`);

    await until(() => endpoints().length === 1, 30_000, () => `the leaving member removed: ${JSON.stringify(endpoints())}`);
    assert.deepEqual(endpoints(), [{ address: stay.server.host, port: stay.server.port }]);
    assert.ok(logs.lines.some((l) => l.event === 'outage-policy' && l.decision === 'removed' && Array.isArray(l.items) && l.items.includes(leaving)));
    // What is left is the real server that stayed.
    const [t] = endpoints();
    assert.equal(await callEcho(t!.address, t!.port, 'still there'), `${stay.identity} still there`);
  } finally {
    await running.close();
  }
});
