/**
 * Helpers of the apply-sink e2e tests (kubernetes-apply.test.ts, leader-election.test.ts): the
 * chart's RBAC as rendered by `helm template`, what `metamesh generate` prints for the objects in the
 * cluster, what the cluster holds of metamesh's objects, and waits with deadlines.
 */
import { stringify } from 'yaml';
import { main } from '../../../src/cli/main.js';
import { HttpKubeClient } from '../../../src/store/kubernetes/http-client.js';
import { loadKubeConfig } from '../../../src/store/kubernetes/config.js';
import { render } from '../../helm/chart.js';

const RBAC_KINDS = new Set(['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']);

/**
 * The Roles, ClusterRoles and their bindings the chart renders for release `metamesh` in
 * istio-system (so for the ServiceAccount istio-system/metamesh the e2e cluster authenticates) with
 * these features on, as one YAML stream.
 */
export function chartRbac(features: { kubernetes?: boolean; apply?: boolean; status?: boolean; leaderElection?: boolean }): string {
  const values = {
    // One replica: the chart refuses several writing replicas without leader election.
    replicas: 1,
    sources: { kubernetes: { enabled: features.kubernetes ?? false } },
    sinks: { apply: { enabled: features.apply ?? false } },
    status: { enabled: features.status ?? false },
    leaderElection: { enabled: features.leaderElection ?? false },
  };
  const objects = render({ release: 'metamesh', namespace: 'istio-system', values }).filter((o) => RBAC_KINDS.has(o.kind));
  return objects.map((o) => stringify(o)).join('---\n');
}

export type Json = Record<string, any>;

/** `metamesh generate -f <dir> -o json`, parsed. */
export async function generateJson(dir: string): Promise<{ serviceEntries: Json[]; envoyFilters: Json[]; virtualServices: Json[]; diagnostics: Json[] }> {
  let out = '';
  let err = '';
  const code = await main(['generate', '-f', dir, '-o', 'json'], { out: (s) => (out += s), err: (s) => (err += s) });
  if (code !== 0 && out === '') throw new Error(`metamesh generate failed (${code}): ${err}`);
  return JSON.parse(out) as never;
}

/** An admin client over the project's own HTTP client (lists with a label selector, single GETs). */
export function adminClient(kubeconfig: string): HttpKubeClient {
  const loaded = loadKubeConfig(kubeconfig);
  if ('error' in loaded) throw new Error(loaded.error);
  return new HttpKubeClient(loaded.kc);
}

export const OURS = 'app.kubernetes.io/managed-by=metamesh';

/** Every object of a networking.istio.io kind, all namespaces, optionally by label. */
export async function listIstio(admin: HttpKubeClient, plural: string, labelSelector?: string): Promise<Json[]> {
  // Istio serves EnvoyFilter at v1alpha3 only.
  const version = plural === 'envoyfilters' ? 'v1alpha3' : 'v1';
  // A CRD's watch cache answers 429 "storage is (re)initializing" for a moment after it changes.
  for (let attempt = 0; ; attempt++) {
    try {
      const page = await admin.list(`/apis/networking.istio.io/${version}/${plural}`, labelSelector ? { labelSelector } : {});
      return page.items as Json[];
    } catch (e) {
      if ((e as { status?: number }).status !== 429 || attempt >= 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export async function getObject(admin: HttpKubeClient, path: string): Promise<Json | undefined> {
  try {
    return (await admin.request({ method: 'GET', path })) as Json;
  } catch (e) {
    if ((e as { status?: number }).status === 404) return undefined;
    throw e;
  }
}

export const key = (o: Json): string => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;

/** Polls `cond` every 100 ms until it holds (or returns without throwing), failing after `timeoutMs`. */
export async function eventually(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await cond()) return;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Compares like deepEqual and returns true (for eventually()), throwing the difference otherwise. */
export function same(assertDeepEqual: (a: unknown, b: unknown, m?: string) => void, a: unknown, b: unknown, m?: string): boolean {
  assertDeepEqual(a, b, m);
  return true;
}
