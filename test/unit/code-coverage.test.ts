/**
 * Every diagnostic code is produced by some test input, not merely named in src/: by a golden case
 * (its out.yaml lists the diagnostic), or, for the few codes only effectful code can produce (files
 * that cannot be read, links, FIFOs) or only inputs too large for a golden file (the input limits,
 * here lowered), by a case below that produces it here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadInputs } from '../../src/cli/files.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../../src/input/limits.js';
import { CODES, type Code } from '../../src/model/codes.js';
import type { Diagnostic } from '../../src/model/diagnostics.js';
import { DEFAULT_ZK_LIMITS, dataTooLarge, tooManyChildren } from '../../src/registry/zookeeper/limits.js';
import { DirectoryStore } from '../../src/store/directory.js';
import { KubernetesSource } from '../../src/store/kubernetes/source.js';
import { TLS_EFFECT_CASES } from '../support/tls-cases.js';
import { tmpTree } from '../support/cli.js';
import { mcpObjects } from '../../src/mcp/objects.js';
import { McpStore } from '../../src/mcp/store.js';
import { ApplySink } from '../../src/runtime/apply-sink.js';
import { ALWAYS_LEADING } from '../../src/runtime/elector.js';
import type { SinkLive } from '../../src/runtime/sink-live.js';
import { StatusWriter } from '../../src/runtime/status-writer.js';
import { KubeApiError, type KubeWriter } from '../../src/store/kubernetes/client.js';

/** A fake API server (a test double) that refuses every request as RBAC would. */
const FAKE_FORBIDDING_API: KubeWriter = { request: () => Promise.reject(new KubeApiError('forbidden (HTTP 403)', 403, 'Forbidden')) };
import { notReadyDiagnostics, readiness } from '../../src/runtime/readiness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const goldenDir = path.join(root, 'test/golden');

/** Codes produced by effects, with an input that produces each. */
const EFFECT_CASES: Partial<Record<Code, () => readonly Diagnostic[] | Promise<readonly Diagnostic[]>>> = {
  MM_INPUT_UNREADABLE: () => loadInputs([path.join(root, 'test/no-such-file.yaml')]).diagnostics,
  MM_SOURCE_STALE: () => reloadWith('kind: [unclosed\n'),
  MM_RESOURCE_LAST_GOOD: () => reloadWith(''),
  // A Kubernetes source whose first list has not been answered yet.
  MM_KUBE_NOT_SYNCED: () => {
    const source = new KubernetesSource({ client: { list: () => new Promise(() => {}), watch: () => ({ stop: () => {} }) }, logger: pino({ level: 'silent' }) });
    source.run();
    try {
      return source.read().diagnostics;
    } finally {
      source.close();
    }
  },
  ...TLS_EFFECT_CASES,
  MM_INPUT_NOT_REGULAR: () => loadInputs(['/dev/null']).diagnostics,
  MM_INPUT_SYMLINK_LOOP: () => {
    const dir = tmpTree({ 'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n' });
    symlinkSync('.', path.join(dir, 'self'));
    return loadInputs([dir]).diagnostics;
  },
  MM_INPUT_TOO_LARGE: () => loadInputs([tmpTree({ 'a.yaml': 'a: 1\n' })], limits({ maxFileBytes: 4 })).diagnostics,
  MM_INPUT_TOO_MANY_DOCUMENTS: () => loadInputs([tmpTree({ 'a.yaml': 'a\n---\nb\n' })], limits({ maxDocuments: 1 })).diagnostics,
  MM_INPUT_ALIAS_EXPANSION: () => loadInputs([tmpTree({ 'a.yaml': 'a: &a [1, 2]\nb: [*a, *a, *a]\n' })], limits({ maxExpandedBytes: 20 })).diagnostics,
  MM_INPUT_TOO_DEEP: () => loadInputs([tmpTree({ 'a.yaml': 'a: {b: {c: 1}}\n' })], limits({ maxDepth: 2 })).diagnostics,
  // The ZooKeeper watcher sizes a node from its Stat with these (test/integration/zookeeper-watch.test.ts).
  MM_ZK_NODE_TOO_LARGE: () => [dataTooLarge('zk', '/a/member_1', DEFAULT_ZK_LIMITS.maxDataBytes + 1, DEFAULT_ZK_LIMITS)!],
  MM_ZK_TOO_MANY_CHILDREN: () => [tooManyChildren('zk', '/a', DEFAULT_ZK_LIMITS.maxChildren + 1, DEFAULT_ZK_LIMITS)!],
  // The MCP sink (serve --mcp) checks what it serves to istiod (test/unit/mcp.test.ts).
  MM_MCP_NOT_SERVED: () => mcpObjects({ serviceEntries: [{ apiVersion: 'v', kind: 'ServiceEntry', metadata: { name: 'a', namespace: '' }, spec: {} }], envoyFilters: [], virtualServices: [] }, { domain: 'cluster.local' }).diagnostics,
  MM_MCP_NOT_ENCODABLE: () => {
    const { objects } = mcpObjects({ serviceEntries: [{ apiVersion: 'v', kind: 'ServiceEntry', metadata: { name: 'a', namespace: 'ns' }, spec: { hosts: ['a.example.com'], wieght: 1 } }], envoyFilters: [], virtualServices: [] }, { domain: 'cluster.local' });
    return new McpStore({ ready: true }).update(objects).diagnostics;
  },
  // The apply sink and the status writer report what the API server refuses (the real refusal, a
  // 403 from RBAC, is in test/e2e/kubernetes-apply.test.ts; here a fake API answers 403).
  MM_SINK_WRITE_FAILED: async () => {
    const live = { inputs: () => [], objects: () => [], wrote: () => {} } as unknown as SinkLive;
    const sink = new ApplySink({ writer: FAKE_FORBIDDING_API, live, gate: ALWAYS_LEADING, logger: pino({ level: 'silent' }) });
    const ef = { apiVersion: 'networking.istio.io/v1', kind: 'EnvoyFilter', metadata: { name: 'a', namespace: 'ns' }, spec: {} };
    return (await sink.pass({ desired: [{ ownership: 'object', object: ef }], inputs: [] })).diagnostics;
  },
  MM_STATUS_WRITE_FAILED: async () => {
    const writer = new StatusWriter({ writer: FAKE_FORBIDDING_API, gate: ALWAYS_LEADING, logger: pino({ level: 'silent' }), fieldManager: 'metamesh' });
    await writer.pass([{ apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'MetaRouter', metadata: { name: 'a', namespace: 'ns', generation: 1 } }], []);
    return writer.currentDiagnostics();
  },
  // serve at its ready timeout with a registry never read (test/integration/metrics-readyz.test.ts).
  MM_SERVE_NOT_READY: () =>
    notReadyDiagnostics(readiness({ serving: true, registries: [{ registry: 'zookeeper://127.0.0.1:1/dubbo', state: 'failing', error: 'refused' }], registriesApplied: false, kinds: [] }), 300_000),
};

/** A watched store that read a valid MetaRouter, then reloaded after the file became `text`. */
function reloadWith(text: string): readonly Diagnostic[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-codes-'));
  const file = path.join(dir, 'a.yaml');
  const store = new DirectoryStore({ paths: [dir], logger: pino({ level: 'silent' }), watch: 'none' });
  try {
    writeFileSync(file, 'apiVersion: metaprotocol.aeraki.io/v1alpha1\nkind: MetaRouter\nmetadata: {name: a, namespace: ns}\nspec:\n  hosts: [a.ns.svc.cluster.local]\n  routes: [{name: r, route: [{destination: {host: a.ns.svc.cluster.local}}]}]\n');
    store.load();
    writeFileSync(file, text);
    return store.load().diagnostics;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function limits(over: Partial<InputLimits>): InputLimits {
  return { ...DEFAULT_INPUT_LIMITS, ...over };
}

function goldenCodes(): Set<string> {
  const codes = new Set<string>();
  for (const stage of readdirSync(goldenDir, { withFileTypes: true })) {
    if (!stage.isDirectory()) continue;
    for (const c of readdirSync(path.join(goldenDir, stage.name))) {
      const text = readFileSync(path.join(goldenDir, stage.name, c, 'out.yaml'), 'utf8');
      for (const m of text.matchAll(/\bcode: (MM_[A-Z0-9_]+)$/gm)) codes.add(m[1]!);
    }
  }
  return codes;
}

test('every code of the catalogue is produced by a golden case or an effect case', () => {
  const golden = goldenCodes();
  const missing = Object.keys(CODES).filter((c) => !golden.has(c) && !Object.hasOwn(EFFECT_CASES, c));
  assert.deepEqual(missing, [], 'add a golden case whose input produces each of these codes');
});

for (const [code, produce] of Object.entries(EFFECT_CASES)) {
  test(`the effect case for ${code} produces it`, async () => {
    const got = (await produce!()).map((d) => d.code);
    assert.ok(got.includes(code as Code), `got ${got.join(', ') || 'nothing'}`);
  });
}

test('golden outputs name only codes of the catalogue', () => {
  const unknown = [...goldenCodes()].filter((c) => !(c in CODES));
  assert.deepEqual(unknown, []);
});
