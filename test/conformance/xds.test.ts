/**
 * xDS conformance: the Go client in test/conformance/xdsclient connects like an Envoy sidecar
 * (go-control-plane's generated RDS / ADS stubs, SotW and delta), decodes every resource into
 * envoy.config.route.v3.RouteConfiguration, converts it to the MetaProtocol RouteConfiguration the
 * way the data plane does, validates both with the official types, and ACKs/NACKs. `metamesh
 * serve` runs in-process on free ports over a temp copy of examples/. The client is spawned
 * asynchronously (the server shares this event loop); waits are deadlines, never fixed sleeps.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { serve, type Running } from '../../src/runtime/serve.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const moduleDir = path.join(root, 'test/conformance/xdsclient');
const binary = path.join(root, '.tmp/xdsclient');
const DUBBO = 'org.apache.dubbo.samples.basic.api.demoservice_20880';
const THRIFT = 'thrift-sample-server.meta-thrift.svc.cluster.local_9090';
const NODE_ID = 'sidecar~10.1.2.3~pod.ns~ns.svc.cluster.local';
const DUBBO_V1 = 'outbound|20880|v1|org.apache.dubbo.samples.basic.api.demoservice';
const DUBBO_V2 = 'outbound|20880|v2|org.apache.dubbo.samples.basic.api.demoservice';
const MODES = ['sotw', 'delta', 'ads-sotw', 'ads-delta'] as const;
const temps: string[] = [];

interface Checked {
  name: string;
  version: string;
  routes: number;
  firstRouteClusters: string[];
}

interface Server extends Running {
  logs: Array<Record<string, unknown>>;
}

async function startServer(): Promise<{ srv: Server; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-xdsconf-'));
  temps.push(dir);
  cpSync(path.join(root, 'examples'), dir, { recursive: true });
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) });
  const running = await serve({ files: [dir], xdsAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', logger, debounceMs: 30, pollIntervalMs: 100, shutdownGraceMs: 500 });
  return { srv: Object.assign(running, { logs }), dir };
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: Array<Record<string, unknown>>;
}

/**
 * Runs the client without blocking the event loop. onLine sees each stdout JSON line as it
 * arrives; the process is killed (and the test fails) if it outlives killAfterMs.
 */
function runClient(args: string[], onLine: (line: Record<string, unknown>) => void = () => {}, killAfterMs = 30_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const lines: Array<Record<string, unknown>> = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`xdsclient ${args.join(' ')} still running after ${killAfterMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, killAfterMs);
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      pending += b.toString();
      let i;
      while ((i = pending.indexOf('\n')) >= 0) {
        const text = pending.slice(0, i).trim();
        pending = pending.slice(i + 1);
        if (text === '') continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        try {
          onLine(line);
        } catch (e) {
          child.kill('SIGKILL');
          reject(e as Error);
        }
      }
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, lines });
    });
  });
}

function ok(r: Result, what: string): Record<string, unknown> {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout}`);
  const last = r.lines.at(-1);
  assert.ok(last, `${what}: no summary line`);
  assert.equal(last.ok, true);
  assert.equal(last.nodeId, NODE_ID);
  return last;
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

before(() => {
  mkdirSync(path.dirname(binary), { recursive: true });
  execFileSync('go', ['build', '-o', binary, '.'], { cwd: moduleDir, stdio: 'inherit' });
});

after(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('xDS conformance (Go sidecar client)', () => {
  let srv: Server;
  let addr: string;
  before(async () => {
    ({ srv } = await startServer());
    addr = `127.0.0.1:${srv.xdsPort}`;
  });
  after(async () => {
    await srv.close();
  });

  for (const mode of MODES) {
    test(`basic over ${mode}: decode, ValidateAll, MetaProtocol conversion, names, ACK`, async () => {
      const r = await runClient(['-addr', addr, '-names', `${DUBBO},${THRIFT}`, '-mode', mode, '-scenario', 'basic']);
      const s = ok(r, `basic ${mode}`);
      assert.equal(s.mode, mode);
      const resources = s.resources as Checked[];
      assert.deepEqual(
        resources.map((x) => x.name),
        [DUBBO, THRIFT],
      );
      for (const x of resources) assert.ok(x.routes > 0 && x.version !== '', JSON.stringify(x));
      assert.deepEqual(resources[0]!.firstRouteClusters, [DUBBO_V2]);
      assert.equal(resources[1]!.firstRouteClusters.length, 1);
      assert.match(resources[1]!.firstRouteClusters[0]!, /^outbound\|9090\|.*\|thrift-sample-server\.meta-thrift\.svc\.cluster\.local$/);
    });
  }

  test('basic over the unary FetchRoutes: the same resources pass the same checks', async () => {
    const r = await runClient(['-addr', addr, '-names', `${DUBBO},${THRIFT},no-such-service.example_1`, '-mode', 'fetch', '-scenario', 'basic']);
    // The unknown name is left out of the one response a unary call has, so the client reports it missing.
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no RouteConfiguration for \[no-such-service\.example_1\] in the only response \(received: \[/);
    const s = ok(await runClient(['-addr', addr, '-names', `${DUBBO},${THRIFT}`, '-mode', 'fetch', '-scenario', 'basic']), 'basic fetch');
    const resources = s.resources as Checked[];
    assert.deepEqual(resources.map((x) => x.name), [DUBBO, THRIFT]);
    assert.deepEqual(resources[0]!.firstRouteClusters, [DUBBO_V2]);
    assert.equal(s.responses, 1);
  });

  for (const mode of ['sotw', 'delta'] as const) {
    test(`nack over ${mode}: the NACKed version is not resent before a later subscription is answered`, async () => {
      const before = srv.logs.filter((l) => l.event === 'nack').length;
      // After the NACK the client also subscribes to THRIFT: the server answers requests in
      // order, so a resend of the NACKed DUBBO would arrive before or with THRIFT.
      const r = await runClient(['-addr', addr, '-names', DUBBO, '-mode', mode, '-scenario', 'nack', '-barrier', THRIFT]);
      const s = ok(r, `nack ${mode}`);
      assert.equal(s.resent, false);
      assert.equal(s.otherResponses, 0);
      assert.deepEqual(s.barrierResources, [THRIFT]);
      assert.ok(Number(s.barrierNonce) > Number(s.nackedNonce));
      assert.ok((s.nackedVersions as Record<string, string>)[DUBBO]);
      const nacks = srv.logs.filter((l) => l.event === 'nack');
      assert.equal(nacks.length, before + 1, 'the server logged the NACK');
      assert.equal(nacks.at(-1)!.nodeId, NODE_ID);
      assert.deepEqual(nacks.at(-1)!.resources, [DUBBO]);
      assert.match(String(nacks.at(-1)!.message), /rejected by the metamesh xdsclient conformance test/);
    });
  }

  test('the client can fail: a name the server never has, with a short deadline', async () => {
    const r = await runClient(['-addr', addr, '-names', 'no-such-service.example_1', '-mode', 'delta', '-scenario', 'basic', '-timeout', '500ms']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /FAIL \[basic\/delta\]: no RouteConfiguration for \[no-such-service\.example_1\] within 500ms/);
    assert.equal(r.stdout, '');
  });

  test('the client can fail: a wrong expectation about the first route', async () => {
    const r = await runClient(['-addr', addr, '-names', DUBBO, '-mode', 'sotw', '-scenario', 'basic', '-expect-cluster', DUBBO_V1]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`first route goes to [${DUBBO_V2}], expected "${DUBBO_V1}"`), r.stderr);
  });

  test('the client rejects bad flags with exit 2', async () => {
    const r = await runClient(['-addr', addr, '-names', DUBBO, '-mode', 'rest']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown -mode "rest"/);
    const u = await runClient(['-addr', addr, '-names', '', '-scenario', 'basic']);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /-addr and -names are required/);
    const n = await runClient(['-addr', addr, '-names', DUBBO, '-scenario', 'nack', '-barrier', DUBBO]);
    assert.equal(n.code, 2);
    assert.match(n.stderr, /-scenario nack needs a -barrier that is not one of -names/);
  });
});

describe('xDS conformance: live update', () => {
  for (const mode of ['sotw', 'ads-delta'] as const) {
    test(`live-update over ${mode}: editing the MetaRouter pushes a new version the client accepts`, async () => {
      const { srv, dir } = await startServer();
      try {
        const addr = `127.0.0.1:${srv.xdsPort}`;
        let ready: Record<string, unknown> | undefined;
        const r = await runClient(
          ['-addr', addr, '-names', `${DUBBO},${THRIFT}`, '-mode', mode, '-scenario', 'live-update', '-watch', DUBBO, '-expect-cluster', DUBBO_V1, '-update-timeout', '15s'],
          (line) => {
            if (line.event !== 'ready') return;
            ready = line;
            assert.deepEqual(line.firstRouteClusters, [DUBBO_V2]);
            // The server sees the sidecar's node id and its ACKs before the edit.
            const info = srv.xds.streams().find((s) => s.nodeId === NODE_ID);
            assert.ok(info, `no stream with node ${NODE_ID}: ${JSON.stringify(srv.xds.streams())}`);
            const file = path.join(dir, 'dubbo.yaml');
            const text = readFileSync(file, 'utf8');
            const canary = /(- name: say-hello-canary[\s\S]*?subset: )v2\}/;
            assert.match(text, canary);
            writeFileSync(file, text.replace(canary, '$1v1}'));
          },
        );
        const s = ok(r, `live-update ${mode}`);
        assert.ok(ready, 'the client printed a ready line');
        assert.equal(s.resource, DUBBO);
        assert.notEqual(s.newVersion, s.oldVersion);
        assert.deepEqual(s.oldFirstRouteClusters, [DUBBO_V2]);
        assert.deepEqual(s.firstRouteClusters, [DUBBO_V1]);
        await until(() => srv.logs.some((l) => l.event === 'disconnect' && l.nodeId === NODE_ID), 'the stream to close');
      } finally {
        await srv.close();
      }
    });
  }
});
