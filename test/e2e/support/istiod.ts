/**
 * A real istiod (pilot-discovery, built by istiod-build.ts) for the e2e tests, on free loopback
 * ports, in a temp directory, against the test kube-apiserver (support/kube.ts): istiod needs a
 * Kubernetes API even when its config comes from elsewhere (with no registry it panics at start).
 *
 * Where istiod reads Istio config is the caller's: `configSources` of its mesh config, e.g.
 * `[{address: 'xds://127.0.0.1:<metamesh>'}, {address: 'k8s://'}]` for metamesh's MCP sink, or
 * `[{address: 'k8s://'}]` for objects applied to the API server. The same listener checks then run
 * against either path. istiod can be killed (SIGKILL) and started again with the same config.
 *
 * proxy() asks istiod for what one proxy gets (the ADS client of istiod-build.ts, as pilot-agent
 * would ask). Every wait polls with a deadline; nothing sleeps and hopes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureIstiodBinaries, type IstiodBinaries } from './istiod-build.js';
import { freePorts, killAndWait, pollUntil } from './kube.js';
import type { ProxyConfigDump } from './listeners.js';

export interface ConfigSource {
  readonly address: string;
  readonly tlsSettings?: Readonly<Record<string, unknown>>;
}

export interface IstiodOptions {
  /** kubeconfig of a user allowed to read (and write, for its leader election) everything. */
  readonly kubeconfig: string;
  readonly configSources: readonly ConfigSource[];
  /** istiod's revision (REVISION): it takes config labelled istio.io/rev with it, or unlabelled. Default: default. */
  readonly revision?: string;
  readonly log?: (line: string) => void;
}

/** The proxy asking: a sidecar of a pod (or WorkloadEntry) at `ip`, or a gateway (`router`). */
export interface ProxySpec {
  readonly type?: 'sidecar' | 'router';
  readonly ip: string;
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly serviceAccount?: string;
}

export interface Istiod {
  readonly dir: string;
  /** Plaintext xDS (what sidecars and the ADS client use), host:port. */
  readonly grpcAddress: string;
  /** /ready, /debug/*, host:port. */
  readonly httpAddress: string;
  /** What `proxy` gets from istiod now (rejects when istiod does not answer within the client's timeout). */
  proxy(p: ProxySpec): Promise<ProxyConfigDump>;
  /** istiod's /debug/configz: every config object it holds. */
  configz(): Promise<Array<{ kind: string; metadata: { namespace: string; name: string } }>>;
  /** The lines of istiod's log so far. */
  logText(): string;
  /** SIGKILL, like a crash. */
  kill(): Promise<void>;
  /** Starts it again with the same config and ports and waits for /ready. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 120_000;

/** Starts istiod and waits until /ready answers 200 (which needs every config source answered). */
export async function startIstiod(opts: IstiodOptions): Promise<Istiod> {
  const istiod = await createIstiod(opts);
  try {
    await istiod.start();
  } catch (e) {
    const log = istiod.logText();
    await istiod.stop();
    throw new Error(`${(e as Error).message}\nistiod log (tail):\n${log.slice(-4000)}`);
  }
  return istiod;
}

/** Prepares istiod without starting it: start() then starts it (and may fail, e.g. source unreachable). */
export async function createIstiod(opts: IstiodOptions): Promise<Istiod> {
  const log = opts.log ?? (() => {});
  const bins = await ensureIstiodBinaries(log);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-istiod-'));
  // Sidecar injection reads its templates from ./var/lib/istio/inject; empty, it stays off.
  mkdirSync(path.join(dir, 'var/lib/istio/inject'), { recursive: true });
  const mesh = {
    rootNamespace: 'istio-system',
    trustDomain: 'cluster.local',
    ingressControllerMode: 'OFF',
    configSources: opts.configSources.map((s) => ({ ...s })),
  };
  // As JSON: istiod reads YAML 1.1, where an unquoted OFF is false.
  writeFileSync(path.join(dir, 'mesh.yaml'), JSON.stringify(mesh, null, 2));
  const [httpPort, grpcPort, monitoringPort] = await freePorts(3);
  const httpAddress = `127.0.0.1:${httpPort}`;
  const grpcAddress = `127.0.0.1:${grpcPort}`;
  const logFile = path.join(dir, 'istiod.log');
  const args = [
    'discovery',
    '--registries=Kubernetes', `--kubeconfig=${opts.kubeconfig}`,
    `--meshConfig=${path.join(dir, 'mesh.yaml')}`, '--networksConfig=/dev/null',
    `--httpAddr=${httpAddress}`, `--grpcAddr=${grpcAddress}`, `--monitoringAddr=127.0.0.1:${monitoringPort}`,
    // No TLS servers (no CA here) and no ControlZ port.
    '--secureGRPCAddr=', '--httpsAddr=', '--ctrlz_port=0',
    '--domain=cluster.local', '--log_output_level=default:info',
  ];
  const env = {
    ...process.env,
    POD_NAMESPACE: 'istio-system',
    POD_NAME: 'istiod-e2e',
    REVISION: opts.revision ?? 'default',
    CLUSTER_ID: 'Kubernetes',
    ENABLE_CA_SERVER: 'false',
    PILOT_ENABLE_ANALYSIS: 'false',
  };
  let proc: ChildProcess | undefined;

  const start = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) return;
    const fd = openSync(logFile, 'a');
    try {
      proc = spawn(bins.pilotDiscovery, args, { cwd: dir, env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const p = proc;
    await pollUntil('istiod /ready', READY_TIMEOUT_MS, p, async () => (await fetch(`http://${httpAddress}/ready`, { signal: AbortSignal.timeout(5000) })).status === 200);
    log(`istiod ready at ${grpcAddress} (${dir})`);
  };

  const kill = async () => {
    const p = proc;
    proc = undefined;
    await killAndWait(p);
  };

  return {
    dir,
    grpcAddress,
    httpAddress,
    proxy: (p) => queryProxy(bins, grpcAddress, p),
    configz: async () => {
      const res = await fetch(`http://${httpAddress}/debug/configz`, { signal: AbortSignal.timeout(10_000) });
      if (res.status !== 200) throw new Error(`istiod /debug/configz: ${res.status}`);
      return (await res.json()) as Awaited<ReturnType<Istiod['configz']>>;
    },
    logText: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    kill,
    start,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function queryProxy(bins: IstiodBinaries, grpcAddress: string, p: ProxySpec): Promise<ProxyConfigDump> {
  const args = [
    '-addr', grpcAddress,
    '-type', p.type ?? 'sidecar',
    '-ip', p.ip,
    '-name', p.name,
    '-namespace', p.namespace,
    '-labels', JSON.stringify(p.labels ?? {}),
    '-service-account', p.serviceAccount ?? 'default',
    '-istio-version', bins.release,
    '-timeout', '20s',
  ];
  return new Promise((resolve, reject) => {
    execFile(bins.adsClient, args, { maxBuffer: 256 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) {
        // Exit 3: istiod sent what the client cannot decode; asking again will not help.
        const fatal = (err as { code?: unknown }).code === 3;
        return reject(Object.assign(new Error(`adsclient for ${p.name}.${p.namespace}: ${stderr.trim() || err.message}`), { fatal }));
      }
      try {
        resolve(JSON.parse(stdout) as ProxyConfigDump);
      } catch (e) {
        reject(new Error(`adsclient for ${p.name}.${p.namespace} printed no JSON: ${(e as Error).message}`));
      }
    });
  });
}
