/** Helpers for CLI tests: run `main` with captured output (once, or until a server listens), and write small manifest fixtures. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export async function runCli(...argv: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

/**
 * Runs `main(argv)` for a command that may start a server (`serve`). Were the server to start, it
 * is stopped as soon as it reports its addresses, so a wrong start-up fails the test instead of
 * hanging it.
 */
export async function runUntilListening(...argv: string[]): Promise<CliRun> {
  const stop = new AbortController();
  let out = '';
  let err = '';
  const io = {
    out: (s: string) => {
      out += s;
      if (s.includes(' on ')) setImmediate(() => stop.abort());
    },
    err: (s: string) => (err += s),
  };
  const code = await main(argv, io, stop.signal);
  return { code, out, err };
}

/** A fresh temporary directory holding `files` (name → text; names may contain `/`). */
export function tmpTree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'metamesh-cli-'));
  for (const [name, text] of Object.entries(files)) {
    const f = path.join(dir, name);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
  }
  return dir;
}

/** A Dubbo ServiceEntry with subsets v1 and v2 in a DestinationRule: a service rules can target. */
export const DUBBO_SERVICE = `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: demo, namespace: dubbo, annotations: {workloadSelector: demo}}
spec:
  hosts: [demo.dubbo.example]
  addresses: [240.240.0.10]
  ports: [{number: 20880, name: tcp-metaprotocol-dubbo, protocol: TCP}]
  resolution: STATIC
  endpoints: [{address: 10.0.1.11, labels: {version: v1}}, {address: 10.0.1.12, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: demo, namespace: dubbo}
spec:
  host: demo.dubbo.example
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

/** A MetaRouter for `host` sending method sayHello to `subset` (any apiVersion, for the group tests). */
export function metaRouter(host: string, subset: string, apiVersion = 'metaprotocol.aeraki.io/v1alpha1'): string {
  return `apiVersion: ${apiVersion}
kind: MetaRouter
metadata: {name: demo, namespace: dubbo}
spec:
  hosts: [${host}]
  routes:
  - name: canary
    match: {attributes: {method: {exact: sayHello}}}
    route: [{destination: {host: ${host}, subset: ${subset}}}]
`;
}
