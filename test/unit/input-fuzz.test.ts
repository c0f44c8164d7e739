/**
 * A seeded fuzz test of the YAML reader (parseYaml, then readResources): real manifests mutated
 * (truncated, bytes flipped, YAML punctuation inserted, lines repeated), random documents, deep
 * nesting and alias ladders. For every input the reader must return without throwing, say
 * something (documents or diagnostics), and stay within the limits in the work it hands on: no
 * more documents than the limit, values no larger than the expansion limit allows, no deeper than
 * the depth limit, no cycles. The bound is on work done, never on wall-clock time.
 *
 * METAMESH_FUZZ_SEED=<n> runs one other seed (to explore); failures name the seed and the input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYaml, readResources } from '../../src/input/read.js';
import type { InputLimits } from '../../src/input/limits.js';
import { CODES } from '../../src/model/codes.js';
import { DUBBO_SERVICE, metaRouter } from '../support/cli.js';
import { mulberry32 } from '../support/random.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LIMITS: InputLimits = { maxFileBytes: 8 * 1024, maxDocuments: 40, maxExpandedBytes: 16 * 1024, maxDepth: 24 };
const INPUTS_PER_SEED = 300;
const SEEDS = process.env.METAMESH_FUZZ_SEED ? [Number(process.env.METAMESH_FUZZ_SEED)] : [1, 2, 3];

const corpus = [
  ...readdirSync(path.join(root, 'examples')).map((f) => readFileSync(path.join(root, 'examples', f), 'utf8')),
  DUBBO_SERVICE,
  metaRouter('demo.dubbo.example', 'v2'),
];
const PUNCTUATION = ['[', ']', '{', '}', ':', ': ', '- ', '---\n', '&a ', '*a', '&b ', '*b', '!!str ', '!x ', '|\n', '>-\n', "'", '"', '#', '%YAML 1.2\n', '? ', ',', '\t', '\n', '  ', '\\', '\u0000', '\ufeff', 'é', '<<: *a\n'];

type Rand = () => number;
const pick = <T>(rand: Rand, list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
const int = (rand: Rand, n: number) => Math.floor(rand() * n);

function mutate(rand: Rand, text: string): string {
  let s = text;
  for (let n = 1 + int(rand, 4); n > 0; n--) {
    const at = int(rand, s.length + 1);
    switch (int(rand, 5)) {
      case 0: s = s.slice(0, at); break; // truncated, as by a half-written save
      case 1: { // a byte flipped
        const code = s.charCodeAt(Math.min(at, s.length - 1)) ^ (1 << int(rand, 7));
        s = s.slice(0, at) + String.fromCharCode(code) + s.slice(at + 1);
        break;
      }
      case 2: s = s.slice(0, at) + pick(rand, PUNCTUATION) + s.slice(at); break;
      case 3: { // a line repeated
        const lines = s.split('\n');
        const i = int(rand, lines.length);
        lines.splice(i, 0, ...Array<string>(1 + int(rand, 5)).fill(lines[i] ?? ''));
        s = lines.join('\n');
        break;
      }
      default: s = s.slice(0, at) + s.slice(at + int(rand, 40)); // a run deleted
    }
  }
  return s;
}

function randomDocument(rand: Rand, depth = 0): string {
  if (depth > 3 || rand() < 0.3) return pick(rand, ['x', '1', '-2.5e3', 'true', 'null', '~', '""', "'q'", '0x1F', '.inf', '*a', '&a v']);
  const n = int(rand, 4);
  const items = Array.from({ length: n }, () => randomDocument(rand, depth + 1) + (rand() < 0.5 ? '' : `: ${randomDocument(rand, depth + 1)}`));
  return rand() < 0.5 ? `[${items.join(', ')}]` : `{${items.map((it, i) => (it.includes(':') ? it : `k${i}: ${it}`)).join(', ')}}`;
}

function deepNesting(rand: Rand): string {
  const n = 10 + int(rand, 5000);
  return rand() < 0.5 ? `${'['.repeat(n)}x${']'.repeat(n)}\n` : `${Array.from({ length: Math.min(n, 400) }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n')} x\n`;
}

/** A ladder of anchors, each a list of aliases to the one before: expands like width^height. */
function aliasLadder(rand: Rand): string {
  const width = 2 + int(rand, 9);
  const height = 2 + int(rand, 12);
  const lines = ['a0: &a0 [lol]'];
  for (let i = 1; i <= height; i++) lines.push(`a${i}: &a${i} [${Array<string>(width).fill(`*a${i - 1}`).join(', ')}]`);
  if (rand() < 0.3) lines.push('self: &s [*s]');
  return `${lines.join('\n')}\n`;
}

function input(rand: Rand): string {
  switch (int(rand, 6)) {
    case 0: return pick(rand, corpus);
    case 1:
    case 2: return mutate(rand, pick(rand, corpus));
    case 3: return Array.from({ length: 1 + int(rand, 60) }, () => randomDocument(rand)).join('\n---\n');
    case 4: return deepNesting(rand);
    default: return mutate(rand, aliasLadder(rand));
  }
}

/** Depth and about the JSON size of a value, stopping once either is over `limit` (a cycle is). */
function measure(value: unknown, limit: { depth: number; size: number }): { depth: number; size: number } {
  let size = 0;
  let depth = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0 && depth <= limit.depth && size <= limit.size) {
    const [v, d] = stack.pop()!;
    if (v !== null && typeof v === 'object') {
      depth = Math.max(depth, d);
      size += 2;
      for (const [k, child] of Object.entries(v)) {
        size += k.length + 4;
        stack.push([child, d + 1]);
      }
    } else {
      size += String(v).length + 2;
    }
  }
  return { depth, size };
}

const known = new Set(Object.keys(CODES));
/** What the generators are for: each of these must come up, or the fuzzing has gone blind. */
const EXPECTED = ['MM_INPUT_YAML_SYNTAX', 'MM_INPUT_TOO_LARGE', 'MM_INPUT_TOO_MANY_DOCUMENTS', 'MM_INPUT_ALIAS_EXPANSION', 'MM_INPUT_TOO_DEEP'];

for (const seed of SEEDS) {
  test(`seed ${seed}: ${INPUTS_PER_SEED} random and mutated inputs never throw and stay within the limits`, () => {
    const rand = mulberry32(seed);
    const seen = new Set<string>();
    for (let i = 0; i < INPUTS_PER_SEED; i++) {
      const text = input(rand);
      const where = `seed ${seed}, input ${i}: ${JSON.stringify(text.slice(0, 160))}`;
      let parsed: ReturnType<typeof parseYaml>;
      try {
        parsed = parseYaml(text, 'fuzz.yaml', LIMITS);
      } catch (e) {
        assert.fail(`parseYaml threw (${(e as Error).message}) on ${where}`);
      }
      assert.ok(parsed.documents.length + parsed.diagnostics.length > 0, `nothing returned for ${where}`);
      assert.ok(parsed.documents.length <= LIMITS.maxDocuments, where);
      for (const d of parsed.diagnostics) {
        seen.add(d.code);
        assert.ok(known.has(d.code), `unknown code ${d.code} for ${where}`);
        assert.ok(d.message.length > 0 && d.object.startsWith('fuzz.yaml'), where);
      }
      let size = 0;
      for (const doc of parsed.documents) {
        const m = measure(doc.value, { depth: LIMITS.maxDepth, size: 4 * LIMITS.maxExpandedBytes });
        assert.ok(m.depth <= LIMITS.maxDepth, `depth over the limit for ${where}`);
        size += m.size;
      }
      assert.ok(size <= 4 * LIMITS.maxExpandedBytes, `${size} expanded bytes handed on for ${where}`);
      try {
        readResources(parsed.documents);
      } catch (e) {
        assert.fail(`readResources threw (${(e as Error).message}) on ${where}`);
      }
    }
    assert.deepEqual(EXPECTED.filter((c) => !seen.has(c)), [], 'codes the generators never produced');
  });
}
