/**
 * A real Kubernetes control plane for the e2e tests: etcd + kube-apiserver (built by
 * kube-build.ts), on free loopback ports, in a temp directory, with RBAC on and two users in a
 * token file — `admin` (system:masters) and the ServiceAccount istio-system/metamesh (no rights
 * but what RBAC grants it) — a
 * kubeconfig for each, service-account keys (ES256, from openssl), and the CRDs installed: the
 * project's (MetaRouter, ApplicationProtocol) and Istio's networking.istio.io ones.
 *
 * The API server can be stopped (SIGKILL, like a crash, or SIGTERM) and started again on the same
 * port and data; etcd keeps running. Every wait polls with a deadline; nothing sleeps and hopes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ensureKubeBinaries, istioCrdsFile, PROJECT_CRDS } from './kube-build.js';

export interface KubeCluster {
  readonly dir: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** kubeconfig of the admin user (system:masters). */
  readonly kubeconfig: string;
  /**
   * kubeconfig of the ServiceAccount istio-system/metamesh (a token of the token file, so no
   * controller is needed), whose rights are only what RBAC grants it.
   */
  readonly readerKubeconfig: string;
  readonly adminToken: string;
  /** A client-node KubeConfig of the admin user. */
  readonly kc: k8s.KubeConfig;
  readonly objects: k8s.KubernetesObjectApi;
  /** Stops the API server: `kill` (SIGKILL, a crash) or a graceful SIGTERM. etcd keeps running. */
  stopApiserver(how?: 'kill' | 'term'): Promise<void>;
  /** Starts the API server again, on the same port and data, and waits until it is ready (nothing if it runs). */
  startApiserver(): Promise<void>;
  /** Applies YAML (server-side apply, strict field validation) as the admin. */
  apply(yaml: string): Promise<void>;
  /** Deletes the objects of a YAML stream (missing ones are fine). */
  remove(yaml: string): Promise<void>;
  /** Stops everything and removes the temp directory. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Which Istio CRDs to install, by plural.group (default: every networking.istio.io one). */
  readonly istioCrds?: (name: string) => boolean;
  readonly log?: (line: string) => void;
}

const READY_TIMEOUT_MS = 90_000;

export async function startKube(opts: StartOptions = {}): Promise<KubeCluster> {
  const log = opts.log ?? (() => {});
  const bins = await ensureKubeBinaries(log);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-kube-'));
  const procs: { etcd?: ChildProcess; apiserver?: ChildProcess } = {};
  const cleanup = async () => {
    await Promise.all([killAndWait(procs.apiserver), killAndWait(procs.etcd)]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [etcdClient, etcdPeer, apiPort] = await freePorts(3);
    // --- etcd ---
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    procs.etcd = spawnLogged(bins.etcd, [
      '--name', 'e2e', '--data-dir', path.join(dir, 'etcd'),
      '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `e2e=${peerUrl}`, '--unsafe-no-fsync', '--log-level', 'warn',
    ], path.join(dir, 'etcd.log'));
    await pollUntil('etcd /health', READY_TIMEOUT_MS, procs.etcd, async () => (await httpGet(`${etcdUrl}/health`)).body.includes('"health":"true"'));

    // --- credentials ---
    const pki = path.join(dir, 'pki');
    mkdirSync(pki);
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path.join(pki, 'sa.key')]);
    execFileSync('openssl', ['ec', '-in', path.join(pki, 'sa.key'), '-pubout', '-out', path.join(pki, 'sa.pub')], { stdio: 'ignore' });
    const adminToken = randomBytes(16).toString('hex');
    const readerToken = randomBytes(16).toString('hex');
    // The second user is who metamesh's ServiceAccount istio-system/metamesh authenticates as.
    const sa = `${readerToken},system:serviceaccount:istio-system:metamesh,metamesh-uid,"system:serviceaccounts,system:serviceaccounts:istio-system"`;
    writeFileSync(path.join(dir, 'tokens.csv'), `${adminToken},admin,admin-uid,"system:masters"\n${sa}\n`, { mode: 0o600 });

    // --- kube-apiserver ---
    const args = [
      '--etcd-servers', etcdUrl,
      '--bind-address', '127.0.0.1', '--advertise-address', '127.0.0.1', '--secure-port', String(apiPort),
      // Without this it tries to reconcile the `kubernetes` Service endpoints and exits on loopback.
      '--endpoint-reconciler-type', 'none',
      '--cert-dir', pki,
      '--token-auth-file', path.join(dir, 'tokens.csv'),
      '--authorization-mode', 'RBAC',
      '--service-account-issuer', 'https://kubernetes.default.svc.cluster.local',
      '--service-account-key-file', path.join(pki, 'sa.pub'),
      '--service-account-signing-key-file', path.join(pki, 'sa.key'),
      // /16: examples/thrift.yaml's Service has clusterIP 10.96.12.34.
      '--service-cluster-ip-range', '10.96.0.0/16',
      // Without it a stop with a watch open takes 60 s.
      '--shutdown-watch-termination-grace-period', '2s',
    ];
    const server = `https://127.0.0.1:${apiPort}`;
    const apiLog = path.join(dir, 'apiserver.log');
    const ca = () => readFileSync(path.join(pki, 'apiserver.crt'));
    const startApiserver = async () => {
      if (procs.apiserver && procs.apiserver.exitCode === null && procs.apiserver.signalCode === null) return;
      const started = Date.now();
      procs.apiserver = spawnLogged(bins.apiserver, args, apiLog);
      const proc = procs.apiserver;
      await pollUntil('kube-apiserver /readyz', READY_TIMEOUT_MS, proc, async () => {
        const r = await httpGet(`${server}/readyz`, { ca: ca(), token: adminToken }).catch(() => undefined);
        return r?.status === 200;
      });
      log(`kube-apiserver ready in ${Date.now() - started} ms`);
    };
    await startApiserver();

    const kubeconfig = writeKubeconfig(dir, 'admin', server, path.join(pki, 'apiserver.crt'), adminToken);
    const readerKubeconfig = writeKubeconfig(dir, 'metamesh', server, path.join(pki, 'apiserver.crt'), readerToken);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    strictFieldValidation(objects);
    const apply = async (yaml: string) => {
      for (const o of k8s.loadAllYaml(yaml) as k8s.KubernetesObject[]) {
        if (!o) continue;
        await objects.patch(o, undefined, undefined, 'metamesh-e2e', true, k8s.PatchStrategy.ServerSideApply);
      }
    };
    const remove = async (yaml: string) => {
      for (const o of k8s.loadAllYaml(yaml) as k8s.KubernetesObject[]) {
        if (!o) continue;
        await objects.delete(o).catch((e: unknown) => {
          if ((e as { code?: number }).code !== 404) throw e;
        });
      }
    };

    // --- CRDs ---
    const wanted = opts.istioCrds ?? ((name: string) => name.endsWith('.networking.istio.io'));
    const istio = (k8s.loadAllYaml(readFileSync(istioCrdsFile(), 'utf8')) as k8s.V1CustomResourceDefinition[]).filter((c) => c?.metadata?.name && wanted(c.metadata.name));
    const project = PROJECT_CRDS.flatMap((f) => k8s.loadAllYaml(readFileSync(f, 'utf8')) as k8s.V1CustomResourceDefinition[]);
    await installCrds(kc, [...project, ...istio]);
    log(`kube-apiserver ready at ${server} (${dir})`);

    return {
      dir,
      server,
      kubeconfig,
      readerKubeconfig,
      adminToken,
      kc,
      objects,
      apply,
      remove,
      stopApiserver: async (how = 'kill') => {
        const p = procs.apiserver;
        procs.apiserver = undefined;
        await killAndWait(p, how === 'kill' ? 'SIGKILL' : 'SIGTERM');
      },
      startApiserver,
      stop: cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * Unknown fields are refused instead of silently dropped (the API server only warns by default),
 * so a test object with a typo fails the test instead of testing something else.
 */
function strictFieldValidation(api: k8s.KubernetesObjectApi): void {
  const config = (api as unknown as { configuration: { middleware: unknown[] } }).configuration;
  config.middleware.push({
    pre: (ctx: { setQueryParam(k: string, v: string): void; getHttpMethod(): string }) => {
      if (ctx.getHttpMethod() === 'PATCH' || ctx.getHttpMethod() === 'POST' || ctx.getHttpMethod() === 'PUT') ctx.setQueryParam('fieldValidation', 'Strict');
      return new k8s.Observable(Promise.resolve(ctx));
    },
    post: (rsp: unknown) => new k8s.Observable(Promise.resolve(rsp)),
  });
}

async function installCrds(kc: k8s.KubeConfig, crds: readonly k8s.V1CustomResourceDefinition[]): Promise<void> {
  const api = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  for (const crd of crds) {
    await objects.patch(crd as k8s.KubernetesObject, undefined, undefined, 'metamesh-e2e', true, k8s.PatchStrategy.ServerSideApply);
  }
  for (const crd of crds) {
    const name = crd.metadata!.name!;
    await pollUntil(`CRD ${name} Established`, 60_000, undefined, async () => {
      const got = await api.readCustomResourceDefinition({ name });
      return (got.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
    });
  }
}

function writeKubeconfig(dir: string, user: string, server: string, caFile: string, token: string): string {
  const file = path.join(dir, `kubeconfig-${user}.yaml`);
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: e2e`,
    `  cluster: {server: "${server}", certificate-authority: "${caFile}"}`,
    'users:',
    `- name: ${user}`,
    `  user: {token: "${token}"}`,
    'contexts:',
    `- name: e2e-${user}`,
    `  context: {cluster: e2e, user: ${user}, namespace: default}`,
    `current-context: e2e-${user}`,
    '',
  ].join('\n');
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

/** Starts `bin` with stdout and stderr appended to `logFile`; dies with the test process group. */
function spawnLogged(bin: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn(bin, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

/** Sends `signal` and waits for the exit (SIGKILL after 30 s). */
export async function killAndWait(p: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  p.kill(signal);
  const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(t);
}

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export async function pollUntil(what: string, timeoutMs: number, proc: ChildProcess | undefined, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (proc && (proc.exitCode !== null || proc.signalCode !== null)) throw new Error(`${what}: the process exited (${proc.exitCode ?? proc.signalCode}) before it was ready`);
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function httpGet(url: string, opts: { ca?: Buffer; token?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, { method: 'GET', ca: opts.ca, headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {}, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
