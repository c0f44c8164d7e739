/**
 * The HTTP server of `metamesh serve` against misbehaving clients, on loopback: idle and
 * half-sent connections are closed, the connection limit holds, slow headers get 408, foreign
 * Host headers get 421, a token (when configured) guards /debug/*, and /debug/xds stays small
 * however many names a stream subscribes to, and a client pipelining requests without reading
 * their answers is cut off. Every wait polls with a deadline.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { serve } from '../../src/runtime/serve.js';
import { HttpServer } from '../../src/runtime/http.js';
import { captureLogs, client, DUBBO, examplesCopy, removeTemps, services, sotwReq, start, tempDir, until } from '../support/xds.js';
import type { DiscoveryResponseWire } from '../../src/xds/services.js';

after(removeTemps);

/** A raw TCP connection with what it received and whether the server closed it. */
function connect(port: number): Promise<{ socket: net.Socket; received: () => string; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let data = '';
    let closed = false;
    const socket = net.connect(port, '127.0.0.1');
    socket.on('data', (b) => (data += b.toString()));
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => data, closed: () => closed }));
    socket.once('error', reject);
  });
}

function get(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('idle connections are closed after the idle timeout: silent, half-sent and finished keep-alive ones', async () => {
  const srv = await start(examplesCopy(), { httpLimits: { idleTimeoutMs: 300, keepAliveTimeoutMs: 10_000 } });
  try {
    const conns = await Promise.all(Array.from({ length: 60 }, () => connect(srv.httpPort)));
    conns.slice(20, 40).forEach((c) => c.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
    conns.slice(40).forEach((c) => c.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    await until(() => conns.every((c) => c.closed()), 'every idle connection to be closed by the server', 10_000);
    assert.ok(conns.slice(40).every((c) => c.received().startsWith('HTTP/1.1 200')), 'the finished requests were answered first');
  } finally {
    await srv.close();
  }
});

test('over the connection limit a new connection is closed at once; the admitted ones keep working', async () => {
  const srv = await start(examplesCopy(), { httpLimits: { maxConnections: 5 } });
  try {
    const admitted = await Promise.all(Array.from({ length: 5 }, () => connect(srv.httpPort)));
    // A response on each proves the server has accepted all five.
    for (const c of admitted) c.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await until(() => admitted.every((c) => c.received().startsWith('HTTP/1.1 200')), 'the five admitted connections to be answered');
    const extra = await connect(srv.httpPort);
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await until(() => extra.closed(), 'the sixth connection to be closed');
    assert.equal(extra.received(), '');
    admitted[0]!.socket.write('GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await until(() => admitted[0]!.received().includes('ready'), 'an admitted connection to be answered again');
    admitted.forEach((c) => c.socket.destroy());
    await until(async () => (await get(srv.httpPort, '/healthz').catch(() => ({ status: 0 }))).status === 200, 'a new connection once the others are gone');
  } finally {
    await srv.close();
  }
});

test('headers trickled in slower than the header timeout get 408 and the connection is closed', async () => {
  const srv = await start(examplesCopy(), { httpLimits: { headersTimeoutMs: 300, idleTimeoutMs: 10_000 } });
  const c = await connect(srv.httpPort);
  const drip = setInterval(() => c.socket.write('X-Slow: 1\r\n'), 50);
  try {
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await until(() => c.closed(), 'the slow connection to be closed', 10_000);
    assert.match(c.received(), /^HTTP\/1\.1 408 /);
  } finally {
    clearInterval(drip);
    await srv.close();
  }
});

test('a Host that does not name this server gets 421 on every endpoint; localhost, the address and --http-host names are answered', async () => {
  const srv = await start(examplesCopy(), { httpHostNames: ['metamesh.test'] });
  try {
    for (const p of ['/debug/config', '/debug/xds', '/healthz', '/metrics']) {
      const r = await get(srv.httpPort, p, { host: `rebound.attacker.example:${srv.httpPort}` });
      assert.equal(r.status, 421, p);
      assert.match(r.body, /does not answer for host "rebound\.attacker\.example:\d+"/);
    }
    for (const host of [`localhost:${srv.httpPort}`, `127.0.0.1:${srv.httpPort}`, 'METAMESH.test:9999']) {
      assert.equal((await get(srv.httpPort, '/debug/config', { host })).status, 200, host);
    }
  } finally {
    await srv.close();
  }
});

test('with a token, /debug/* answers 401 with WWW-Authenticate: Bearer until the token is sent; health stays open', async () => {
  const file = path.join(tempDir('metamesh-token-'), 'token');
  writeFileSync(file, 'n0t-a-guess\n');
  const srv = await start(examplesCopy(), { httpTokenFile: file });
  try {
    for (const p of ['/debug/xds', '/debug/config']) {
      for (const authorization of [undefined, 'Bearer wrong', 'Bearer n0t-a-guess2', 'Basic n0t-a-guess']) {
        const r = await get(srv.httpPort, p, authorization ? { authorization } : {});
        assert.equal(r.status, 401, `${p} with ${authorization}`);
        assert.equal(r.headers['www-authenticate'], 'Bearer realm="metamesh"');
        assert.doesNotMatch(r.body, /routes|streams/);
      }
      assert.equal((await get(srv.httpPort, p, { authorization: 'Bearer n0t-a-guess' })).status, 200, p);
    }
    assert.equal((await get(srv.httpPort, '/healthz')).status, 200);
    assert.equal((await get(srv.httpPort, '/readyz')).status, 200);
    const metrics = await get(srv.httpPort, '/metrics');
    assert.equal(metrics.status, 200, '/metrics is open like the health endpoints: Prometheus scrapes without a token');
    assert.match(metrics.body, /^metamesh_ready 1$/m);
    assert.equal(srv.debugAccess, 'token');
    assert.ok(srv.logs.lines.some((l) => l.event === 'http-listening' && l.debug === 'token' && /bearer token/.test(String(l.msg))), 'said so at start-up');
  } finally {
    await srv.close();
  }
});

test('an empty or missing token file refuses to start, naming the file, before anything listens', async () => {
  const dir = tempDir('metamesh-token-');
  const empty = path.join(dir, 'empty');
  writeFileSync(empty, ' \n');
  const opts = { files: [examplesCopy()], xdsAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', watch: 'none' as const, logger: captureLogs().logger };
  await assert.rejects(serve({ ...opts, httpTokenFile: empty }), new RegExp(`the HTTP token file ${empty} is empty`));
  await assert.rejects(serve({ ...opts, httpTokenFile: path.join(dir, 'none') }), /cannot read the HTTP token file .*none/);
});

test('/debug/xds lists at most 100 names of a stream that subscribed to 5,000, says how many it left out, and pages the streams', async () => {
  const srv = await start(examplesCopy());
  const c = client(services.RdsClient, srv.xdsPort);
  try {
    const names = [DUBBO, ...Array.from({ length: 4999 }, (_, i) => `unknown-route-${String(i).padStart(4, '0')}`)];
    const big = c.open<DiscoveryResponseWire>('StreamRoutes');
    big.send(sotwReq(names));
    await big.next();
    const small = c.open<DiscoveryResponseWire>('StreamRoutes');
    small.send(sotwReq([DUBBO]));
    await small.next();
    await until(() => srv.xds.streams().length === 2, 'both streams to be registered');
    const page1 = JSON.parse((await get(srv.httpPort, '/debug/xds?limit=1')).body) as { total: number; next: number; streams: Array<Record<string, unknown>> };
    const s = page1.streams[0]!;
    assert.equal((s.subscribed as string[]).length, 100);
    assert.equal(s.subscribedCount, 5000);
    assert.equal(s.subscribedOmitted, 4900);
    assert.equal(page1.streams.length, 1);
    assert.equal(page1.total, 2);
    assert.equal(page1.next, 1);
    const page2 = JSON.parse((await get(srv.httpPort, '/debug/xds?offset=1&limit=1')).body) as { next?: number; streams: Array<Record<string, unknown>> };
    assert.deepEqual(page2.streams[0]!.subscribed, [DUBBO]);
    assert.equal(page2.next, undefined);
    assert.equal((await get(srv.httpPort, '/debug/xds?limit=100000')).status, 400);
  } finally {
    c.client.close();
    await srv.close();
  }
});

test('request targets that URL() cannot parse (//, /\\, //[) get an answer and the server stays up', async () => {
  const srv = await start(examplesCopy());
  try {
    for (const target of ['//', '/\\', '//[', '//a:b@', '///healthz']) {
      const c = await connect(srv.httpPort);
      c.socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${srv.httpPort}\r\nConnection: close\r\n\r\n`);
      await until(() => c.closed(), `the answer to GET ${target}`);
      assert.match(c.received(), /^HTTP\/1\.1 404 /, target);
    }
    assert.equal((await get(srv.httpPort, '/healthz', { host: `127.0.0.1:${srv.httpPort}` })).status, 200, 'still serving');
  } finally {
    await srv.close();
  }
});

test('an endpoint that answers asynchronously: its reply with its content type; a rejection is a 500 and the server keeps answering', async () => {
  const server = new HttpServer({
    address: '127.0.0.1:0',
    endpoints: {
      '/later': { debug: false, handle: async () => ({ status: 200, text: 'a 1\n', contentType: 'text/plain; version=0.0.4; charset=utf-8' }) },
      '/broken': { debug: false, handle: () => Promise.reject(new Error('collector failed')) },
    },
  });
  const { port } = await server.listen();
  try {
    const later = await get(port, '/later');
    assert.equal(later.status, 200);
    assert.equal(later.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(later.body, 'a 1\n', 'a text that ends its line gets no second newline');
    const broken = await get(port, '/broken');
    assert.equal(broken.status, 500);
    assert.match(broken.body, /internal error: collector failed/);
    assert.equal((await get(port, '/later')).status, 200, 'still serving');
  } finally {
    await server.close(100);
  }
});

test('a client that pipelines 200 requests and does not read is cut off after the pending-answer limit; a keep-alive client that reads is not', async () => {
  let calls = 0;
  const big = 'x'.repeat(1 << 20);
  const server = new HttpServer({
    address: '127.0.0.1:0',
    endpoints: { '/big': { debug: false, handle: () => (calls++, { status: 200, text: big }) } },
    limits: { maxPendingRequests: 8 },
  });
  const { port } = await server.listen();
  try {
    // 200 requests in one write: node parses them all at once.
    const c = await connect(port);
    c.socket.pause();
    c.socket.write('GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(200));
    await until(() => calls >= 8, 'the first requests to be answered', 10_000);
    c.socket.resume();
    await until(() => c.closed(), 'the server to close the connection', 10_000);
    const answered = c.received().split('HTTP/1.1 200').length - 1;
    assert.ok(calls < 200, `the server computed ${calls} of the 200 answers`);
    assert.ok(answered < 200, `the client got ${answered} answers`);

    // One connection, 30 requests one after another, each answer read: every one is answered.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 30; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path: '/big', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          }).on('error', reject);
        });
        assert.equal(status, 200);
      }
    } finally {
      agent.destroy();
    }
  } finally {
    await server.close(100);
  }
});
