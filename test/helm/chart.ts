/**
 * Rendering the chart in tests: `helm template` with given values, parsed into plain objects, and
 * the kube-apiserver validation harness (test/conformance/kube) built once per process.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { CHART_DIR, helm, REPO_ROOT, type HelmResult } from './helm.js';

/** A rendered Kubernetes object, as plain data (only what the tests read is typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
}

export interface RenderOptions {
  readonly release?: string;
  readonly namespace?: string;
  /** Values files, in order (paths), then `values` (written to a temporary file). */
  readonly files?: readonly string[];
  readonly values?: Record<string, unknown>;
  readonly includeCrds?: boolean;
  /** Extra helm arguments, e.g. --show-only. */
  readonly args?: readonly string[];
  readonly chart?: string;
}

let scratch: string | undefined;
function scratchDir(): string {
  scratch ??= mkdtempSync(path.join(os.tmpdir(), 'metamesh-helm-'));
  return scratch;
}

let counter = 0;
/** The arguments of `helm template` for `o`. */
function templateArgs(o: RenderOptions): string[] {
  const args = ['template', o.release ?? 'metamesh', o.chart ?? CHART_DIR, '--namespace', o.namespace ?? 'istio-system'];
  for (const f of o.files ?? []) args.push('-f', f);
  if (o.values) {
    const f = path.join(scratchDir(), `values-${++counter}.yaml`);
    writeFileSync(f, stringify(o.values));
    args.push('-f', f);
  }
  if (o.includeCrds) args.push('--include-crds');
  return [...args, ...(o.args ?? [])];
}

export function template(o: RenderOptions = {}): HelmResult {
  return helm(templateArgs(o));
}

export function lint(o: RenderOptions = {}): HelmResult {
  const args = templateArgs(o).slice(3).filter((a, i, all) => a !== '--namespace' && all[i - 1] !== '--namespace');
  return helm(['lint', '--strict', o.chart ?? CHART_DIR, ...args]);
}

/** The rendered text of the chart; throws with helm's message when it does not render. */
export function renderText(o: RenderOptions = {}): string {
  const r = template(o);
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return r.stdout;
}

export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors[0]!.message}`);
      return d.toJSON() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

export function render(o: RenderOptions = {}): K8sObject[] {
  return parseObjects(renderText(o));
}

/** The one object of `kind` (and `name`, when given); throws when there is not exactly one. */
export function one(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

/**
 * NOTES.txt as `helm install` would print it. `helm install --dry-run` needs a cluster, so a copy
 * of the chart gets one more template that includes NOTES.txt (a template like any other, named
 * by its path) into a ConfigMap, rendered alone.
 */
export function notes(o: RenderOptions = {}): string {
  const copy = path.join(scratchDir(), `chart-${++counter}`);
  cpSync(o.chart ?? CHART_DIR, copy, { recursive: true });
  writeFileSync(
    path.join(copy, 'templates/zz-notes.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include "metamesh/templates/NOTES.txt" . | toJson }}\n',
  );
  const [cm] = render({ ...o, chart: copy, args: [...(o.args ?? []), '--show-only', 'templates/zz-notes.yaml'] });
  return cm!.data.notes as string;
}

export const FULL_VALUES = path.join(REPO_ROOT, 'test/helm/values-full.yaml');

const KUBECHECK_DIR = path.join(REPO_ROOT, 'test/conformance/kube');
let kubecheckBin: string | undefined;

/** Builds test/conformance/kube (cached by Go's build cache) and returns the binary. */
export function kubecheck(): string {
  if (kubecheckBin) return kubecheckBin;
  const dir = path.join(REPO_ROOT, '.tmp/conformance');
  mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, 'kubecheck');
  execFileSync('go', ['build', '-trimpath', '-o', bin, '.'], { cwd: KUBECHECK_DIR, stdio: ['ignore', 'inherit', 'inherit'] });
  kubecheckBin = bin;
  return bin;
}

/** Runs the validation harness on a manifest stream; its output and exit status. */
export function runKubecheck(text: string): { status: number | null; output: string } {
  const f = path.join(scratchDir(), `manifests-${++counter}.yaml`);
  writeFileSync(f, text);
  const r = spawnSync(kubecheck(), ['-f', f], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
