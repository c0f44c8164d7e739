/**
 * The container image, built and run for real (npm run test:e2e): Debian's buildah builds the
 * unchanged deploy/Containerfile on a Node.js base assembled FROM scratch from this machine's node
 * and npm (no base image can be pulled here; test/support/image-build.ts), then the image is
 * inspected and run with chroot isolation: as the numeric non-root user, with nothing outside /tmp
 * writable by it, only production dependencies and no npm, serving the chart's default arguments
 * over the chart's ConfigMap until a SIGTERM drains it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assembleNodeBase, Buildah, buildImage, commandLine, descendants } from '../support/image-build.js';
import { one, render } from '../helm/chart.js';
import { until } from '../support/xds.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let b: Buildah;
let image: string;
let config: { User: string; Entrypoint: string[]; Cmd: string[]; Env: string[]; ExposedPorts: Record<string, unknown> };
let scratch: string;
/** One working container of the image, for every run below (each run gets a fresh /tmp). */
let ctr: string;

before(() => {
  b = new Buildah();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'metamesh-image-'));
  const base = assembleNodeBase(b);
  image = buildImage(b, root, base);
  config = (JSON.parse(b.run(['inspect', '--type', 'image', image])) as { OCIv1: { config: typeof config } }).OCIv1.config;
  ctr = b.run(['from', '--pull-never', image]).trim();
});

after(() => {
  b?.remove();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Runs `node -e script` in the container (as the image's user); its stdout. */
function nodeIn(script: string, user?: string): string {
  return b.run(['run', '--isolation', 'chroot', '--mount', 'type=tmpfs,destination=/tmp', ...(user ? ['--user', user] : []), ctr, '--', 'node', '-e', script]);
}

test('the image runs metamesh as 10001:10001 with HOME=/tmp, exposing the xDS and HTTP ports', () => {
  assert.equal(config.User, '10001:10001');
  assert.deepEqual(config.Entrypoint, ['node', '/app/bin/metamesh.js']);
  assert.deepEqual(config.Cmd, ['--help']);
  assert.ok(config.Env.includes('HOME=/tmp'), config.Env.join(' '));
  assert.ok(config.Env.includes('NODE_ENV=production'));
  assert.deepEqual(Object.keys(config.ExposedPorts).sort(), ['15010/tcp', '8080/tcp']);
  const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version as string;
  assert.equal(nodeIn(`process.argv = ['node', '/app/bin/metamesh.js', '--version']; import('/app/bin/metamesh.js')`).trim(), `metamesh ${version}`);
  assert.equal(nodeIn('console.log(`${process.getuid()}:${process.getgid()}`)').trim(), '10001:10001');
});

test('nothing outside /tmp is writable by the user the image runs as (a read-only root changes nothing)', () => {
  const script = `
    const fs = require('fs'), path = require('path');
    const skip = new Set(['/proc', '/sys', '/dev', '/tmp', '/run']);
    const writable = [];
    (function walk(d) {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (skip.has(p)) continue;
        try { fs.accessSync(p, fs.constants.W_OK); writable.push(p); } catch {}
        if (e.isDirectory()) walk(p);
      }
    })('/');
    console.log(JSON.stringify(writable));`;
  assert.deepEqual(JSON.parse(nodeIn(script)), []);
  // The same walk as root finds the application files writable: the check can see them.
  assert.ok((JSON.parse(nodeIn(script, '0:0')) as string[]).includes('/app/dist'));
});

test('only production dependencies, and no npm, are in the image', () => {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
  const script = `
    const fs = require('fs'), path = require('path');
    const found = [];
    (function walk(dir, rel) {
      for (const name of fs.readdirSync(dir)) {
        if (name.startsWith('.')) continue;
        const p = path.join(dir, name);
        if (name.startsWith('@')) { walk(p, rel + name + '/'); continue; }
        found.push(rel + name);
        if (fs.existsSync(path.join(p, 'node_modules'))) walk(path.join(p, 'node_modules'), rel + name + '/node_modules/');
      }
    })('/app/node_modules', 'node_modules/');
    console.log(JSON.stringify({ found, npm: fs.existsSync('/usr/local/bin/npm') || fs.existsSync('/usr/local/lib/node_modules/npm') }));`;
  const { found, npm } = JSON.parse(nodeIn(script)) as { found: string[]; npm: boolean };
  assert.equal(npm, false, 'npm is left in the runtime image');
  const prod = Object.entries(lock.packages).filter(([k, v]) => k.startsWith('node_modules/') && !v.dev && !v.optional).map(([k]) => k);
  assert.ok(found.length > 20);
  for (const f of found) assert.equal(lock.packages[f]?.dev, undefined, `${f} is a dev dependency`);
  for (const p of prod) assert.ok(found.includes(p), `${p} is missing`);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function get(port: number, pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, headers: { host: '10.244.1.7' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

test("serves the chart's default arguments over the chart's ConfigMap, probes answer, SIGTERM drains and exits 0", async () => {
  const objects = render({ values: { sources: { files: { manifests: { 'dubbo.yaml': readFileSync(path.join(root, 'examples/dubbo.yaml'), 'utf8') } } } } });
  // Modes as the kubelet gives a ConfigMap volume: owned by root, readable by everyone.
  const configDir = mkdtempSync(path.join(scratch, 'config-'));
  chmodSync(configDir, 0o755);
  for (const [k, v] of Object.entries(one(objects, 'ConfigMap').data as Record<string, string>)) writeFileSync(path.join(configDir, k), v, { mode: 0o644 });
  // The chart's ports may be taken on this machine (the container shares its network): only
  // they are changed.
  const [xds, httpPort] = [await freePort(), await freePort()];
  const args = (one(objects, 'Deployment').spec.template.spec.containers[0].args as string[]).map((a, i, all) =>
    all[i - 1] === '--xds-address' ? `0.0.0.0:${xds}` : all[i - 1] === '--http-address' ? `0.0.0.0:${httpPort}` : a,
  );
  const child = b.spawn(['run', '--isolation', 'chroot', '--mount', 'type=tmpfs,destination=/tmp', '-v', `${configDir}:/etc/metamesh/config:ro`, ctr, '--', ...config.Entrypoint, ...args]);
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await until(async () => (await get(httpPort, '/readyz')).status === 200, 'the container to be ready', 60_000);
    const ready = JSON.parse((await get(httpPort, '/readyz')).body) as { sources: Array<{ source: string; state: string; files: number }> };
    assert.deepEqual(ready.sources.map((s) => [s.source, s.state, s.files]), [['/etc/metamesh/config', 'ok', 2]]);
    assert.equal((await get(httpPort, '/healthz')).status, 200);
    assert.equal((await get(httpPort, '/debug/config')).status, 403, 'no token: the debug endpoints are disabled off loopback');
    assert.match(out, new RegExp(`xDS \\(gRPC, plaintext\\) on 0\\.0\\.0\\.0:${xds}, HTTP on 0\\.0\\.0\\.0:${httpPort}`));
    const metamesh = descendants(child.pid!).find((p) => commandLine(p)[1] === '/app/bin/metamesh.js');
    assert.ok(metamesh, 'the metamesh process runs under buildah');
    process.kill(metamesh, 'SIGTERM');
    assert.equal(await exited, 0);
    assert.match(out, /metamesh serve: shutting down/);
  } finally {
    // On a failure, nothing may outlive the test: buildah does not pass its own death on to the
    // processes it started, so those are killed first.
    for (const p of descendants(child.pid!).reverse()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    child.kill('SIGKILL');
    await exited;
  }
});
