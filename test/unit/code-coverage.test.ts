/**
 * Every diagnostic code is produced by some test input, not merely named in src/: by a golden case
 * (its out.yaml lists the diagnostic), or, for the few codes only effectful code can produce (files
 * that cannot be read), by a case below that produces it here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadInputs } from '../../src/cli/files.js';
import { CODES, type Code } from '../../src/model/codes.js';
import type { Diagnostic } from '../../src/model/diagnostics.js';
import { DirectoryStore } from '../../src/store/directory.js';
import { TLS_EFFECT_CASES } from '../support/tls-cases.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const goldenDir = path.join(root, 'test/golden');

/** Codes produced by effects, with an input that produces each. */
const EFFECT_CASES: Partial<Record<Code, () => readonly Diagnostic[]>> = {
  MM_INPUT_UNREADABLE: () => loadInputs([path.join(root, 'test/no-such-file.yaml')]).diagnostics,
  MM_SOURCE_STALE: () => reloadWith('kind: [unclosed\n'),
  MM_RESOURCE_LAST_GOOD: () => reloadWith(''),
  ...TLS_EFFECT_CASES,
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
  test(`the effect case for ${code} produces it`, () => {
    const got = produce!().map((d) => d.code);
    assert.ok(got.includes(code as Code), `got ${got.join(', ') || 'nothing'}`);
  });
}

test('golden outputs name only codes of the catalogue', () => {
  const unknown = [...goldenCodes()].filter((c) => !(c in CODES));
  assert.deepEqual(unknown, []);
});
