/**
 * The binaries and data the e2e tests need, built or fetched with the Go toolchain from the Go
 * module proxy and cached outside the repo, keyed by version:
 *
 *   ${XDG_CACHE_HOME:-~/.cache}/metamesh-test/kube-apiserver-<version>/kube-apiserver
 *   ${XDG_CACHE_HOME:-~/.cache}/metamesh-test/etcd-<version>/etcd
 *
 * built from the scratch modules under test/e2e/kube/ (their go.mod pins the versions: the one
 * place to change them), and Istio's CRDs read from the istio.io/api module in the Go module cache.
 * A cold kube-apiserver build takes about 450 CPU-seconds (8 to 13 minutes on two busy cores); a
 * cached binary costs nothing. Several processes may ask at once (test files run in parallel; CI
 * builds up front): one builds, under a lock directory, the others wait for it.
 *
 * Run directly (`node --import tsx test/e2e/support/kube-build.ts`) it builds whatever is missing
 * and prints the paths: what .ci/run does before the e2e tests.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const modulesDir = path.join(repoRoot, 'test/e2e/kube');

export function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'metamesh-test');
}

/** The version a scratch module's go.mod requires of `module`. */
export function pinnedVersion(moduleDir: string, module: string): string {
  const text = readFileSync(path.join(modulesDir, moduleDir, 'go.mod'), 'utf8');
  const m = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[.]/g, '\\.')}\\s+(v\\S+)`, 'm').exec(text);
  if (!m) throw new Error(`test/e2e/kube/${moduleDir}/go.mod does not require ${module}`);
  return m[1]!;
}

export const KUBE_VERSION = pinnedVersion('kube-apiserver', 'k8s.io/kubernetes');
export const ETCD_VERSION = pinnedVersion('etcd', 'go.etcd.io/etcd/server/v3');
export const ISTIO_API_VERSION = pinnedVersion('istio-crds', 'istio.io/api');

export interface KubeBinaries {
  readonly apiserver: string;
  readonly etcd: string;
}

/** Fails, never skips: the e2e tests are part of the suite. */
export function requireGo(): string {
  try {
    return execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'the e2e tests build kube-apiserver and etcd from Go modules and need the Go toolchain (1.26 or newer) on PATH: ' +
        'install it from https://go.dev/dl/ (or `apt-get install golang-go` where that is recent enough)',
    );
  }
}

export interface BuildSpec {
  readonly name: string;
  readonly version: string;
  /** A directory under test/e2e/kube/, or an absolute module directory. */
  readonly moduleDir: string;
  readonly target: string;
  readonly ldflags: string;
  /** Where the binary goes (default: binaryPath(name, version)). */
  readonly out?: string;
}

function specs(): BuildSpec[] {
  return [
    { name: 'etcd', version: ETCD_VERSION, moduleDir: 'etcd', target: '.', ldflags: '-s -w' },
    {
      name: 'kube-apiserver',
      version: KUBE_VERSION,
      moduleDir: 'kube-apiserver',
      target: 'k8s.io/kubernetes/cmd/kube-apiserver',
      // Without gitVersion the binary reports v0.0.0, and clients that check the server version balk.
      ldflags: `-s -w -X k8s.io/component-base/version.gitVersion=${KUBE_VERSION} -X k8s.io/component-base/version.gitMajor=${KUBE_VERSION.split('.')[0]!.slice(1)} -X k8s.io/component-base/version.gitMinor=${KUBE_VERSION.split('.')[1]}`,
    },
  ];
}

export function binaryPath(name: string, version: string): string {
  return path.join(cacheRoot(), `${name}-${version}`, name);
}

/** Builds what is missing (in parallel) and returns the paths of both binaries. */
export async function ensureKubeBinaries(log: (line: string) => void = () => {}): Promise<KubeBinaries> {
  const all = specs();
  const missing = all.filter((s) => !existsSync(binaryPath(s.name, s.version)));
  if (missing.length > 0) {
    requireGo();
    await Promise.all(missing.map((s) => build(s, log)));
  }
  return { etcd: binaryPath('etcd', ETCD_VERSION), apiserver: binaryPath('kube-apiserver', KUBE_VERSION) };
}

/** A build lock older than this whose owner is gone is taken over. */
const LOCK_POLL_MS = 2000;

/** Builds one binary into the cache unless it is there; one process builds, others wait for it. */
export async function build(s: BuildSpec, log: (line: string) => void): Promise<void> {
  const out = s.out ?? binaryPath(s.name, s.version);
  const dir = path.dirname(out);
  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, '.building');
  for (;;) {
    if (existsSync(out)) return;
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (!lockOwnerAlive(lock)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }
  try {
    if (existsSync(out)) return;
    const tmp = `${out}.tmp-${process.pid}`;
    const started = Date.now();
    log(`building ${s.name} ${s.version} into ${dir} (minutes, once)`);
    await run('go', ['build', '-trimpath', '-ldflags', s.ldflags, '-o', tmp, s.target], path.resolve(modulesDir, s.moduleDir));
    renameSync(tmp, out);
    log(`built ${s.name} ${s.version} in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function lockOwnerAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
  } catch {
    // Just created, pid not written yet: alive, unless it has been like this for a while.
    try {
      return Date.now() - statSync(lock).mtimeMs < 60_000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-8000);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} in ${cwd} exited ${code}:\n${err}`))));
  });
}

/** Istio's CRDs (every kind of every Istio API group), from the istio.io/api module: one YAML stream. */
export function istioCrdsFile(): string {
  requireGo();
  const json = execFileSync('go', ['mod', 'download', '-json', 'istio.io/api'], { cwd: path.join(modulesDir, 'istio-crds'), encoding: 'utf8' });
  const dir = (JSON.parse(json) as { Dir?: string; Error?: string }).Dir;
  if (!dir) throw new Error(`go mod download istio.io/api@${ISTIO_API_VERSION} gave no directory: ${json}`);
  const file = path.join(dir, 'kubernetes', 'customresourcedefinitions.gen.yaml');
  if (!existsSync(file)) throw new Error(`istio.io/api@${ISTIO_API_VERSION} has no ${file}`);
  return file;
}

/** The project's own CRDs (MetaRouter, ApplicationProtocol). */
export const PROJECT_CRDS = [path.join(repoRoot, 'crds/metarouter.yaml'), path.join(repoRoot, 'crds/applicationprotocol.yaml')];

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const log = (line: string) => console.log(`kube-build: ${line}`);
  log(requireGo());
  const b = await ensureKubeBinaries(log);
  log(`kube-apiserver ${KUBE_VERSION}: ${b.apiserver}`);
  log(`etcd ${ETCD_VERSION}: ${b.etcd}`);
  log(`Istio CRDs (istio.io/api ${ISTIO_API_VERSION}): ${istioCrdsFile()}`);
}
