/**
 * The Kubernetes HTTP client's connections, against a real HTTPS server on loopback with
 * certificates from a test CA: requests and lists share kept-alive TLS connections (without the
 * pool every request made a TCP connection and a TLS handshake of its own, which was most of the
 * CPU of the apply sink and of the API server at scale, see bench/README.md); the bearer token is
 * still sent with every request; a changed CA file is read again and gets connections of its own.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { HttpKubeClient } from '../../src/store/kubernetes/http-client.js';
import { TestPki } from '../support/pki.js';

let pki: TestPki;
let other: TestPki;
let server: https.Server;
let port = 0;
let handshakes = 0;
const tokens: (string | undefined)[] = [];

before(async () => {
  pki = new TestPki();
  other = new TestPki(undefined, 'metamesh-other-ca');
  const leaf = pki.leaf('apiserver');
  server = https.createServer({ cert: readFileSync(leaf.cert), key: readFileSync(leaf.key) }, (req, res) => {
    tokens.push(req.headers.authorization);
    res.setHeader('content-type', 'application/json');
    res.end(req.url?.startsWith('/list') ? JSON.stringify({ metadata: { resourceVersion: '1' }, items: [] }) : JSON.stringify({ kind: 'X', metadata: { name: 'a' } }));
  });
  server.on('secureConnection', () => handshakes++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(() => {
  server.closeAllConnections();
  server.close();
  pki.remove();
  other.remove();
});

function client(caFile: string): HttpKubeClient {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser({ name: 'c', server: `https://127.0.0.1:${port}`, caFile, skipTLSVerify: false }, { name: 'u', token: 'secret-token' });
  return new HttpKubeClient(kc);
}

test('sequential requests and lists share one TLS connection, each with the bearer token', async () => {
  const before = handshakes;
  tokens.length = 0;
  const c = client(pki.ca);
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(await c.request({ method: i % 2 ? 'PATCH' : 'GET', path: `/obj/${i}`, body: i % 2 ? { a: i } : undefined }), { kind: 'X', metadata: { name: 'a' } });
  }
  assert.deepEqual((await c.list('/list', {})).items, []);
  assert.equal(handshakes - before, 1, 'one TLS handshake for 21 requests');
  assert.equal(tokens.length, 21);
  assert.ok(tokens.every((t) => t === 'Bearer secret-token'));
});

test('concurrent requests open connections as needed and reuse them afterwards', async () => {
  const c = client(pki.ca);
  const before = handshakes;
  await Promise.all(Array.from({ length: 4 }, (_, i) => c.request({ method: 'GET', path: `/a/${i}` })));
  const opened = handshakes - before;
  assert.ok(opened >= 1 && opened <= 4, `${opened} connections for 4 concurrent requests`);
  for (let i = 0; i < 10; i++) await c.request({ method: 'GET', path: `/b/${i}` });
  assert.equal(handshakes - before, opened, 'no new connection once the pool holds some');
});

test('a CA file that changes is read again: the requests after it use new connections verified with it', async () => {
  const dir = pki.path('rotating');
  const caFile = `${dir}-ca.crt`;
  writeFileSync(caFile, readFileSync(pki.ca));
  const c = client(path.resolve(caFile));
  const before = handshakes;
  await c.request({ method: 'GET', path: '/1' });
  await c.request({ method: 'GET', path: '/2' });
  assert.equal(handshakes - before, 1);
  // A bundle with another CA as well: different TLS material, still verifying the server.
  writeFileSync(caFile, Buffer.concat([readFileSync(pki.ca), readFileSync(other.ca)]));
  await c.request({ method: 'GET', path: '/3' });
  assert.equal(handshakes - before, 2, 'a new connection for the new CA bundle');
  // Only the other CA: the server's certificate no longer verifies, so no pooled connection made
  // with the old bundle may be used.
  writeFileSync(caFile, readFileSync(other.ca));
  await assert.rejects(c.request({ method: 'GET', path: '/4' }), /self-signed|unable to verify|certificate/i);
});
