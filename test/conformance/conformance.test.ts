/**
 * Runs the independent Go conformance checks from the Node test runner, so `npm test` covers them:
 *  - the harness's own tests (good input passes, each broken input fails for its stated reason);
 *  - `metamesh generate -o json` on examples/ and on every golden pipeline case, checked against
 *    the official istio.io/api, go-control-plane and MetaProtocol Go types;
 *  - `metamesh generate -o manifests` on the same inputs, read as `kubectl apply -f -` would
 *    (harness -manifests: YAML stream, strict envelope, known kinds only, the same spec checks);
 *  - a deliberately broken copy of real output, which must fail (the check can fail);
 *  - the CRD schemas and their examples, with the apiextensions-apiserver validation code.
 * Go is required (installed by .ci/run); its modules come from the Go module proxy.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const envoyDir = path.join(root, 'test/conformance/envoy');
const crdDir = path.join(root, 'test/conformance/crd');
const work = path.join(root, '.tmp/conformance');
const harness = path.join(work, 'harness');

async function generate(format: 'json' | 'manifests', ...files: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(['generate', '-o', format, ...files.flatMap((f) => ['-f', f])], {
    out: (s) => (out += s),
    err: () => {},
  });
  return { code, out };
}

async function generateJson(...files: string[]): Promise<{ code: number; json: string }> {
  const { code, out } = await generate('json', ...files);
  return { code, json: out };
}

function runHarness(doc: string, name: string, mode: 'document' | 'manifests' = 'document'): { status: number | null; output: string } {
  const file = path.join(work, `${name.replace(/[^a-z0-9]+/gi, '_')}.${mode === 'document' ? 'json' : 'yaml'}`);
  writeFileSync(file, doc);
  const r = spawnSync(harness, ['-q', ...(mode === 'manifests' ? ['-manifests'] : []), '-f', file], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

before(() => {
  mkdirSync(work, { recursive: true });
  execFileSync('go', ['build', '-o', harness, '.'], { cwd: envoyDir, stdio: 'inherit' });
});

test('the Go harness passes its good fixture and fails every broken one', () => {
  const r = spawnSync('go', ['test', './...'], { cwd: envoyDir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('generate output for examples/ conforms to the official Go types', async () => {
  const { code, json } = await generateJson(path.join(root, 'examples'));
  assert.equal(code, 0);
  const r = runHarness(json, 'examples');
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /conformance: \d+ objects checked, 0 failures/);
});

test('generate output for every golden pipeline case conforms', async (t) => {
  const cases = path.join(root, 'test/golden/pipeline');
  const dirs = existsSync(cases) ? readdirSync(cases).sort() : [];
  assert.ok(dirs.length > 0, 'no golden pipeline cases found');
  for (const dir of dirs) {
    await t.test(dir, async () => {
      const { json } = await generateJson(path.join(cases, dir, 'in.yaml'));
      const r = runHarness(json, `golden-${dir}`);
      assert.equal(r.status, 0, r.output);
    });
  }
});

test('the harness rejects real output broken in one place', async () => {
  const { json } = await generateJson(path.join(root, 'examples'));
  const doc = JSON.parse(json) as { envoyFilters: { metadata: { labels: Record<string, string> }; spec: any }[] };
  const outbound = doc.envoyFilters.find((ef) => ef.metadata.labels['metamesh.io/role'] === 'outbound')!;
  delete outbound.spec.configPatches[0].patch.value.typed_config.value.statPrefix;
  const r = runHarness(JSON.stringify(doc), 'broken');
  assert.equal(r.status, 1, r.output);
  assert.match(r.output, /stat_?prefix/i);
});

test('generate -o manifests for examples/ is accepted as a manifest stream', async () => {
  const { code, out } = await generate('manifests', path.join(root, 'examples'));
  assert.equal(code, 0);
  const r = runHarness(out, 'examples-manifests', 'manifests');
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /^conformance: 11 objects checked, 0 failures$/m);
});

test('generate -o manifests for every golden pipeline case is accepted as a manifest stream', async (t) => {
  const cases = path.join(root, 'test/golden/pipeline');
  for (const dir of readdirSync(cases).sort()) {
    await t.test(dir, async () => {
      const { out } = await generate('manifests', path.join(cases, dir, 'in.yaml'));
      const r = runHarness(out, `golden-manifests-${dir}`, 'manifests');
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /^conformance: \d+ objects checked, 0 failures$/m);
    });
  }
});

test('the harness rejects a real manifest stream broken in one place', async () => {
  const { out } = await generate('manifests', path.join(root, 'examples'));
  const broken = out.replace(/^  namespace: video\n/m, '');
  assert.notEqual(broken, out);
  const r = runHarness(broken, 'broken-manifests', 'manifests');
  assert.equal(r.status, 1, r.output);
  assert.match(r.output, /metadata\.namespace: must be non-empty/);
});

test('CRD schemas are valid and their examples are accepted or rejected as labelled', () => {
  const r = spawnSync('go', ['test', './...'], { cwd: crdDir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
