/**
 * The Kubernetes HTTP client against a scripted HTTP server on loopback: credentials applied,
 * Status errors turned into messages, every answer bounded, watch lines split and delivered in
 * order, and stop() silent. (The real API server is in test/e2e.)
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, type WatchEvent } from '../../src/store/kubernetes/client.js';
import { HttpKubeClient } from '../../src/store/kubernetes/http-client.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
let server: http.Server;
let port = 0;

before(async () => {
  server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

function client(limits = { maxListBytes: 4096, maxEventBytes: 256, requestTimeoutMs: 2000 }): HttpKubeClient {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser({ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }, { name: 'u', token: 'secret-token' });
  return new HttpKubeClient(kc, limits);
}

test('a list page carries the bearer token and the query, and gives items, resourceVersion and continue', async () => {
  let seen: { url?: string; auth?: string } = {};
  handler = (req, res) => {
    seen = { url: req.url, auth: req.headers.authorization };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ kind: 'ServiceEntryList', metadata: { resourceVersion: '42', continue: 'tok' }, items: [{ metadata: { name: 'a' } }] }));
  };
  const page = await client().list('/apis/networking.istio.io/v1/serviceentries', { limit: '500' });
  assert.deepEqual(page, { items: [{ metadata: { name: 'a' } }], resourceVersion: '42', continue: 'tok' });
  assert.equal(seen.url, '/apis/networking.istio.io/v1/serviceentries?limit=500');
  assert.equal(seen.auth, 'Bearer secret-token');
});

test('a refused list is a KubeApiError with the Status message and code', async () => {
  handler = (_req, res) => {
    res.statusCode = 403;
    res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: 'metarouters is forbidden: User "x" cannot list resource "metarouters"' }));
  };
  await assert.rejects(client().list('/x', {}), (e: unknown) => e instanceof KubeApiError && e.status === 403 && e.reason === 'Forbidden' && /cannot list resource "metarouters" \(HTTP 403\)$/.test(e.message));
});

test('a list answer over the byte limit, and one that never comes, are failures', async () => {
  handler = (_req, res) => res.end(JSON.stringify({ items: ['x'.repeat(5000)] }));
  await assert.rejects(client().list('/x', {}), /larger than 4096 bytes/);
  handler = () => {}; // never answers
  await assert.rejects(client({ maxListBytes: 4096, maxEventBytes: 256, requestTimeoutMs: 200 }).list('/x', {}), /no answer within 200 ms/);
});

function watchOnce(c: HttpKubeClient): Promise<{ events: WatchEvent[]; opened: boolean; err: Error | undefined }> {
  return new Promise((resolve) => {
    const events: WatchEvent[] = [];
    let opened = false;
    c.watch('/x', { resourceVersion: '5' }, { open: () => (opened = true), event: (e) => events.push(e), end: (err) => resolve({ events, opened, err }) });
  });
}

test('watch lines split across chunks are delivered whole and in order; a normal end is no error', async () => {
  let url = '';
  handler = (req, res) => {
    url = req.url ?? '';
    res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MOD');
    setTimeout(() => res.end('IFIED","object":{"metadata":{"name":"a"}}}\n{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}\n'), 20);
  };
  const r = await watchOnce(client());
  assert.equal(r.opened, true);
  assert.equal(r.err, undefined);
  assert.deepEqual(r.events.map((e) => e.type), ['ADDED', 'MODIFIED', 'BOOKMARK']);
  assert.match(url, /[?&]watch=true/);
  assert.match(url, /[?&]resourceVersion=5/);
});

test('a watch event over the byte limit ends the watch with an error; so does a refused watch', async () => {
  handler = (_req, res) => res.write(`{"type":"ADDED","object":{"pad":"${'x'.repeat(1000)}`);
  const big = await watchOnce(client());
  assert.match(big.err?.message ?? '', /a watch event is larger than 256 bytes/);
  handler = (_req, res) => {
    res.statusCode = 410;
    res.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' }));
  };
  const gone = await watchOnce(client());
  assert.equal(gone.opened, false);
  assert.ok(gone.err instanceof KubeApiError && gone.err.status === 410);
});

test('a watch cut by the server mid-stream is an error; a stopped watch reports nothing', async () => {
  handler = (req, res) => {
    res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n');
    setTimeout(() => req.socket.destroy(), 20);
  };
  const cut = await watchOnce(client());
  assert.equal(cut.events.length, 1);
  assert.ok(cut.err, 'a cut connection is not a normal end');
  handler = (_req, res) => res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n');
  const calls: string[] = [];
  const h = client().watch('/x', {}, { open: () => calls.push('open'), event: () => calls.push('event'), end: () => calls.push('end') });
  const deadline = Date.now() + 5000;
  while (!calls.includes('event') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  h.stop();
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(calls, ['open', 'event']);
});
