/**
 * bench/sink.ts at a tiny size (3 services), so the benchmark keeps working: it runs both phases
 * against the real kube-apiserver and istiod of the e2e harness and prints one JSON object whose
 * counts are right. No figure of time is looked at (bench/README.md has those).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './support/kube-build.js';

type Json = Record<string, any>;

function runBench(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bench/sink.ts'), ...args], { cwd: repoRoot, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`bench/sink.ts failed: ${err.message}\n${stderr.slice(-4000)}`));
      resolve({ stdout, stderr });
    });
  });
}

test('bench/sink.ts --services 3: one JSON object, N ServiceEntries and 2N+1 EnvoyFilters through both sinks, one created and one deleted by the change', async () => {
  const { stdout } = await runBench(['--services', '3', '--poll-ms', '200']);
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'one line on stdout');
  const r = JSON.parse(lines[0]!) as Json;
  assert.deepEqual(r.counts, {
    serviceEntries: 3,
    envoyFilters: 7,
    virtualServices: 0,
    routeConfigurations: 3,
    expectedInIstiod: 10,
    diagnostics: { MM_INBOUND_NO_SELECTOR: 3, MM_SERVICE_VIP_ALLOCATED: 3 },
  });
  assert.deepEqual(r.params, { services: 3, sinks: ['mcp', 'apply'], pollMs: 200, deadlineS: 300 });
  assert.equal(r.loadAverageAtStart.length, 3);

  assert.deepEqual(r.mcp.objectsWritten, {
    metameshSinkObjectsWrittenTotal: { 'mcp ServiceEntry create': 3, 'mcp EnvoyFilter create': 7 },
    metameshSinkObjectsWrittenTotalAfter: { 'mcp EnvoyFilter create': 1, 'mcp EnvoyFilter delete': 1 },
    apiServerWrites: 0,
  });
  const w = r.apply.objectsWritten;
  assert.equal(w.apiServerWrites, 10);
  assert.equal(w.apiServerWritesForChange, 2);
  assert.deepEqual(w.apiServerRequests, { 'APPLY envoyfilters': 7, 'APPLY serviceentries': 3, 'GET envoyfilters 404': 7 });
  assert.deepEqual(w.apiServerRequestsForChange, { 'APPLY envoyfilters': 1, 'DELETE envoyfilters': 1, 'GET envoyfilters 404': 1 });
  assert.deepEqual(w.metameshSinkObjectsWrittenTotal, { 'kubernetes ServiceEntry create': 3, 'kubernetes EnvoyFilter create': 7 });
  assert.deepEqual(w.metameshSinkObjectsWrittenTotalForChange, { 'kubernetes EnvoyFilter create': 1, 'kubernetes EnvoyFilter delete': 1 });

  for (const phase of [r.mcp, r.apply]) {
    for (const seen of [phase.allVisible, phase.change]) {
      assert.ok(Number.isFinite(seen.ms) && seen.ms >= 0 && seen.probes >= 1, JSON.stringify(seen));
    }
    for (const server of ['metamesh', 'istiod', 'kubeApiserver', 'etcd']) {
      const s = phase.afterAllVisible.servers[server];
      assert.ok(s && s.rssMB > 0 && s.peakRssMB >= s.rssMB && s.cpuS >= 0, `${server}: ${JSON.stringify(s)}`);
    }
  }
  assert.ok(r.mcp.istiodRestart.allVisible.ms >= 0);
});
