/**
 * The dashboard's JSON API (src/dashboard/api.ts) through fastify's inject() on a running
 * `metamesh serve` (real engine, real xDS server, real gRPC clients), and its event stream over a
 * real socket: the OpenAPI document covers every route, the services table searches, sorts and
 * pages 10,000 registry services, the drill-down shows the objects and the proxies' ACK/NACK, the
 * proxies panel has the push-to-ACK histogram and tells istiod (MCP) from sidecars, diagnostics filter by code and object, the token
 * policy holds, and the event stream is bounded (client limit, heartbeat, shutdown).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { snapshotRegistry } from '../support/snapshot-registry.js';
import { client, DUBBO, editFile, examplesCopy, NODE, removeTemps, services, sotwReq, start, tempDir, until } from '../support/xds.js';
import type { DiscoveryResponseWire } from '../../src/xds/services.js';
import { ISTIOD_TYPE_URLS } from '../../src/mcp/types.js';
import { connectIstiod, ISTIOD_NODE } from '../support/mcp.js';

after(removeTemps);

const HOST = 'org.apache.dubbo.samples.basic.api.demoservice';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test('GET /api/openapi.json is an OpenAPI 3.1 document generated from the route schemas: every route, its parameters, guarded ones marked', async () => {
  const srv = await start(examplesCopy(), { watch: 'none' });
  try {
    const r = await srv.http.inject({ url: '/api/openapi.json' });
    assert.equal(r.statusCode, 200);
    const doc = r.json() as Json;
    assert.equal(doc.openapi, '3.1.0');
    const paths = Object.keys(doc.paths);
    for (const p of ['/healthz', '/readyz', '/metrics', '/debug/xds', '/debug/config', '/debug/registries', '/debug/explain', '/dashboard/', '/docs/errors', '/api/openapi.json', '/api/registries', '/api/services', '/api/services/{host}', '/api/proxies', '/api/diagnostics', '/api/events']) {
      assert.ok(paths.includes(p), `${p} is documented`);
    }
    assert.deepEqual(paths, [...paths].sort(), 'paths sorted');
    const services = doc.paths['/api/services'].get;
    assert.deepEqual(services.parameters.map((p: Json) => p.name), ['q', 'sort', 'order', 'offset', 'limit']);
    assert.equal(services.parameters.find((p: Json) => p.name === 'limit').schema.maximum, 1000);
    assert.deepEqual(services.responses['200'].content['application/json'].schema.properties.rows.items.required, ['host', 'protocol', 'port', 'instances', 'registries', 'serviceEntry']);
    assert.deepEqual(doc.paths['/api/services/{host}'].get.parameters.map((p: Json) => [p.name, p.in, p.required]), [['host', 'path', true]]);
    assert.deepEqual(doc.paths['/api/registries'].get.security, [{ bearer: [] }, {}]);
    assert.deepEqual(doc.paths['/healthz'].get.security, []);
    assert.deepEqual(doc.paths['/metrics'].get.security, []);
    const metrics = await srv.http.inject({ url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /^# HELP metamesh_/m);
    assert.deepEqual(doc.paths['/dashboard/'].get.security, []);
  } finally {
    await srv.close();
  }
});

test('/api/services searches, sorts and pages 10,000 registry services on the server; the page stays one page', async () => {
  const srv = await start(examplesCopy(), { watch: 'none', registries: [snapshotRegistry(10_000)] });
  try {
    await until(async () => ((await srv.http.inject({ url: '/api/services?limit=1' })).json() as Json).total > 10_000, 'the registry services to be applied', 120_000);
    const first = (await srv.http.inject({ url: '/api/services?limit=50' })).json() as Json;
    assert.equal(first.total, 10_003, '10,000 registry services and the 3 examples');
    assert.equal(first.rows.length, 50);
    assert.equal(first.rows[0].host, HOST);
    const found = (await srv.http.inject({ url: '/api/services?q=SVC-04321' })).json() as Json;
    assert.equal(found.matched, 1);
    const row = found.rows[0];
    assert.deepEqual([row.host, row.protocol, row.port, row.instances, row.registries.length], ['svc-04321.registry.example.com', 'dubbo', 20880, 2, 1]);
    assert.match(row.registries[0], /^file:\/\/.*registry\.yaml$/);
    assert.match(found.rows[0].serviceEntry, /^ServiceEntry /);
    const byInstances = (await srv.http.inject({ url: '/api/services?sort=instances&order=desc&limit=3&q=registry.example' })).json() as Json;
    assert.deepEqual(byInstances.rows.map((r: Json) => r.instances), [4, 4, 4]);
    const thrift = (await srv.http.inject({ url: '/api/services?q=thrift&sort=host&offset=3330&limit=10' })).json() as Json;
    assert.equal(thrift.matched, 3334 + 1, 'every third registry service and the thrift example');
    assert.equal(thrift.rows.length, 5);
    for (const bad of ['limit=0', 'limit=1001', 'sort=nonsense', 'order=up', `q=${'x'.repeat(300)}`, 'offset=-1']) {
      const r = await srv.http.inject({ url: `/api/services?${bad}` });
      assert.equal(r.statusCode, 400, bad);
      assert.match(r.headers['content-type'] as string, /^text\/plain/);
    }
  } finally {
    await srv.close();
  }
});

test('the drill-down of a service holds its endpoints, ServiceEntry and EnvoyFilters as YAML, routes as served, the MetaRouter that applies, and each proxy\'s ACK or NACK', async () => {
  const dir = examplesCopy();
  const srv = await start(dir, { watch: 'poll' });
  const c = client(services.RdsClient, srv.xdsPort);
  try {
    const d0 = (await srv.http.inject({ url: `/api/services/${HOST}` })).json() as Json;
    assert.deepEqual(d0.definedBy, ['ServiceEntry dubbo/demoservice']);
    assert.deepEqual(d0.endpoints.map((e: Json) => [e.address, e.labels.version]), [['10.0.1.11', 'v1'], ['10.0.1.12', 'v2']]);
    assert.match(d0.serviceEntryYaml, /kind: ServiceEntry\n[\s\S]*name: demoservice/);
    assert.match(d0.envoyFiltersYaml, /kind: EnvoyFilter/);
    assert.equal(d0.routes[0].name, DUBBO);
    assert.ok(d0.explanation.facts.some((f: Json) => f.section === 'metarouter' && /MetaRouter dubbo\/demoservice/.test(f.sentence)), 'says which MetaRouter applies');
    assert.equal(d0.explanation.inEffect, true);
    assert.equal((await srv.http.inject({ url: '/api/services/no.such.host' })).statusCode, 404);
    assert.equal((await srv.http.inject({ url: `/api/services/${'a'.repeat(600)}` })).statusCode, 400, 'a host longer than 512 characters');

    const acker = c.open<DiscoveryResponseWire>('StreamRoutes');
    acker.send(sotwReq([DUBBO], { node: { ...NODE, id: 'acker' } }));
    const a = await acker.next();
    acker.send(sotwReq([DUBBO], { node: { ...NODE, id: 'acker' }, version_info: a.version_info, response_nonce: a.nonce }));
    const nacker = c.open<DiscoveryResponseWire>('StreamRoutes');
    nacker.send(sotwReq([DUBBO], { node: { ...NODE, id: 'nacker' } }));
    const n = await nacker.next();
    nacker.send(sotwReq([DUBBO], { node: { ...NODE, id: 'nacker' }, response_nonce: n.nonce, error_detail: { code: 3, message: 'codec not found: test' } }));
    await until(() => srv.xds.streams().some((s) => s.nodeId === 'nacker' && s.nackCount === 1), 'the NACK to be recorded');
    await until(() => srv.xds.streams().some((s) => s.nodeId === 'acker' && Object.keys(s.ackedVersions).length === 1), 'the ACK to be recorded');

    const d1 = (await srv.http.inject({ url: `/api/services/${HOST}` })).json() as Json;
    assert.deepEqual(d1.explanation.proxies.map((p: Json) => [p.nodeId, p.state, p.nackMessage ?? null]), [['acker', 'acked', null], ['nacker', 'nacked', 'codec not found: test']]);
    assert.equal(d1.explanation.inEffect, false);

    const p = (await srv.http.inject({ url: '/api/proxies' })).json() as Json;
    assert.equal(p.total, 2);
    assert.deepEqual(p.proxies.map((x: Json) => [x.nodeId, x.kind, x.types[0].heldCount, x.types[0].nackCount, x.types[0].lastNackMessage]), [['acker', 'proxy', 1, 0, null], ['nacker', 'proxy', 0, 1, 'codec not found: test']]);
    assert.deepEqual(p.proxies[0].types[0].held, [{ name: DUBBO, version: srv.cache.get(DUBBO)!.version }]);
    assert.equal(p.ackLatency.count, 1, 'one push was ACKed');
    assert.equal(p.ackLatency.nacks, 1);
    assert.equal(p.ackLatency.buckets.reduce((s: number, b: Json) => s + b.count, 0), 1);

    // A new version reaches both; the ACK of it is the second latency sample.
    editFile(path.join(dir, 'dubbo.yaml'), 'value: metamesh}', 'value: metamesh-2}');
    const a2 = await acker.next();
    acker.send(sotwReq([DUBBO], { node: { ...NODE, id: 'acker' }, version_info: a2.version_info, response_nonce: a2.nonce }));
    await until(async () => ((await srv.http.inject({ url: '/api/proxies' })).json() as Json).ackLatency.count === 2, 'the second ACK to be timed');
  } finally {
    c.client.close();
    await srv.close();
  }
});

test('/api/diagnostics filters by code and object and links each one to its section of docs/errors.md, which /docs/errors serves', async () => {
  const dir = examplesCopy();
  editFile(path.join(dir, 'dubbo.yaml'), 'weight: 80', 'weight: 70');
  const srv = await start(dir, { watch: 'none' });
  try {
    const all = (await srv.http.inject({ url: '/api/diagnostics' })).json() as Json;
    assert.ok(all.codes.some((c: Json) => c.code === 'MM_ROUTER_WEIGHTS'), JSON.stringify(all.codes));
    const weights = (await srv.http.inject({ url: '/api/diagnostics?code=mm_router_weights' })).json() as Json;
    assert.equal(weights.matched, 1);
    assert.deepEqual([weights.diagnostics[0].object, weights.diagnostics[0].doc, weights.diagnostics[0].notInEffect], ['MetaRouter dubbo/demoservice', 'docs/errors.md#mm_router_weights', true]);
    const byObject = (await srv.http.inject({ url: '/api/diagnostics?object=video-server' })).json() as Json;
    assert.ok(byObject.matched >= 1 && byObject.diagnostics.every((d: Json) => /video-server/.test(d.object)));
    assert.equal(((await srv.http.inject({ url: '/api/diagnostics?object=nothing-like-this' })).json() as Json).matched, 0);
    const page = await srv.http.inject({ url: '/docs/errors' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h3 id="mm_router_weights">MM_ROUTER_WEIGHTS<\/h3>/);
  } finally {
    await srv.close();
  }
});

test('with a token the API and the event stream need it; the page itself and health do not', async () => {
  const file = path.join(tempDir('metamesh-token-'), 'token');
  writeFileSync(file, 's3cret-dash\n');
  const srv = await start(examplesCopy(), { watch: 'none', httpTokenFile: file });
  try {
    for (const url of ['/api/openapi.json', '/api/registries', '/api/services', `/api/services/${HOST}`, '/api/proxies', '/api/diagnostics', '/api/events']) {
      const r = await srv.http.inject({ url });
      assert.equal(r.statusCode, 401, url);
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="metamesh"');
    }
    assert.equal((await srv.http.inject({ url: '/api/services', headers: { authorization: 'Bearer s3cret-dash' } })).statusCode, 200);
    for (const url of ['/dashboard/', '/dashboard/dashboard.js', '/dashboard/dashboard.css', '/healthz']) assert.equal((await srv.http.inject({ url })).statusCode, 200, url);
    assert.equal((await srv.http.inject({ url: '/' })).headers.location, '/dashboard/');
    assert.equal((await srv.http.inject({ url: '/api/services', headers: { host: 'evil.example' } })).statusCode, 421);
    assert.equal((await srv.http.inject({ url: '/dashboard/', headers: { host: 'evil.example' } })).statusCode, 421);
    assert.equal((await srv.http.inject({ method: 'POST', url: '/api/services', headers: { authorization: 'Bearer s3cret-dash' } })).statusCode, 405);
  } finally {
    await srv.close();
  }
});

/** An event-stream client over a real socket: what it received, whether it ended. */
function events(port: number): Promise<{ status: number; text: () => string; ended: () => boolean; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/events', agent: false }, (res) => {
      let text = '';
      let ended = false;
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('close', () => (ended = true));
      resolve({ status: res.statusCode!, text: () => text, ended: () => ended, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

test('the event stream: hello, heartbeats past the request and idle timeouts, a change event when a proxy connects, a client limit, and shutdown ends it', async () => {
  const srv = await start(examplesCopy(), { watch: 'none', dashboardEvents: { maxClients: 2, heartbeatMs: 50, coalesceMs: 20 }, httpLimits: { headersTimeoutMs: 300, requestTimeoutMs: 300, idleTimeoutMs: 300, keepAliveTimeoutMs: 300 } });
  const c = client(services.RdsClient, srv.xdsPort);
  try {
    const one = await events(srv.httpPort);
    const two = await events(srv.httpPort);
    assert.equal(one.status, 200);
    assert.match(one.text(), /^retry: 2000\nevent: hello\ndata: \{"seq":0,"topics":\["registries","services","proxies","diagnostics"\]\}\n\n/);
    const three = await events(srv.httpPort);
    assert.equal(three.status, 503, 'over the client limit');
    // 30 heartbeats at 50 ms span well past the 300 ms request and idle timeouts.
    await until(() => (one.text().match(/: heartbeat\n\n/g) ?? []).length >= 30, 'thirty heartbeats');
    assert.equal(one.ended(), false);
    const s = c.open<DiscoveryResponseWire>('StreamRoutes');
    s.send(sotwReq([DUBBO]));
    await s.next();
    await until(() => /event: change\ndata: \{"seq":\d+,"topics":\["proxies"\]\}/.test(two.text()), 'a change event naming the proxies');
    await srv.close();
    await until(() => one.ended() && two.ended(), 'both streams to be ended by the shutdown');
  } finally {
    c.client.close();
    await srv.close();
  }
});

test('/api/proxies shows istiod over MCP as kind istiod, with the config collections it holds and the ACK latency of each', async () => {
  const srv = await start(examplesCopy(), { watch: 'none', mcp: {} });
  const istiod = connectIstiod(srv.xdsPort);
  try {
    await istiod.receive(ISTIOD_TYPE_URLS.length);
    await until(async () => ((await srv.http.inject({ url: '/api/proxies' })).json() as Json).ackLatency.count >= ISTIOD_TYPE_URLS.length, 'every collection ACKed and timed');
    const p = (await srv.http.inject({ url: '/api/proxies' })).json() as Json;
    assert.equal(p.total, 1);
    const [x] = p.proxies;
    assert.equal(x.kind, 'istiod');
    assert.equal(x.nodeId, ISTIOD_NODE.id);
    assert.equal(x.service, 'ads');
    assert.deepEqual(x.types.map((t: Json) => t.typeUrl).sort(), [...ISTIOD_TYPE_URLS].sort());
    const se = x.types.find((t: Json) => t.typeUrl.endsWith('/ServiceEntry'));
    assert.ok(se.heldCount >= 1, JSON.stringify(se));
  } finally {
    istiod.close();
    await srv.close();
  }
});
