/**
 * The CRD examples are checked against the CRD schemas by the Go apiextensions code
 * (test/conformance/crd). Here the same examples go through metamesh's own decoder and validator:
 * both layers must agree on what is valid, so a MetaRouter accepted by the cluster is applied by
 * metamesh and one the cluster would refuse is never silently applied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYaml, readResources } from '../../src/input/read.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { build } from '../../src/pipeline/build.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../crds/examples');
const builtins = loadBuiltinProtocols();

function errorsOf(file: string): string[] {
  const parsed = parseYaml(readFileSync(file, 'utf8'), path.basename(file));
  const read = readResources(parsed.documents);
  const out = build(read.config, builtins, [...parsed.diagnostics, ...read.diagnostics]);
  return out.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`);
}

for (const kind of ['valid', 'invalid'] as const) {
  for (const f of readdirSync(path.join(dir, kind)).filter((f) => f.endsWith('.yaml')).sort()) {
    test(`${kind} CRD example ${f} is ${kind === 'valid' ? 'accepted' : 'rejected'} by metamesh too`, () => {
      const errors = errorsOf(path.join(dir, kind, f));
      if (kind === 'valid') assert.deepEqual(errors, []);
      else assert.ok(errors.length > 0, 'metamesh reported no error');
    });
  }
}
