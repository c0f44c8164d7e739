/**
 * `metamesh serve` as its own process (src/cli/main.ts under tsx), on a fixed loopback xDS port so
 * that it can be killed (SIGKILL, like a crash) and started again where istiod's `configSources`
 * entry points. Waits for the start line on stdout and then for /readyz 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './kube-build.js';
import { freePorts, killAndWait, pollUntil } from './kube.js';

export interface MetameshProcess {
  readonly xdsAddress: string;
  readonly httpAddress: string;
  /** SIGKILL. */
  kill(): Promise<void>;
  /** Starts it again with the same arguments and waits until it is ready. */
  start(): Promise<void>;
  logText(): string;
  /** GET /debug/xds (loopback: no token needed). */
  debugXds(): Promise<unknown>;
}

/**
 * `args` are serve's flags besides the addresses (e.g. ['--mcp', '--kubeconfig', k, '-f', dir]).
 * `logFile` collects stdout and stderr (JSON log lines).
 */
export async function startMetamesh(args: readonly string[], logFile: string, readyTimeoutMs = 120_000): Promise<MetameshProcess> {
  const [xdsPort, httpPort] = await freePorts(2);
  const xdsAddress = `127.0.0.1:${xdsPort}`;
  const httpAddress = `127.0.0.1:${httpPort}`;
  const argv = ['serve', '--xds-address', xdsAddress, '--http-address', httpAddress, ...args];
  const main = path.join(repoRoot, 'src/cli/main.ts');
  const script = `const m = await import(${JSON.stringify(main)}); process.exitCode = await m.main(${JSON.stringify(argv)});`;
  let proc: ChildProcess | undefined;

  const start = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) return;
    const fd = openSync(logFile, 'a');
    try {
      proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const p = proc;
    await pollUntil('metamesh serve /readyz', readyTimeoutMs, p, async () => (await fetch(`http://${httpAddress}/readyz`, { signal: AbortSignal.timeout(5000) })).status === 200);
  };

  const kill = async () => {
    const p = proc;
    proc = undefined;
    await killAndWait(p);
  };

  try {
    await start();
  } catch (e) {
    await kill();
    throw new Error(`${(e as Error).message}\nmetamesh log (tail):\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
  }
  return {
    xdsAddress,
    httpAddress,
    kill,
    start,
    logText: () => readFileSync(logFile, 'utf8'),
    debugXds: async () => (await fetch(`http://${httpAddress}/debug/xds`, { signal: AbortSignal.timeout(5000) })).json(),
  };
}
