/**
 * Golden tests. Layout: test/golden/<stage>/<case>/in.yaml and out.yaml (what that stage produces
 * for it, as YAML, diagnostics included). Each stage reads what the stage before it produces:
 *
 *   input, detect, resolve, pipeline   in.yaml = Kubernetes manifests (multi-document)
 *   routes, envoyfilters               in.yaml = the resolve stage's output (`hosts:` HostModels and
 *                                      `gateway:` GatewayModel), plus `options:` (a MetameshOptions
 *                                      spec) for envoyfilters
 *   registry-zookeeper                 in.yaml = `tree:` a ZkTree (node path → data, what the
 *                                      ZooKeeper watcher reads) and `options:` (ZkParseOptions);
 *                                      out.yaml = the RegistrySnapshot
 *   catalog, serviceentries            in.yaml = plain data of the registry side; see
 *                                      test/support/golden-registry.ts
 *   explain                            in.yaml = `queries:` (hosts or namespace/metarouter) and
 *                                      `manifests:` (a list of Kubernetes manifests); out.yaml = the
 *                                      Explanation of each query, from the engine's PipelineState
 *   registry-nacos                     in.yaml = a NacosRead (`services:`, `mappings:`, as the Nacos
 *                                      watcher read them, `unreadServices:`) plus NacosParseOptions (`registry:`,
 *                                      `protocols:`, `maxInstancesPerService:`)
 *   vips, sink-plan, status, lease     in.yaml = plain data of running in a cluster; see
 *                                      test/support/golden-cluster.ts
 *
 * Every case is run once as written and three more times with its input shuffled (the documents,
 * or the models' hosts and gateway listeners; seeded, the seed is in the test name): the output must
 * be byte-identical each time.
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
import { parse as parseYamlValue, stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { normalizeDiagnostics } from '../../src/model/diagnostics.js';
import { parseYaml, readResources, type SourceDocument } from '../../src/input/read.js';
import { build, createEngine } from '../../src/pipeline/build.js';
import { byObjectKey } from '../../src/pipeline/assemble.js';
import { outputDocument } from '../../src/pipeline/document.js';
import { resolveOptions } from '../../src/config/options.js';
import type { GatewayModel, HostModel } from '../../src/model/host.js';
import { buildHostRoutes } from '../../src/route/host.js';
import { buildGatewayRoutes } from '../../src/route/gateway.js';
import { buildHostEnvoyFilters } from '../../src/envoyfilter/host.js';
import { buildGatewayObjects } from '../../src/envoyfilter/gateway.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';
import { detectKubeService, detectServiceEntry } from '../../src/protocol/detect.js';
import { buildProtocolTable } from '../../src/protocol/table.js';
import { shuffled } from '../support/random.js';
import { parseZkTree } from '../../src/registry/zookeeper/parse.js';
import type { ZkParseOptions } from '../../src/registry/zookeeper/options.js';
import { REGISTRY_STAGES, type DataStage } from '../support/golden-registry.js';
import { CLUSTER_STAGES } from '../support/golden-cluster.js';
import { parseNacos } from '../../src/registry/nacos/parse.js';
import type { NacosParseOptions, NacosRead } from '../../src/registry/nacos/read.js';
import { explain } from '../../src/explain/explain.js';

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

/** The input of the stages after resolve: the resolve stage's output, plus options. */
interface Models {
  options?: unknown;
  hosts?: HostModel[];
  gateway?: GatewayModel;
}

/**
 * The input of the explain stage: queries and manifests. `order` (never written in in.yaml) is the
 * shuffle's permutation of the manifests; each keeps the source name of its place in in.yaml.
 */
interface ExplainCase {
  queries: string[];
  manifests: unknown[];
  order?: number[];
}

function explainCase(input: ExplainCase) {
  const manifests = input.manifests ?? [];
  const documents: SourceDocument[] = (input.order ?? manifests.map((_, i) => i)).map((i) => ({ source: `${SOURCE}#${i + 1}`, value: manifests[i] }));
  const r = readResources(documents);
  const state = createEngine(r.config, builtins, r.diagnostics).state();
  return (input.queries ?? []).map((q) => explain(q, state));
}

/** The input of a registry parser: what its watcher read, and how to parse it. */
interface RegistryCase {
  options: ZkParseOptions;
  /** Node path → data; a node without data is written with an empty value. */
  tree: Record<string, string | null>;
}

type Stage =
  | { kind: 'manifests'; run: (input: Parsed) => unknown }
  | { kind: 'models'; run: (input: Models) => unknown }
  // Plain data of the registry side (test/support/golden-registry.ts), with its own shuffle.
  | DataStage<any>;

function read(input: Parsed) {
  const r = readResources(input.documents);
  return { config: r.config, diagnostics: [...input.parseDiagnostics, ...r.diagnostics] };
}

function pipeline(input: Parsed) {
  const r = read(input);
  return build(r.config, builtins, r.diagnostics);
}

function modelOptions(input: Models) {
  const diagnostics: ReturnType<typeof parseYaml>['diagnostics'] = [];
  const options = resolveOptions(input.options, 'MetameshOptions', diagnostics);
  assert.deepEqual(diagnostics, [], 'the options of a golden case must be valid');
  return options;
}

/** What each stage produces, as the object written to out.yaml. */
const STAGES: Record<string, Stage> = {
  // readResources: the ConfigSet and the input diagnostics (in the pipeline's order: sorted).
  input: {
    kind: 'manifests',
    run: (input) => {
      const r = read(input);
      return { config: r.config, diagnostics: normalizeDiagnostics(r.diagnostics) };
    },
  },
  // Protocol table + detectServiceEntry/detectKubeService for every service of the ConfigSet.
  detect: {
    kind: 'manifests',
    run: (input) => {
      const { config } = read(input);
      const t = buildProtocolTable(builtins, config.applicationProtocols);
      const domain = config.options.domain;
      const services = [
        ...config.serviceEntries.map((se) => ({ resource: `ServiceEntry ${se.metadata.namespace}/${se.metadata.name}`, ...detectServiceEntry(se, t.table) })),
        ...config.services.map((s) => ({ resource: `Service ${s.metadata.namespace}/${s.metadata.name}`, ...detectKubeService(s, t.table, domain) })),
      ].map(({ resource, service, needsVip, diagnostics }) => ({ resource, needsVip, service: service ?? null, diagnostics: normalizeDiagnostics(diagnostics) }));
      return { protocolDiagnostics: normalizeDiagnostics(t.diagnostics), services };
    },
  },
  // The HostModels and the GatewayModel: what the route and EnvoyFilter stages read.
  resolve: {
    kind: 'manifests',
    run: (input) => {
      const r = read(input);
      const models = createEngine(r.config, builtins).models();
      return { hosts: models.hosts, gateway: models.gateway };
    },
  },
  routes: {
    kind: 'models',
    run: (input) => {
      const built = [...(input.hosts ?? []).map(buildHostRoutes), ...(input.gateway ? [buildGatewayRoutes(input.gateway)] : [])];
      return {
        routes: built.flatMap((b) => [...b.routes.values()]).sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1)),
        diagnostics: normalizeDiagnostics(built.flatMap((b) => b.diagnostics)),
      };
    },
  },
  envoyfilters: {
    kind: 'models',
    run: (input) => {
      const options = modelOptions(input);
      const hosts = (input.hosts ?? []).map((h) => buildHostEnvoyFilters(h, options));
      const gateway = input.gateway ? buildGatewayObjects(input.gateway, options) : { envoyFilters: [], virtualServices: [] };
      return {
        envoyFilters: [...hosts.flatMap((h) => h.envoyFilters), ...gateway.envoyFilters].sort(byObjectKey),
        virtualServices: [...gateway.virtualServices].sort(byObjectKey),
        diagnostics: normalizeDiagnostics(hosts.flatMap((h) => h.diagnostics)),
      };
    },
  },
  // The ZooKeeper parsers; the tree is read in the order in.yaml lists it (shuffled below).
  'registry-zookeeper': {
    kind: 'data',
    run: (input: RegistryCase) => parseZkTree(new Map(Object.entries(input.tree ?? {}).map(([p, d]) => [p, d ?? ''])), input.options),
    shuffle: (input: RegistryCase, seed: number) => ({ ...input, tree: Object.fromEntries(shuffled(Object.entries(input.tree ?? {}), seed)) }),
  } satisfies DataStage<RegistryCase>,
  // parseNacos: a Nacos server's services and mappings → RegistrySnapshot.
  'registry-nacos': {
    kind: 'data',
    run: (input: NacosRead & NacosParseOptions) => parseNacos(input, input),
    shuffle: (input: NacosRead & NacosParseOptions, seed: number) => ({
      ...input,
      services: shuffled(input.services ?? [], seed),
      ...(input.mappings ? { mappings: shuffled(input.mappings, seed + 1) } : {}),
    }),
  } satisfies DataStage<NacosRead & NacosParseOptions>,
  // explain(query, Engine.state()) for each query: the facts, sentences and diagnostics.
  explain: {
    kind: 'data',
    run: explainCase,
    shuffle: (input: ExplainCase, seed: number) => ({ ...input, order: shuffled((input.manifests ?? []).map((_, i) => i), seed) }),
  } satisfies DataStage<ExplainCase>,
  // Exactly the document `metamesh generate` prints (checked against the CLI below).
  pipeline: {
    kind: 'manifests',
    run: (input) => outputDocument(pipeline(input)),
  },
  ...REGISTRY_STAGES,
  ...CLUSTER_STAGES,
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

type CaseInput = { kind: 'manifests'; value: Parsed } | { kind: 'models'; value: Models } | { kind: 'data'; value: unknown };

function parseCase(c: Case): CaseInput {
  const text = readFileSync(path.join(c.dir, 'in.yaml'), 'utf8');
  if (STAGES[c.stage]!.kind === 'models') return { kind: 'models', value: (parseYamlValue(text) ?? {}) as Models };
  if (STAGES[c.stage]!.kind === 'data') return { kind: 'data', value: parseYamlValue(text) ?? {} };
  const p = parseYaml(text, SOURCE);
  return { kind: 'manifests', value: { documents: p.documents, parseDiagnostics: p.diagnostics } };
}

function run(c: Case, input: CaseInput): string {
  const stage = STAGES[c.stage]!;
  if (stage.kind === 'data') return toYaml(stage.run(input.value));
  return toYaml(stage.kind === 'models' ? stage.run(input.value as Models) : stage.run(input.value as Parsed));
}

function shuffleInput(c: Case, input: CaseInput, seed: number): CaseInput {
  const stage = STAGES[c.stage]!;
  if (input.kind === 'data') return { kind: 'data', value: stage.kind === 'data' ? stage.shuffle(input.value, seed) : input.value };
  if (input.kind === 'manifests') return { kind: 'manifests', value: { ...input.value, documents: shuffled(input.value.documents, seed) } };
  const m = input.value;
  return {
    kind: 'models',
    value: {
      ...m,
      ...(m.hosts ? { hosts: shuffled(m.hosts, seed) } : {}),
      ...(m.gateway ? { gateway: { ...m.gateway, listeners: shuffled(m.gateway.listeners, seed + 1) } } : {}),
    },
  };
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
          const actual = run(c, shuffleInput(c, base, seed));
          assert.equal(actual, expected);
        });
      }

      const stage = STAGES[c.stage]!;
      if (stage.kind === 'data' && stage.check) {
        const check = stage.check;
        it('meets the stage\'s own requirements', () => check(parseCase(c).value));
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
