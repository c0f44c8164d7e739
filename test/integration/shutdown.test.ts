/**
 * SIGTERM ends a real `metamesh serve` process within --shutdown-grace, with exit code 0, even
 * when clients stopped reading: an xDS client whose HTTP/2 streams hold unread route tables larger
 * than the flow-control window, and an HTTP client that pipelined requests and reads nothing.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { DUBBO_SERVICE } from '../support/cli.js';
import { RDS, removeTemps, root, services, tempDir, until } from '../support/xds.js';

after(removeTemps);

const GRACE_MS = 1000;
/** Time allowed after the grace for the process to wind down and the OS to report its exit. */
const MARGIN_MS = 10_000;

/** The demo service and a MetaRouter of `n` routes: a route table of several hundred kilobytes. */
function bigRouteTable(n: number): string {
  const routes = Array.from(
    { length: n },
    (_, i) => `  - name: r${i}\n    match: {attributes: {method: {exact: method-number-${i}-with-a-long-name}}}\n    route: [{destination: {host: demo.dubbo.example, subset: v2}}]\n`,
  );
  return `${DUBBO_SERVICE}---\napiVersion: metaprotocol.aeraki.io/v1alpha1\nkind: MetaRouter\nmetadata: {name: demo, namespace: dubbo}\nspec:\n  hosts: [demo.dubbo.example]\n  routes:\n${routes.join('')}`;
}

/** gRPC streams on one HTTP/2 connection that each request the route and never read. */
function stuckXdsClient(port: number, streams: number): http2.ClientHttp2Session {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  const message = services.rds.StreamRoutes!.requestSerialize({ type_url: RDS, resource_names: ['demo.dubbo.example_20880'] });
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  for (let i = 0; i < streams; i++) {
    const s = session.request({ ':method': 'POST', ':path': '/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes', 'content-type': 'application/grpc', te: 'trailers' });
    s.on('error', () => undefined);
    s.write(frame);
    s.pause();
  }
  return session;
}

test('SIGTERM ends metamesh serve within the grace period with exit 0 while clients have stopped reading', async () => {
  const dir = tempDir('metamesh-shutdown-');
  writeFileSync(path.join(dir, 'demo.yaml'), bigRouteTable(3000));
  const script = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
  const args = ['serve', '-f', dir, '--xds-address', '127.0.0.1:0', '--http-address', '127.0.0.1:0', '--shutdown-grace', `${GRACE_MS}ms`];
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.on('exit', (code, signal) => (exit = { code, signal }));
  let xds: http2.ClientHttp2Session | undefined;
  let reader: net.Socket | undefined;
  try {
    // The dashboard line is written after the address line, possibly in a later chunk: wait for both.
    await until(() => /HTTP on 127\.0\.0\.1:\d+[^\n]*\n[^\n]*dashboard at /.test(stdout) || exit !== undefined, 'metamesh serve to listen', 60_000);
    const m = /xDS \(gRPC, plaintext\) on 127\.0\.0\.1:(\d+), HTTP on 127\.0\.0\.1:(\d+)/.exec(stdout);
    assert.match(stdout, /\(debug endpoints and dashboard open to local clients\)\nmetamesh serve: dashboard at http:\/\/127\.0\.0\.1:\d+\/dashboard\/\n/);
    assert.ok(m, `unexpected output: ${stdout}\n${stderr}`);
    xds = stuckXdsClient(Number(m[1]), 20);
    await until(() => (stderr.match(/"event":"connect"/g) ?? []).length === 20, 'the 20 stuck streams to be opened', 20_000);
    reader = net.connect(Number(m[2]), '127.0.0.1');
    reader.on('error', () => undefined);
    reader.pause();
    reader.write('GET /debug/config HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(500));

    child.kill('SIGTERM');
    await until(() => exit !== undefined, `the process to exit within the grace (${GRACE_MS} ms) plus ${MARGIN_MS} ms`, GRACE_MS + MARGIN_MS);
    assert.deepEqual(exit, { code: 0, signal: null }, stderr.slice(-2000));
    assert.match(stdout, /shutting down/);
    assert.match(stderr, /"event":"stopped"/, 'the last log line was written before the exit');
  } finally {
    xds?.destroy();
    reader?.destroy();
    if (exit === undefined) child.kill('SIGKILL');
  }
});
