/**
 * The input of bench/sink.ts, written to a directory: what `metamesh serve` reads there.
 *
 *   registry.json   a `file://` registry snapshot (src/registry/file.ts) of N Dubbo services, each
 *                   `dubbo:/org.bench.Svc<i>` with host `org.bench.svc<i>.api.demoservice` in
 *                   namespace `dubbo-<i mod 50>`, two instances on port 20880 (version v1, v2).
 *                   metamesh generates one ServiceEntry per service (with a VIP it allocates).
 *   manifests/      options.yaml (examples/options.yaml) and the MetaRouters, ROUTERS_PER_FILE to a
 *                   file: one per service, two routes (sayHello to the service, then a catch-all),
 *                   exported to its own namespace and to CONSUMERS (`exportTo: ['.', consumers]`).
 *
 * Why exportTo: a ServiceEntry generated from a registry has no workload selector, so metamesh
 * makes no inbound EnvoyFilter for it (MM_INBOUND_NO_SELECTOR), only the outbound one, and a
 * MetaRouter's routes travel over RDS, not in EnvoyFilters. An outbound EnvoyFilter is written to
 * each namespace the MetaRouter is exported to (src/envoyfilter/host.ts), so two namespaces give
 * two EnvoyFilters per service: N ServiceEntries and 2N + 1 EnvoyFilters (the +1 is the xDS
 * cluster patch), about 20,000 at N = 10,000.
 *
 * The one change the bench makes (`changeRouter`) moves service 0's export from CONSUMERS to
 * CONSUMERS_B: istiod must then hold the outbound EnvoyFilter in CONSUMERS_B and no longer the one
 * in CONSUMERS (one object created, one deleted; nothing else changes).
 */
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const NAMESPACES = 50;
export const ROUTERS_PER_FILE = 500;
export const CONSUMERS = 'consumers';
export const CONSUMERS_B = 'consumers-b';
export const PORT = 20880;

export const hostOf = (i: number): string => `org.bench.svc${i}.api.demoservice`;
export const namespaceOf = (i: number): string => `dubbo-${i % NAMESPACES}`;
/** The namespaces the input uses (for the apply sink they must exist). */
export const namespacesFor = (n: number): string[] => [...Array.from({ length: Math.min(n, NAMESPACES) }, (_, k) => `dubbo-${k}`), CONSUMERS, CONSUMERS_B];

/** The outbound EnvoyFilter's name for service i (src/envoyfilter/names.ts for a host this short). */
export const outboundFilterName = (i: number): string => `metamesh-outbound-${hostOf(i)}-${PORT}`;

function snapshot(n: number): unknown {
  const services = [];
  for (let i = 0; i < n; i++) {
    const a = (i >> 8) & 255;
    const b = i & 255;
    services.push({
      key: `dubbo:/org.bench.Svc${i}`,
      protocol: 'dubbo',
      host: hostOf(i),
      interface: `org.bench.Svc${i}`,
      application: `bench-app-${i}`,
      namespace: namespaceOf(i),
      instances: [
        { address: `10.${a}.${b}.11`, port: PORT, labels: { version: 'v1' } },
        { address: `10.${a}.${b}.12`, port: PORT, labels: { version: 'v2' } },
      ],
    });
  }
  return { services };
}

function router(i: number, exportTo: readonly string[]): string {
  const host = hostOf(i);
  return [
    'apiVersion: metaprotocol.aeraki.io/v1alpha1',
    'kind: MetaRouter',
    `metadata: {name: svc${i}, namespace: ${namespaceOf(i)}}`,
    'spec:',
    `  hosts: [${host}]`,
    `  exportTo: [${exportTo.map((e) => `'${e}'`).join(', ')}]`,
    '  routes:',
    '  - name: hello',
    '    match: {attributes: {method: {exact: sayHello}}}',
    `    route: [{destination: {host: ${host}}}]`,
    '  - name: default',
    `    route: [{destination: {host: ${host}}}]`,
    '',
  ].join('\n');
}

function routerFile(n: number, file: number, changed: boolean): string {
  const docs: string[] = [];
  for (let i = file * ROUTERS_PER_FILE; i < Math.min(n, (file + 1) * ROUTERS_PER_FILE); i++) {
    docs.push(router(i, ['.', changed && i === 0 ? CONSUMERS_B : CONSUMERS]));
  }
  return docs.join('---\n');
}

const routerPath = (dir: string, file: number) => path.join(dir, 'manifests', `metarouters-${String(file).padStart(3, '0')}.yaml`);

export interface SinkInput {
  readonly dir: string;
  readonly registryFile: string;
  readonly manifests: string;
}

/** Writes the input for `n` services into `dir` (which exists). */
export function writeSinkInput(dir: string, n: number, optionsFile: string): SinkInput {
  const manifests = path.join(dir, 'manifests');
  mkdirSync(manifests, { recursive: true });
  copyFileSync(optionsFile, path.join(manifests, 'options.yaml'));
  const registryFile = path.join(dir, 'registry.json');
  writeFileSync(registryFile, JSON.stringify(snapshot(n)));
  for (let f = 0; f * ROUTERS_PER_FILE < n; f++) writeFileSync(routerPath(dir, f), routerFile(n, f, false));
  return { dir, registryFile, manifests };
}

/** Rewrites the file holding service 0's MetaRouter with its export moved (atomically: a rename). */
export function changeRouter(input: SinkInput, n: number, changed = true): void {
  const file = routerPath(input.dir, 0);
  const tmp = path.join(input.dir, 'change.tmp');
  writeFileSync(tmp, routerFile(n, 0, changed));
  renameSync(tmp, file);
}
