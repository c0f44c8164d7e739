/**
 * Runs the whole pipeline on YAML text, as `metamesh generate` does, and reads pieces of the
 * output back: route tables, their routes, and the MetaProtocol proxy configs inside EnvoyFilters.
 */
import { parseYaml, readResources } from '../../src/input/read.js';
import { build } from '../../src/pipeline/build.js';
import type { PipelineOutput } from '../../src/pipeline/types.js';
import { loadBuiltinProtocols } from '../../src/protocol/builtin.js';

export type Json = Record<string, unknown>;

/** The Dubbo demo service most unit tests route: host, and its ServiceEntry (port 20880, selector). */
export const DUBBO_HOST = 'org.apache.dubbo.samples.basic.api.demoservice';
export const DUBBO_SE = `
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: demoservice, namespace: meta-dubbo}
spec:
  hosts: [${DUBBO_HOST}]
  addresses: [240.240.0.1]
  ports:
  - {number: 20880, name: tcp-metaprotocol-dubbo, protocol: TCP}
  resolution: STATIC
  workloadSelector: {labels: {app: dubbo-sample-provider}}
`;

const builtins = loadBuiltinProtocols();

export function generate(...documents: string[]): PipelineOutput {
  const parsed = parseYaml(documents.join('\n---\n'), 'test.yaml');
  const read = readResources(parsed.documents);
  return build(read.config, builtins, [...parsed.diagnostics, ...read.diagnostics]);
}

/** The routes of the RDS table `name`; throws if there is no such table. */
export function routesOf(out: PipelineOutput, name: string): Json[] {
  const table = out.routes.find((r) => r.name === name);
  if (!table) throw new Error(`no route table ${name}; tables: ${out.routes.map((r) => r.name).join(', ')}`);
  return (table.virtualHosts as Json[])[0]!.routes as Json[];
}

/** The MetaProtocol proxy config of the first NETWORK_FILTER patch of EnvoyFilter `name`. */
export function proxyConfig(out: PipelineOutput, name: string): Json {
  const ef = out.envoyFilters.find((e) => e.metadata.name === name);
  if (!ef) throw new Error(`no EnvoyFilter ${name}`);
  const patch = (ef.spec.configPatches as Json[]).find((p) => p.applyTo === 'NETWORK_FILTER')!;
  return (((patch.patch as Json).value as Json).typed_config as Json).value as Json;
}

export function codesOf(out: PipelineOutput): string[] {
  return out.diagnostics.map((d) => d.code).sort();
}
