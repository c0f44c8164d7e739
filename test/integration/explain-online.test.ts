/**
 * `metamesh explain --server` against a served instance (examples/ on loopback) with real gRPC xDS
 * clients: one that ACKs the Dubbo route table and one that NACKs it. The explanation, computed by
 * GET /debug/explain from the live engine, names each proxy by node id with the version it runs
 * and its ACK or NACK (with the message), and a NACK of the current version makes it exit 1. The
 * endpoint keeps the debug rules: a token, when configured, is required. Waits are deadlines.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import type { Explanation } from '../../src/model/explanation.js';
import type { DiscoveryResponseWire } from '../../src/xds/services.js';
import { runCli } from '../support/cli.js';
import { client, DUBBO, editFile, examplesCopy, NODE, removeTemps, services, sotwReq, start, tempDir, THRIFT, until } from '../support/xds.js';

after(removeTemps);

const ACKER = 'sidecar~10.0.0.7~acker.dubbo~dubbo.svc.cluster.local';
const NACKER = 'sidecar~10.0.0.8~nacker.dubbo~dubbo.svc.cluster.local';
const HOST = DUBBO.replace(/_20880$/, '');

test('explain --server: the proxy that ACKed and the one that NACKed the Dubbo route table, by node id; exit 1 for the NACK', async () => {
  const dir = examplesCopy();
  const srv = await start(dir);
  const { client: c, open } = client(services.RdsClient, srv.xdsPort);
  const server = `http://127.0.0.1:${srv.httpPort}`;
  try {
    // Before any proxy: the routes are in effect and nobody subscribes.
    const before = await runCli('explain', '--server', server, HOST);
    assert.equal(before.code, 0, before.out + before.err);
    assert.match(before.out, new RegExp(`\nProxies:\n {2}No connected proxy subscribes to ${DUBBO.replaceAll('.', '\\.')}\\.\n`));

    const acker = open<DiscoveryResponseWire>('StreamRoutes');
    acker.send(sotwReq([DUBBO], { node: { ...NODE, id: ACKER } }));
    const a1 = await acker.next();
    acker.send(sotwReq([DUBBO], { node: { ...NODE, id: ACKER }, version_info: a1.version_info, response_nonce: a1.nonce }));
    const version = srv.cache.get(DUBBO)!.version;
    await until(() => srv.xds.streams().some((s) => s.nodeId === ACKER && s.ackedVersions[DUBBO] === version), 'the ACK to be recorded');

    const acked = await runCli('explain', '--server', server, HOST);
    assert.equal(acked.code, 0, acked.out);
    assert.match(acked.out, new RegExp(`Proxy ${ACKER.replaceAll('.', '\\.')} \\(xDS stream \\d+\\) runs the current version ${version} of ${DUBBO.replaceAll('.', '\\.')}: it ACKed it\\.`));

    const nacker = open<DiscoveryResponseWire>('StreamRoutes');
    nacker.send(sotwReq([DUBBO], { node: { ...NODE, id: NACKER } }));
    const n1 = await nacker.next();
    nacker.send(sotwReq([DUBBO], { node: { ...NODE, id: NACKER }, response_nonce: n1.nonce, error_detail: { code: 3, message: 'unknown codec aeraki.meta_protocol.codec.dubbo' } }));
    await until(() => srv.xds.streams().some((s) => s.nodeId === NACKER && s.nackCount === 1), 'the NACK to be recorded');

    const r = await runCli('explain', '--server', server, HOST);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /everything written for it takes effect as written\. 1 proxy rejected \(NACKed\) the current version of its route table\./);
    assert.match(r.out, new RegExp(`Proxy ${NACKER.replaceAll('.', '\\.')} \\(xDS stream \\d+\\) NACKed the current version ${version} of ${DUBBO.replaceAll('.', '\\.')} with "unknown codec aeraki\\.meta_protocol\\.codec\\.dubbo"; it still runs no version of it`));
    assert.match(r.out, new RegExp(`Proxy ${ACKER.replaceAll('.', '\\.')} .* it ACKed it\\.`));
    assert.match(r.out, /Not in effect as written\.\n$/);

    const json = await runCli('explain', '--server', server, '-o', 'json', HOST);
    const e = JSON.parse(json.out) as Explanation;
    assert.equal(e.inEffect, false);
    assert.deepEqual(
      e.proxies!.map((p) => [p.nodeId, p.routeConfiguration, p.state, p.currentVersion, p.heldVersion ?? null, p.nackMessage ?? null]),
      [
        [ACKER, DUBBO, 'acked', version, version, null],
        [NACKER, DUBBO, 'nacked', version, null, 'unknown codec aeraki.meta_protocol.codec.dubbo'],
      ],
    );

    // The MetaRouter is changed: a new version is pushed; the NACKer is sent it again, the ACKer
    // now runs an older version until it ACKs.
    editFile(path.join(dir, 'dubbo.yaml'), 'value: metamesh}', 'value: metamesh-2}');
    const a2 = await acker.next();
    const n2 = await nacker.next();
    const v2 = srv.cache.get(DUBBO)!.version;
    assert.notEqual(v2, version);
    assert.equal(n2.version_info, a2.version_info);
    const moved = JSON.parse((await runCli('explain', '--server', server, '-o', 'json', HOST)).out) as Explanation;
    assert.deepEqual(moved.proxies!.map((p) => [p.nodeId, p.state, p.heldVersion ?? null]), [[ACKER, 'sent', version], [NACKER, 'sent', null]]);
    acker.send(sotwReq([DUBBO], { node: { ...NODE, id: ACKER }, version_info: a2.version_info, response_nonce: a2.nonce }));
    nacker.send(sotwReq([DUBBO], { node: { ...NODE, id: NACKER }, version_info: n2.version_info, response_nonce: n2.nonce }));
    await until(() => srv.xds.streams().filter((s) => s.ackedVersions[DUBBO] === v2).length === 2, 'both ACKs of the new version');
    const healed = await runCli('explain', '--server', server, HOST);
    assert.equal(healed.code, 0, healed.out);

    // A MetaRouter explained online lists the proxies of its route tables too.
    const router = await runCli('explain', '--server', server, '-o', 'json', 'dubbo/demoservice');
    assert.deepEqual((JSON.parse(router.out) as Explanation).proxies!.map((p) => p.state), ['acked', 'acked']);
    acker.close();
    nacker.close();
  } finally {
    c.close();
    await srv.close();
  }
});

test('GET /debug/explain keeps the debug rules: with a token configured, explain needs --http-token-file', async () => {
  const tokenFile = path.join(tempDir('metamesh-token-'), 'token');
  writeFileSync(tokenFile, 's3cret\n');
  const srv = await start(examplesCopy(), { httpTokenFile: tokenFile });
  const server = `http://127.0.0.1:${srv.httpPort}`;
  try {
    const refused = await runCli('explain', '--server', server, THRIFT.replace(/_9090$/, ''));
    assert.equal(refused.code, 1);
    assert.equal(refused.out, '');
    assert.match(refused.err, /^metamesh explain: http:\/\/127\.0\.0\.1:\d+ answered 401: a bearer token is required/);
    const ok = await runCli('explain', '--server', server, '--http-token-file', tokenFile, THRIFT.replace(/_9090$/, ''));
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.match(ok.out, /thrift-sample-server\.meta-thrift\.svc\.cluster\.local speaks thrift on port 9090/);
  } finally {
    await srv.close();
  }
});

test('explain --server names the server it could not reach and exits 1', async () => {
  const srv = await start(examplesCopy());
  const port = srv.httpPort;
  await srv.close();
  const r = await runCli('explain', '--server', `http://127.0.0.1:${port}`, 'x.y');
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`^metamesh explain: cannot ask http://127\\.0\\.0\\.1:${port}: .*; is metamesh serve running there\\?\n$`));
});
