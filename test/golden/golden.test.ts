/**
 * Golden tests. Layout: test/golden/<stage>/<case>/in.yaml (multi-document input) and out.yaml
 * (what that stage produces for it, as YAML). Every case is run once as written and three more
 * times with its input documents shuffled (seeded; the seed is in the test name): the output must be
 * byte-identical each time.
 *
 *   METAMESH_UPDATE_GOLDEN=1 node --import tsx --test test/golden/golden.test.ts
 *
 * rewrites every out.yaml instead of comparing. Orphans (a case directory without in.yaml, a stage
 * directory that is not a known stage, stray files) fail the run.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { normalizeDiagnostics } from '../../src/model/diagnostics.js';
import { parseYaml, readResources, type SourceDocument } from '../../src/input/read.js';
import { build } from '../../src/pipeline/build.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { detectKubeService, detectServiceEntry } from '../../src/protocol/detect.js';
import { buildProtocolTable } from '../../src/protocol/table.js';
import { mulberry32 } from '../support/random.js';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const UPDATE = process.env.METAMESH_UPDATE_GOLDEN === '1';
const SHUFFLES = 3;
/** The source name documents get in every stage, so goldens do not depend on the checkout path. */
const SOURCE = 'in.yaml';
const ROOT_FILES = new Set(['golden.test.ts']);
const CASE_FILES = new Set(['in.yaml', 'out.yaml']);

const builtins = loadBuiltinProtocols();

function toYaml(x: unknown): string {
  return stringify(x, { lineWidth: 0, aliasDuplicateObjects: false });
}

interface Parsed {
  documents: SourceDocument[];
  parseDiagnostics: ReturnType<typeof parseYaml>['diagnostics'];
}

type Stage = (input: Parsed) => unknown;

function read(input: Parsed) {
  const r = readResources(input.documents);
  return { config: r.config, diagnostics: [...input.parseDiagnostics, ...r.diagnostics] };
}

function pipeline(input: Parsed) {
  const r = read(input);
  return build(r.config, builtins, r.diagnostics);
}

/** What each stage produces, as the object written to out.yaml. */
const STAGES: Record<string, Stage> = {
  // readResources: the ConfigSet and the input diagnostics (in the pipeline's order: sorted).
  input: (input) => {
    const r = read(input);
    return { config: r.config, diagnostics: normalizeDiagnostics(r.diagnostics) };
  },
  // Protocol table + detectServiceEntry/detectKubeService for every service of the ConfigSet.
  detect: (input) => {
    const { config } = read(input);
    const t = buildProtocolTable(builtins, config.applicationProtocols);
    const domain = config.options.domain;
    const services = [
      ...config.serviceEntries.map((se) => ({ resource: `ServiceEntry ${se.metadata.namespace}/${se.metadata.name}`, ...detectServiceEntry(se, t.table) })),
      ...config.services.map((s) => ({ resource: `Service ${s.metadata.namespace}/${s.metadata.name}`, ...detectKubeService(s, t.table, domain) })),
    ].map(({ resource, service, needsVip, diagnostics }) => ({ resource, needsVip, service: service ?? null, diagnostics: normalizeDiagnostics(diagnostics) }));
    return { protocolDiagnostics: normalizeDiagnostics(t.diagnostics), services };
  },
  routes: (input) => ({ routes: pipeline(input).routes }),
  envoyfilters: (input) => {
    const out = pipeline(input);
    return { envoyFilters: out.envoyFilters, virtualServices: out.virtualServices, serviceEntries: out.serviceEntries };
  },
  // Exactly the document `metamesh generate` prints (checked against the CLI below).
  pipeline: (input) => {
    const out = pipeline(input);
    return {
      serviceEntries: out.serviceEntries,
      envoyFilters: out.envoyFilters,
      virtualServices: out.virtualServices,
      routes: out.routes,
      diagnostics: out.diagnostics,
    };
  },
};

// --- seeded shuffling ---------------------------------------------------------------------------


function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rnd = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// --- discovery ----------------------------------------------------------------------------------

interface Case {
  stage: string;
  name: string;
  dir: string;
}

function discover(): { cases: Case[]; orphans: string[] } {
  const cases: Case[] = [];
  const orphans: string[] = [];
  for (const stage of readdirSync(ROOT).sort()) {
    const stageDir = path.join(ROOT, stage);
    if (!statSync(stageDir).isDirectory()) {
      if (!ROOT_FILES.has(stage)) orphans.push(`${stage}: a stray file (expected only stage directories)`);
      continue;
    }
    if (!Object.hasOwn(STAGES, stage)) {
      orphans.push(`${stage}/: not a known stage (${Object.keys(STAGES).join(', ')})`);
      continue;
    }
    const names = readdirSync(stageDir).sort();
    if (names.length === 0) orphans.push(`${stage}/: a stage directory with no cases`);
    for (const name of names) {
      const dir = path.join(stageDir, name);
      if (!statSync(dir).isDirectory()) {
        orphans.push(`${stage}/${name}: a stray file (expected case directories)`);
        continue;
      }
      const files = readdirSync(dir);
      for (const f of files) if (!CASE_FILES.has(f)) orphans.push(`${stage}/${name}/${f}: unexpected file (only in.yaml and out.yaml)`);
      if (!files.includes('in.yaml')) {
        orphans.push(`${stage}/${name}/: a case without in.yaml`);
        continue;
      }
      cases.push({ stage, name, dir });
    }
  }
  return { cases, orphans };
}

function parseCase(c: Case): Parsed {
  const text = readFileSync(path.join(c.dir, 'in.yaml'), 'utf8');
  const p = parseYaml(text, SOURCE);
  return { documents: p.documents, parseDiagnostics: p.diagnostics };
}

function run(c: Case, input: Parsed): string {
  return toYaml(STAGES[c.stage]!(input));
}

const { cases, orphans } = discover();

describe('golden', () => {
  it('layout has no orphans (every case has in.yaml, every stage directory is a known stage)', () => {
    assert.deepEqual(orphans, []);
  });

  it('has cases', () => {
    assert.ok(cases.length >= 20, `expected at least 20 golden cases, found ${cases.length}`);
  });

  for (const c of cases) {
    describe(`${c.stage}/${c.name}`, () => {
      const outPath = path.join(c.dir, 'out.yaml');

      it('matches out.yaml', () => {
        const actual = run(c, parseCase(c));
        if (UPDATE) {
          writeFileSync(outPath, actual);
          return;
        }
        assert.ok(existsSync(outPath), `${c.stage}/${c.name}/out.yaml is missing; run with METAMESH_UPDATE_GOLDEN=1`);
        assert.equal(actual, readFileSync(outPath, 'utf8'));
      });

      for (let i = 1; i <= SHUFFLES; i++) {
        const seed = fnv1a(`${c.stage}/${c.name}#${i}`);
        it(`is byte-identical with documents shuffled (seed ${seed})`, () => {
          const base = parseCase(c);
          const expected = run(c, base);
          const actual = run(c, { documents: shuffled(base.documents, seed), parseDiagnostics: base.parseDiagnostics });
          assert.equal(actual, expected);
        });
      }

      if (c.stage === 'pipeline') {
        it('equals what `metamesh generate -f in.yaml` prints, byte for byte', async () => {
          // Run from the case directory so the CLI names the documents "in.yaml#<n>" like the goldens.
          const cwd = process.cwd();
          let stdout = '';
          try {
            process.chdir(c.dir);
            await main(['generate', '-f', SOURCE], { out: (s) => (stdout += s), err: () => {} });
          } finally {
            process.chdir(cwd);
          }
          assert.equal(stdout, run(c, parseCase(c)));
        });
      }
    });
  }
});
