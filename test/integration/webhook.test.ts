/**
 * The admission webhook of `metamesh serve --webhook-address`, over real HTTPS on 127.0.0.1:
 * decisions, the bounds on what a client can send, a certificate rotated under the running
 * server, clients that do not trust it. Certificates come from openssl at test time (pki.ts).
 * Waits are deadlines on events, never fixed sleeps.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, renameSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { WebhookServer } from '../../src/admission/server.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { re2Problem } from '../../src/util/regex.js';
import { CertificateWatcher } from '../../src/xds/tls-watch.js';
import { runUntilListening } from '../support/cli.js';
import { TestPki, type Leaf } from '../support/pki.js';
import { examplesCopy, removeTemps, start, until } from '../support/xds.js';

let pki: TestPki;
let first: Leaf;
let second: Leaf;

before(() => {
  pki = new TestPki();
  first = pki.leaf('webhook-first');
  second = pki.leaf('webhook-second');
});
after(() => {
  pki.remove();
  removeTemps();
});

interface Answer {
  status: number;
  body: string;
  /** Serial of the certificate the server presented. */
  serial: string;
}

/** One request on a fresh connection that trusts the test CA. */
function post(port: number, body: string | Buffer, o: { path?: string; method?: string; headers?: Record<string, string | number> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: o.path ?? '/validate', method: o.method ?? 'POST', ca: readFileSync(pki.ca), servername: 'localhost', agent: false, headers: { 'content-type': 'application/json', ...(o.headers ?? {}) } },
      (res) => {
        const serial = (res.socket as tls.TLSSocket).getPeerCertificate().serialNumber;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), serial }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const HOST = 'org.apache.dubbo.samples.basic.api.demoservice';

function reviewOf(routes: unknown[], uid = 'uid-1'): string {
  const object = { apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'MetaRouter', metadata: { name: 'demo', namespace: 'meta-dubbo' }, spec: { hosts: [HOST], routes } };
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, kind: { group: 'metaprotocol.aeraki.io', version: 'v1alpha1', kind: 'MetaRouter' }, operation: 'CREATE', namespace: 'meta-dubbo', object } });
}

const catchAll = { route: [{ destination: { host: HOST, subset: 'v1' } }] };
const byMethod = { match: { attributes: { method: { exact: 'sayHello' } } }, route: [{ destination: { host: HOST, subset: 'v2' } }] };

describe('serve --webhook-address', () => {
  test('admits a valid MetaRouter and refuses one only the validator can refuse, over HTTPS', async () => {
    const served = { cert: pki.path('served-webhook.crt'), key: pki.path('served-webhook.key') };
    copyFileSync(first.cert, served.cert);
    copyFileSync(first.key, served.key);
    const running = await start(examplesCopy(), { webhook: { address: '127.0.0.1:0', ...served } });
    try {
      const port = running.webhookPort!;
      const ok = await post(port, reviewOf([byMethod, catchAll], 'good'));
      assert.equal(ok.status, 200);
      assert.deepEqual(JSON.parse(ok.body), { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'good', allowed: true } });

      const bad = await post(port, reviewOf([catchAll, byMethod], 'bad'));
      assert.equal(bad.status, 200);
      const res = (JSON.parse(bad.body) as { response: { uid: string; allowed: boolean; status: { message: string } } }).response;
      assert.equal(res.uid, 'bad');
      assert.equal(res.allowed, false);
      assert.match(res.status.message, /^MM_ROUTER_UNREACHABLE_ROUTE: MetaRouter meta-dubbo\/demo: spec\.routes\[0\] matches every request/);
      const line = running.logs.lines.find((l) => l.event === 'admission' && l.uid === 'bad');
      assert.deepEqual([line?.allowed, line?.object, line?.codes], [false, 'MetaRouter meta-dubbo/demo', ['MM_ROUTER_UNREACHABLE_ROUTE']]);

      // A rotation: new connections get the new certificate, without a restart.
      assert.equal(ok.serial, new X509Certificate(readFileSync(first.cert)).serialNumber);
      copyFileSync(second.cert, `${served.cert}.new`);
      copyFileSync(second.key, `${served.key}.new`);
      renameSync(`${served.key}.new`, served.key);
      renameSync(`${served.cert}.new`, served.cert);
      const want = new X509Certificate(readFileSync(second.cert)).serialNumber;
      await until(() => running.logs.lines.some((l) => l.event === 'tls-reloaded' && l.server === 'webhook'), 'the webhook certificate to be reloaded');
      const after = await post(port, reviewOf([byMethod, catchAll]));
      assert.equal(after.serial, want);
      assert.equal(after.status, 200);
    } finally {
      await running.close();
    }
  });

  test('the CLI reports the webhook address; half the webhook flags is a usage error', async () => {
    const r = await runUntilListening('serve', '-f', examplesCopy(), '--xds-address', '127.0.0.1:0', '--http-address', '127.0.0.1:0', '--webhook-address', '127.0.0.1:0', '--webhook-tls-cert', first.cert, '--webhook-tls-key', first.key);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /, admission webhook \(HTTPS\) on 127\.0\.0\.1:\d+, HTTP on/);
    const half = await runUntilListening('serve', '-f', examplesCopy(), '--webhook-address', '127.0.0.1:0', '--webhook-tls-cert', first.cert);
    assert.equal(half.code, 2);
    assert.match(half.err, /--webhook-address needs --webhook-tls-cert and --webhook-tls-key: the Kubernetes API server calls admission webhooks over HTTPS only/);
  });

  test('an expired webhook certificate refuses the start, naming the file', async () => {
    const expired = pki.leaf('webhook-expired', { notBefore: new Date(Date.now() - 48 * 3600_000), notAfter: new Date(Date.now() - 3600_000) });
    const r = await runUntilListening('serve', '-f', examplesCopy(), '--xds-address', '127.0.0.1:0', '--http-address', '127.0.0.1:0', '--webhook-address', '127.0.0.1:0', '--webhook-tls-cert', expired.cert, '--webhook-tls-key', expired.key);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, new RegExp(`cannot serve TLS: the certificate in ${expired.cert.replace(/[.]/g, '\\.')} .*\\(MM_TLS_CERT_EXPIRED\\)`));
  });
});

describe('the webhook server bounds what a client sends', () => {
  let server: WebhookServer;
  let port: number;
  let certificates: CertificateWatcher;

  before(async () => {
    certificates = CertificateWatcher.open({ cert: first.cert, key: first.key }, { report: () => undefined });
    const context = () => ({ domain: 'cluster.local', builtins: loadBuiltinProtocols(), checkRegex: re2Problem });
    server = new WebhookServer({ address: '127.0.0.1:0', certificates, context, limits: { maxBodyBytes: 4096, requestTimeoutMs: 300, headersTimeoutMs: 300 } });
    port = await server.listen();
  });
  after(async () => {
    await server.close(100);
    certificates.close();
  });

  test('another path is 404, another method 405, a body that is not an AdmissionReview 400', async () => {
    assert.equal((await post(port, '', { path: '/mutate' })).status, 404);
    assert.equal((await post(port, '', { method: 'GET' })).status, 405);
    const notJson = await post(port, 'hello');
    assert.equal(notJson.status, 400);
    assert.match(notJson.body, /^the body is not JSON/);
  });

  test('a body over the limit is refused with 413: by its Content-Length, or as it arrives (chunked)', async () => {
    const big = reviewOf([{ ...catchAll, name: 'x'.repeat(8192) }]);
    const declared = await post(port, big);
    assert.equal(declared.status, 413);
    assert.match(declared.body, /over the limit of 4096/);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', ca: readFileSync(pki.ca), servername: 'localhost', agent: false, headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(big.slice(0, 3000));
      req.write(big.slice(3000));
      // The server answers before the body ends; a write after that may fail, which is fine.
    });
    assert.equal(chunked, 413);
  });

  test('a client that sends half a request and stops gets 408 and its connection closed', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(pki.ca), servername: 'localhost' });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    socket.write('POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{');
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    assert.match(text, /^HTTP\/1\.1 408 /);
  });

  test('a client that does not trust the certificate, or speaks plain HTTP, gets no answer and leaves the server serving', async () => {
    await assert.rejects(
      new Promise((resolve, reject) => https.get({ host: '127.0.0.1', port, path: '/validate', agent: false }, resolve).on('error', reject)),
      /self-signed certificate in certificate chain|unable to verify/,
    );
    const plain = net.connect({ host: '127.0.0.1', port });
    plain.write('POST /validate HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((resolve) => plain.once('close', () => resolve()));
    assert.equal((await post(port, reviewOf([catchAll]))).status, 200);
  });
});
