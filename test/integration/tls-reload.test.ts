/**
 * `metamesh serve` with TLS files that change or cannot be served, end to end with @grpc/grpc-js
 * clients on 127.0.0.1: refusal at start-up, a rotation mid-stream (open streams keep going, new
 * connections see the new certificate), a broken rotation that keeps the old one. Certificates come
 * from openssl at test time; the certificate a client saw is read from its call's auth context.
 * Waits are deadlines on log lines and responses, never fixed sleeps.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { DiscoveryResponseWire } from '../../src/xds/services.js';
import { runUntilListening } from '../support/cli.js';
import { HOUR, TestPki, type Leaf } from '../support/pki.js';
import { client, DUBBO, examplesCopy, removeTemps, services, sotwReq, start, THRIFT, until, type Stream } from '../support/xds.js';

let pki: TestPki;
let first: Leaf;
let second: Leaf;
let third: Leaf;
let clientLeaf: Leaf;

before(() => {
  pki = new TestPki();
  first = pki.leaf('first');
  second = pki.leaf('second');
  third = pki.leaf('third');
  clientLeaf = pki.leaf('client', { usage: 'client' });
});
after(() => {
  pki.remove();
  removeTemps();
});

/** Runs `metamesh serve` on a copy of examples/ with ephemeral ports and `argv` added. */
const serveOnce = (...argv: string[]) =>
  runUntilListening('serve', '-f', examplesCopy(), '--xds-address', '127.0.0.1:0', '--http-address', '127.0.0.1:0', ...argv);

describe('serve refuses TLS files it cannot serve, before anything listens', () => {
  const cases: Array<[string, () => string[], string, () => string]> = [
    ['an expired certificate', () => expiredArgs(), 'MM_TLS_CERT_EXPIRED', () => pki.path('expired.crt')],
    ['a certificate not valid yet', () => futureArgs(), 'MM_TLS_CERT_NOT_YET_VALID', () => pki.path('future.crt')],
    ['a CA file without a certificate', () => ['--tls-cert', first.cert, '--tls-key', first.key, '--tls-ca', emptyFile()], 'MM_TLS_NO_CERTIFICATE', () => pki.path('empty.pem')],
    ['a key that is not the certificate\'s', () => ['--tls-cert', first.cert, '--tls-key', second.key], 'MM_TLS_KEY_MISMATCH', () => second.key],
  ];
  for (const [name, args, code, file] of cases) {
    test(`${name}: exit 1, one line naming the file and ${code}`, async () => {
      const r = await serveOnce(...args());
      assert.equal(r.out, '', 'no address was reported: nothing listened');
      assert.equal(r.code, 1);
      const lines = r.err.trimEnd().split('\n');
      assert.equal(lines.at(-1), 'metamesh serve: nothing was started.');
      assert.equal(lines.length, 2, r.err);
      assert.ok(lines[0]!.startsWith('metamesh serve: cannot serve TLS: '), lines[0]);
      assert.ok(lines[0]!.includes(file()), `${lines[0]} names ${file()}`);
      assert.ok(lines[0]!.endsWith(`(${code})`), lines[0]);
    });
  }

  function expiredArgs(): string[] {
    const l = pki.leaf('expired', { notBefore: new Date(Date.now() - 48 * HOUR), notAfter: new Date(Date.now() - HOUR) });
    return ['--tls-cert', l.cert, '--tls-key', l.key];
  }
  function futureArgs(): string[] {
    const l = pki.leaf('future', { notBefore: new Date(Date.now() + HOUR), notAfter: new Date(Date.now() + 48 * HOUR) });
    return ['--tls-cert', l.cert, '--tls-key', l.key];
  }
  function emptyFile(): string {
    writeFileSync(pki.path('empty.pem'), '');
    return pki.path('empty.pem');
  }
});

test('--tls-expiry-warning takes a duration', async () => {
  const r = await serveOnce('--tls-cert', first.cert, '--tls-key', first.key, '--tls-expiry-warning', 'soon');
  assert.equal(r.code, 2);
  assert.match(r.err, /^metamesh serve: --tls-expiry-warning must be a duration such as 6h, 90m or 0s, not "soon"\n/);
});

describe('certificates rotated under a running server', () => {
  const override = { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };
  // Each client gets its own connection: grpc-js would otherwise share one between equal channels.
  const options = { ...override, 'grpc.use_local_subchannel_pool': 1 };
  let served: { cert: string; key: string; ca: string };

  before(() => {
    served = { cert: pki.path('served.crt'), key: pki.path('served.key'), ca: pki.path('served-ca.crt') };
  });

  function install(leaf: { cert: string; key: string }): void {
    copyFileSync(leaf.cert, `${served.cert}.new`);
    copyFileSync(leaf.key, `${served.key}.new`);
    renameSync(`${served.cert}.new`, served.cert);
    renameSync(`${served.key}.new`, served.key);
  }

  const fingerprint = (leaf: Leaf) => new X509Certificate(readFileSync(leaf.cert)).fingerprint256;

  /** The fingerprint of the server certificate the stream's connection was set up with. */
  const seen = (s: Stream<DiscoveryResponseWire>) => s.call.getAuthContext()?.sslPeerCertificate?.fingerprint256;

  function mtlsClient(port: number) {
    const creds = grpc.credentials.createSsl(readFileSync(pki.ca), readFileSync(clientLeaf.key), readFileSync(clientLeaf.cert));
    return client(services.RdsClient, port, creds, options);
  }

  /** A new connection's first response, and the certificate it saw. */
  async function connectFresh(port: number): Promise<string | undefined> {
    const c = mtlsClient(port);
    try {
      const s = c.open<DiscoveryResponseWire>('StreamRoutes');
      s.send(sotwReq([DUBBO]));
      assert.equal((await s.next()).resources.length, 1);
      s.close();
      return seen(s);
    } finally {
      c.client.close();
    }
  }

  test('mutual TLS: an open stream keeps going, new connections get the new certificate, a broken rotation keeps it', async () => {
    install(first);
    copyFileSync(pki.ca, served.ca);
    // File events pick the changes up (test/unit/tls-watch.test.ts shows that alone); the short
    // periodic check only keeps this test independent of them.
    const srv = await start(examplesCopy(), { watch: 'none', tls: { ...served, debounceMs: 20, checkIntervalMs: 500 } });
    const old = mtlsClient(srv.xdsPort);
    try {
      const s = old.open<DiscoveryResponseWire>('StreamRoutes');
      s.send(sotwReq([DUBBO]));
      const r1 = await s.next();
      assert.equal(seen(s), fingerprint(first));

      install(second);
      await until(async () => (await connectFresh(srv.xdsPort)) === fingerprint(second), 'a new connection to get the new certificate');
      assert.ok(srv.logs.lines.some((l) => l.event === 'tls-reloaded' && l.serial === second.serial), 'the rotation is logged');

      // The stream opened before the rotation is still served, on its old connection.
      s.send(sotwReq([DUBBO, THRIFT], { version_info: r1.version_info, response_nonce: r1.nonce }));
      const r2 = await s.next();
      assert.ok(r2.resources.length >= 1);
      assert.equal(s.error, undefined);
      assert.equal(seen(s), fingerprint(first));

      // A rotation that writes the certificate but not its key: the second certificate stays.
      copyFileSync(third.cert, served.cert);
      await until(() => srv.logs.lines.some((l) => l.event === 'tls-rejected' && l.code === 'MM_TLS_KEY_MISMATCH'), 'the broken rotation to be logged');
      const rejected = srv.logs.lines.find((l) => l.event === 'tls-rejected')!;
      assert.equal(rejected.object, served.key);
      assert.match(String(rejected.msg), /is not the private key of the certificate in .*The changed TLS files are not used; new connections still get CN=second, serial/);
      assert.equal(await connectFresh(srv.xdsPort), fingerprint(second), 'the broken rotation is not served');
      s.close();
    } finally {
      old.client.close();
      await srv.close();
    }
  });

  test('TLS without a client CA: the rotation is picked up by new connections', async () => {
    const files = { cert: pki.path('plain.crt'), key: pki.path('plain.key') };
    copyFileSync(first.cert, files.cert);
    copyFileSync(first.key, files.key);
    const srv = await start(examplesCopy(), { watch: 'none', tls: { ...files, debounceMs: 20, checkIntervalMs: 100 } });
    const connect = async () => {
      const c = client(services.RdsClient, srv.xdsPort, grpc.credentials.createSsl(readFileSync(pki.ca)), options);
      try {
        const s = c.open<DiscoveryResponseWire>('StreamRoutes');
        s.send(sotwReq([DUBBO]));
        await s.next();
        s.close();
        return seen(s);
      } finally {
        c.client.close();
      }
    };
    try {
      assert.equal(await connect(), fingerprint(first));
      copyFileSync(second.key, files.key);
      copyFileSync(second.cert, files.cert);
      await until(async () => (await connect()) === fingerprint(second), 'a new connection to get the new certificate');
    } finally {
      await srv.close();
    }
  });
});
