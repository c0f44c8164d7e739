/**
 * A real `helm`, built from the Go module pinned in test/helm/go.mod (helm.sh/helm/v3) into
 * `${XDG_CACHE_HOME:-~/.cache}/metamesh-test/helm-<version>/helm` the first time it is needed, the
 * way Helm's Makefile builds its releases (version and default Kubernetes version set by ldflags);
 * nothing is committed but go.mod and go.sum. Used by the chart tests and by
 * `npm run deploy:manifests`. A missing Go is an error that says what to install, never a skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HELM_MODULE_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HELM_MODULE_DIR, '../..');
export const CHART_DIR = path.join(REPO_ROOT, 'deploy/helm/metamesh');

/** The version of a module required in test/helm/go.mod. */
function required(module: string): string {
  const goMod = readFileSync(path.join(HELM_MODULE_DIR, 'go.mod'), 'utf8');
  const m = new RegExp(`^\\s*${module.replace(/[.]/g, '\\.')} (v\\S+)`, 'm').exec(goMod);
  if (!m) throw new Error(`test/helm/go.mod does not require ${module}`);
  return m[1]!;
}

export const HELM_VERSION = required('helm.sh/helm/v3');

export function helmCacheDir(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'metamesh-test', `helm-${HELM_VERSION}`);
}

/**
 * The path of the helm binary, building it first when it is not in the cache. The build goes to a
 * temporary name and is renamed into place, so a concurrent or interrupted build never leaves a
 * half-written binary behind.
 */
export function helmBinary(): string {
  const dir = helmCacheDir();
  const bin = path.join(dir, 'helm');
  if (existsSync(bin)) return bin;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new Error(`Go is needed to build helm ${HELM_VERSION} for the chart tests: install Go 1.26 or newer (https://go.dev/dl/, or the golang package of your distribution) and put \`go\` on the PATH`);
  }
  mkdirSync(dir, { recursive: true });
  // Helm's Makefile sets the default Kubernetes version of `helm template`/`helm lint` from the
  // client-go it was built with (major + 1, since client-go v0.x is Kubernetes 1.x); without it
  // they pretend to talk to Kubernetes 1.20.
  const [, minor] = /^v0\.(\d+)\./.exec(required('k8s.io/client-go')) ?? [];
  if (minor === undefined) throw new Error('test/helm/go.mod: cannot read the version of k8s.io/client-go');
  const ldflags = [
    '-s', '-w',
    `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
    '-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1',
    `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${minor}`,
    '-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1',
    `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${minor}`,
  ].join(' ');
  const tmp = `${bin}.build-${process.pid}`;
  try {
    execFileSync('go', ['build', '-trimpath', '-ldflags', ldflags, '-o', tmp, 'helm.sh/helm/v3/cmd/helm'], {
      cwd: HELM_MODULE_DIR,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, CGO_ENABLED: '0' },
    });
    renameSync(tmp, bin);
  } finally {
    rmSync(tmp, { force: true });
  }
  return bin;
}

export interface HelmResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs helm with `args`, with its caches and configuration kept in a throwaway place. */
export function helm(args: readonly string[]): HelmResult {
  const home = path.join(helmCacheDir(), 'home');
  const r = spawnSync(helmBinary(), [...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      HELM_CACHE_HOME: path.join(home, 'cache'),
      HELM_CONFIG_HOME: path.join(home, 'config'),
      HELM_DATA_HOME: path.join(home, 'data'),
      // `helm template` must never reach a cluster, whatever the environment points at.
      KUBECONFIG: '/dev/null',
    },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
