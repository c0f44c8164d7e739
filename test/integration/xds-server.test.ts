/**
 * The xDS server end to end, with real @grpc/grpc-js clients over TCP on 127.0.0.1:
 * SotW and delta RDS, ADS, ACK/NACK, live file edits, TLS and mutual TLS, and `metamesh serve`.
 * Waits are deadlines on events (responses, errors, process output), never fixed sleeps.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { DeltaDiscoveryResponseWire, DiscoveryResponseWire } from '../../src/xds/services.js';
import {
  DUBBO, NODE, RDS, THRIFT, client, decode, editFile, examplesCopy, pipelineRoute, removeTemps, root, services,
  sotwReq, start, tempDir, until,
} from '../support/xds.js';

after(removeTemps);

describe('xDS server over gRPC', () => {
  test('SotW RDS: subscribe, decode, ACK, live edit, NACK not resent', async () => {
    const dir = examplesCopy();
    const srv = await start(dir);
    const { client: c, open } = client(services.RdsClient, srv.xdsPort);
    try {
      const s = open<DiscoveryResponseWire>('StreamRoutes');
      s.send(sotwReq([DUBBO]));
      const r1 = await s.next();
      assert.equal(r1.type_url, RDS);
      assert.equal(r1.resources.length, 1);
      assert.deepEqual(decode(r1.resources[0]!), pipelineRoute(dir, DUBBO));
      assert.ok(r1.nonce !== '' && r1.version_info !== '');
      s.send(sotwReq([DUBBO], { version_info: r1.version_info, response_nonce: r1.nonce })); // ACK
      await until(() => srv.xds.streams()[0]?.ackedVersions[DUBBO] !== undefined, 'the ACK to be recorded');
      const info = srv.xds.streams()[0]!;
      assert.equal(info.nodeId, NODE.id);
      assert.deepEqual(info.subscribed, [DUBBO]);
      assert.equal(info.ackedVersions[DUBBO], srv.cache.get(DUBBO)!.version);

      // Edit the MetaRouter: the new version is pushed.
      editFile(path.join(dir, 'dubbo.yaml'), 'value: metamesh}', 'value: metamesh-2}');
      const r2 = await s.next();
      assert.notEqual(r2.version_info, r1.version_info);
      assert.ok(Number(r2.nonce) > Number(r1.nonce));
      const json2 = decode(r2.resources[0]!);
      assert.deepEqual(json2, pipelineRoute(dir, DUBBO));
      assert.match(JSON.stringify(json2), /metamesh-2/);

      // NACK it: the client keeps r1; the rejected version is not sent again.
      s.send(sotwReq([DUBBO], { version_info: r1.version_info, response_nonce: r2.nonce, error_detail: { code: 3, message: 'route rejected by test' } }));
      await until(() => srv.xds.streams()[0]?.nackCount === 1, 'the NACK to be recorded');
      assert.equal(srv.xds.streams()[0]!.lastNackMessage, 'route rejected by test');
      const nackLog = srv.logs.lines.find((l) => l.event === 'nack');
      assert.ok(nackLog, 'a nack log line');
      assert.equal(nackLog.nodeId, NODE.id);
      assert.deepEqual(nackLog.resources, [DUBBO]);
      assert.equal(nackLog.message, 'route rejected by test');

      // Subscribe to a second route: the response carries it, and not the rejected DUBBO version.
      s.send(sotwReq([DUBBO, THRIFT], { version_info: r1.version_info, response_nonce: r2.nonce }));
      const r3 = await s.next();
      assert.deepEqual(
        r3.resources.map((a) => (decode(a) as { name: string }).name),
        [THRIFT],
      );
      s.close();
    } finally {
      c.close();
      await srv.close();
    }
  });

  test('delta RDS: subscribe, ACK, removal reported when the service file is deleted', async () => {
    const dir = examplesCopy();
    const srv = await start(dir);
    const { client: c, open } = client(services.RdsClient, srv.xdsPort);
    try {
      const s = open<DeltaDiscoveryResponseWire>('DeltaRoutes');
      s.send({ node: NODE, type_url: RDS, resource_names_subscribe: [DUBBO, THRIFT, 'missing_1'], response_nonce: '' });
      const r1 = await s.next();
      assert.deepEqual(r1.resources.map((x) => x.name).sort(), [DUBBO, THRIFT].sort());
      for (const res of r1.resources) {
        assert.equal(res.version, srv.cache.get(res.name)!.version);
        assert.deepEqual(decode(res.resource), pipelineRoute(dir, res.name));
      }
      s.send({ type_url: RDS, response_nonce: r1.nonce }); // ACK
      await until(() => Object.keys(srv.xds.streams()[0]?.ackedVersions ?? {}).length === 2, 'the delta ACK');

      unlinkSync(path.join(dir, 'dubbo.yaml'));
      const r2 = await s.next();
      assert.deepEqual(r2.removed_resources, [DUBBO]);
      assert.deepEqual(r2.resources, []);
      s.send({ type_url: RDS, response_nonce: r2.nonce });
      await until(() => srv.xds.streams()[0]?.ackedVersions[DUBBO] === undefined, 'the removal ACK');
      s.close();
    } finally {
      c.close();
      await srv.close();
    }
  });

  test('ADS: an unknown type URL fails only its own stream; another stream keeps working', async () => {
    const dir = examplesCopy();
    const srv = await start(dir, { watch: 'none' });
    const { client: c, open } = client(services.AdsClient, srv.xdsPort);
    try {
      const good = open<DiscoveryResponseWire>('StreamAggregatedResources');
      good.send(sotwReq([DUBBO]));
      const g1 = await good.next();
      good.send(sotwReq([DUBBO], { version_info: g1.version_info, response_nonce: g1.nonce }));

      const bad = open<DiscoveryResponseWire>('StreamAggregatedResources');
      bad.send(sotwReq(['outbound|20880||x'], { type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster' }));
      const err = await bad.failure();
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details ?? '', /envoy\.config\.cluster\.v3\.Cluster.*not served/);

      const badDelta = open<DeltaDiscoveryResponseWire>('DeltaAggregatedResources');
      badDelta.send({ node: NODE, type_url: 'type.googleapis.com/envoy.config.listener.v3.Listener', resource_names_subscribe: ['x'] });
      assert.equal((await badDelta.failure()).code, grpc.status.INVALID_ARGUMENT);

      good.send(sotwReq([DUBBO, THRIFT], { version_info: g1.version_info, response_nonce: g1.nonce }));
      const g2 = await good.next();
      // Only the added name: the client already runs the Dubbo route table.
      assert.deepEqual(r2names(g2), [THRIFT]);
      assert.equal(good.error, undefined);

      // Delta over ADS works too.
      const d = open<DeltaDiscoveryResponseWire>('DeltaAggregatedResources');
      d.send({ node: NODE, type_url: RDS, resource_names_subscribe: [THRIFT] });
      assert.deepEqual((await d.next()).resources.map((x) => x.name), [THRIFT]);
      good.close();
      d.close();
    } finally {
      c.close();
      await srv.close();
    }
  });

  test('a client that half-closes its stream is answered with status OK and the stream is released', async () => {
    const srv = await start(examplesCopy(), { watch: 'none' });
    const { client: c, open } = client(services.RdsClient, srv.xdsPort);
    try {
      const sotw = open<DiscoveryResponseWire>('StreamRoutes');
      sotw.send(sotwReq([DUBBO]));
      await sotw.next();
      const delta = open<DeltaDiscoveryResponseWire>('DeltaRoutes');
      delta.send({ node: NODE, type_url: RDS, resource_names_subscribe: [THRIFT] });
      await delta.next();
      sotw.call.end();
      delta.call.end();
      // Like a gRPC server handler returning: the call ends with OK, not when the connection drops.
      assert.equal((await sotw.finished()).code, grpc.status.OK);
      assert.equal((await delta.finished()).code, grpc.status.OK);
      assert.equal(srv.xds.streams().length, 0);
      assert.deepEqual(
        srv.logs.lines.filter((l) => l.event === 'disconnect').map((l) => l.reason),
        ['client closed the stream', 'client closed the stream'],
      );
    } finally {
      c.close();
      await srv.close();
    }
  });

  test('FetchRoutes (unary): the requested route tables that exist; another type URL is INVALID_ARGUMENT', async () => {
    const dir = examplesCopy();
    const srv = await start(dir, { watch: 'none' });
    const { client: c } = client(services.RdsClient, srv.xdsPort);
    const fetch = (req: object) =>
      new Promise<{ err: grpc.ServiceError | null; res: DiscoveryResponseWire | undefined }>((resolve) =>
        (c as unknown as Record<string, (r: object, cb: (e: grpc.ServiceError | null, r?: DiscoveryResponseWire) => void) => void>).FetchRoutes!.call(c, req, (err, res) => resolve({ err, res })),
      );
    try {
      const { err, res } = await fetch(sotwReq([THRIFT, 'no-such-route_1', DUBBO]));
      assert.equal(err, null);
      assert.deepEqual(res!.resources.map((r) => (decode(r) as { name: string }).name), [DUBBO, THRIFT].sort());
      assert.deepEqual(decode(res!.resources.find((r) => (decode(r) as { name: string }).name === DUBBO)!), pipelineRoute(dir, DUBBO));
      assert.equal(res!.nonce, '');
      assert.equal(res!.type_url, RDS);
      // The version_info is the one a stream would report for the same content.
      const streaming = client(services.RdsClient, srv.xdsPort);
      const s = streaming.open<DiscoveryResponseWire>('StreamRoutes');
      s.send(sotwReq([DUBBO, THRIFT]));
      assert.equal((await s.next()).version_info, res!.version_info);
      s.close();
      streaming.client.close();
      const bad = await fetch(sotwReq([DUBBO], { type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster' }));
      assert.equal(bad.err?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(bad.err?.details ?? '', /not served/);
    } finally {
      c.close();
      await srv.close();
    }
  });

  test('HTTP endpoints: /healthz, /readyz, /debug/xds, /debug/config', async () => {
    const dir = examplesCopy();
    const srv = await start(dir, { watch: 'none' });
    const { client: c, open } = client(services.RdsClient, srv.xdsPort);
    try {
      const base = `http://127.0.0.1:${srv.httpPort}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      const s = open<DiscoveryResponseWire>('StreamRoutes');
      s.send(sotwReq([DUBBO]));
      await s.next();
      const dbg = (await (await fetch(`${base}/debug/xds`)).json()) as { streams: Array<{ nodeId: string; subscribed: string[]; mode: string }> };
      assert.equal(dbg.streams.length, 1);
      assert.equal(dbg.streams[0]!.nodeId, NODE.id);
      assert.deepEqual(dbg.streams[0]!.subscribed, [DUBBO]);
      assert.equal(dbg.streams[0]!.mode, 'sotw');
      const cfg = (await (await fetch(`${base}/debug/config`)).json()) as { routes: Array<{ name: string }>; envoyFilters: unknown[] };
      assert.ok(cfg.routes.some((r) => r.name === DUBBO));
      assert.ok(cfg.envoyFilters.length > 0);
      assert.equal((await fetch(`${base}/nope`)).status, 404);
      s.close();
    } finally {
      c.close();
      await srv.close();
    }
  });
});

function r2names(r: DiscoveryResponseWire): string[] {
  return r.resources.map((a) => (decode(a) as { name: string }).name).sort();
}

// --- TLS ---------------------------------------------------------------------------------------

interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function makePki(): Pki {
  const dir = tempDir('metamesh-pki-');
  const f = (n: string) => path.join(dir, n);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl('req', '-x509', ...key, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=metamesh-test-ca');
  for (const [who, ext] of [
    ['server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'],
    ['client', 'subjectAltName=URI:spiffe://cluster.local/ns/dubbo/sa/consumer\nextendedKeyUsage=clientAuth\n'],
  ] as const) {
    writeFileSync(f(`${who}.ext`), ext);
    ossl('req', ...key, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who}`);
    ossl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.crt`), '-days', '1', '-extfile', f(`${who}.ext`));
  }
  return { dir, ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key') };
}

describe('xDS server over TLS', () => {
  let pki: Pki;
  before(() => {
    pki = makePki();
  });
  const override = { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };

  test('TLS: a client that trusts the CA is served', async () => {
    const srv = await start(examplesCopy(), { watch: 'none', tls: { cert: pki.serverCert, key: pki.serverKey } });
    const { client: c, open } = client(services.RdsClient, srv.xdsPort, grpc.credentials.createSsl(readFileSync(pki.ca)), override);
    try {
      const s = open<DiscoveryResponseWire>('StreamRoutes');
      s.send(sotwReq([DUBBO]));
      assert.equal((await s.next()).resources.length, 1);
      s.close();
    } finally {
      c.close();
      await srv.close();
    }
  });

  test('mutual TLS: a client certificate signed by the CA is required', async () => {
    const srv = await start(examplesCopy(), { watch: 'none', tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca } });
    const withCert = client(services.RdsClient, srv.xdsPort, grpc.credentials.createSsl(readFileSync(pki.ca), readFileSync(pki.clientKey), readFileSync(pki.clientCert)), override);
    const without = client(services.RdsClient, srv.xdsPort, grpc.credentials.createSsl(readFileSync(pki.ca)), override);
    try {
      const s = withCert.open<DiscoveryResponseWire>('StreamRoutes');
      s.send(sotwReq([DUBBO]));
      assert.equal((await s.next()).resources.length, 1);
      s.close();

      const refused = without.open<DiscoveryResponseWire>('StreamRoutes');
      refused.send(sotwReq([DUBBO]));
      const err = await refused.failure();
      assert.equal(err.code, grpc.status.UNAVAILABLE);
      assert.equal(srv.xds.streams().length, 0);
    } finally {
      withCert.client.close();
      without.client.close();
      await srv.close();
    }
  });
});

// --- the command ------------------------------------------------------------------------------

test('metamesh serve: prints its addresses, is healthy and ready, stops on SIGTERM with exit 0', async () => {
  const dir = examplesCopy();
  const script = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, 'serve', '-f', dir, '--xds-address', '127.0.0.1:0', '--http-address', '127.0.0.1:0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await until(() => /HTTP on 127\.0\.0\.1:\d+/.test(stdout) || child.exitCode !== null, 'metamesh serve to listen', 30_000);
    const m = /xDS \(gRPC, plaintext\) on 127\.0\.0\.1:(\d+), HTTP on 127\.0\.0\.1:(\d+)/.exec(stdout);
    assert.ok(m, `unexpected output: ${stdout}\n${stderr}`);
    const base = `http://127.0.0.1:${m[2]}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const { client: c, open } = client(services.RdsClient, Number(m[1]));
    const s = open<DiscoveryResponseWire>('StreamRoutes');
    s.send(sotwReq([DUBBO]));
    assert.equal((await s.next()).resources.length, 1);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /shutting down/);
    c.close();
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
