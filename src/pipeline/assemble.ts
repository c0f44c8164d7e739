/**
 * Output assembly: turns the Engine's per-host and gateway results into the full, sorted
 * PipelineOutput. Pure: reads what it is given, returns new objects, never changes the Engine.
 *
 * Besides gathering, it adds what only the whole picture decides:
 * - the xDS-cluster EnvoyFilter, once, when any outbound patch exists (with MM_MESH_WIDE_OUTBOUND
 *   when proxySelector is empty);
 * - MM_DESTINATIONRULE_CONFLICT for every DestinationRule that loses its host to another;
 * - MM_SERVICE_VIP_ALLOCATED and the ServiceEntries with allocated virtual IPs.
 * Everything is sorted, so equal input gives byte-identical output.
 */
import { diag, normalizeDiagnostics, cmp, type Diagnostic } from '../model/diagnostics.js';
import type { Options } from '../model/options.js';
import { ROLE_LABEL, SOURCE_ANNOTATION, type OutputObject } from '../model/output.js';
import type * as R from '../model/resources.js';
import type { Detected } from '../protocol/detect.js';
import type { JsonObject } from '../route/wire.js';
import { xdsClusterEnvoyFilter } from '../envoyfilter/build.js';
import type { HostOutput } from './host.js';
import type { GatewayStageOutput } from './gateway.js';
import { objKey, type PipelineOutput } from './types.js';
import { ALLOCATED_ADDRESS_ANNOTATION } from '../serviceentry/address.js';


export interface AssembleInput {
  readonly options: Options;
  /** Diagnostics not tied to a host: input, protocol table, VIP allocation. */
  readonly diagnostics: readonly Diagnostic[];
  readonly detected: Iterable<Pick<Detected, 'diagnostics'>>;
  readonly routers: Iterable<{ readonly diagnostics: readonly Diagnostic[] }>;
  readonly hosts: Iterable<HostOutput>;
  readonly gateway: GatewayStageOutput | undefined;
  /** Host → keys of the DestinationRules that target it. */
  readonly rulesByHost: Iterable<[string, ReadonlySet<string>]>;
  /** The DestinationRule that applies to a host (precedence already decided). */
  readonly destinationRule: (host: string) => R.DestinationRule | undefined;
  /** ServiceEntry key → allocated virtual IP. */
  readonly vips: ReadonlyMap<string, string>;
  /** The keys of `vips` that kept an address allocated earlier. */
  readonly vipsKept: ReadonlySet<string>;
  readonly serviceEntries: ReadonlyMap<string, R.ServiceEntry>;
}

export function assembleOutput(input: AssembleInput): PipelineOutput {
  const routes: JsonObject[] = [];
  const envoyFilters: OutputObject[] = [];
  const diagnostics: Diagnostic[] = [...input.diagnostics];
  for (const d of input.detected) diagnostics.push(...d.diagnostics);
  for (const s of input.routers) diagnostics.push(...s.diagnostics);
  let outbound = false;
  for (const out of input.hosts) {
    routes.push(...out.routes.values());
    envoyFilters.push(...out.envoyFilters);
    diagnostics.push(...out.diagnostics);
    outbound ||= out.envoyFilters.some((ef) => ef.metadata.labels?.[ROLE_LABEL] === 'outbound');
  }
  const gw = input.gateway;
  if (gw) {
    routes.push(...gw.routes.values());
    envoyFilters.push(...gw.envoyFilters);
    diagnostics.push(...gw.diagnostics);
  }
  if (outbound) {
    envoyFilters.push(xdsClusterEnvoyFilter(input.options));
    if (Object.keys(input.options.proxySelector).length === 0) {
      diagnostics.push(diag('MM_MESH_WIDE_OUTBOUND', 'MetameshOptions', 'proxySelector is {}, so outbound patches and the xDS cluster go to every sidecar; a sidecar without the MetaProtocol Proxy will reject its listeners. Set proxySelector to the label of the pods that run it.'));
    }
  }
  ruleConflicts(input, diagnostics);
  for (const [key, ip] of input.vips) {
    const how = input.vipsKept.has(key) ? `keeps ${ip}, which metamesh allocated to it earlier` : `has no spec.addresses; metamesh gives it ${ip}`;
    diagnostics.push(diag('MM_SERVICE_VIP_ALLOCATED', key, `${how} (see serviceEntries in the output, annotation ${ALLOCATED_ADDRESS_ANNOTATION}).`));
  }
  return {
    serviceEntries: allocatedServiceEntries(input),
    envoyFilters: envoyFilters.sort(byObjectKey),
    virtualServices: [...(gw?.virtualServices ?? [])].sort(byObjectKey),
    routes: routes.sort((a, b) => cmp(a.name as string, b.name as string)),
    diagnostics: normalizeDiagnostics(diagnostics),
  };
}

function ruleConflicts(input: AssembleInput, out: Diagnostic[]): void {
  for (const [host, keys] of input.rulesByHost) {
    if (keys.size < 2) continue;
    const winner = input.destinationRule(host)!;
    const winnerKey = objKey('DestinationRule', winner.metadata.namespace, winner.metadata.name);
    for (const k of keys) {
      if (k === winnerKey) continue;
      out.push(diag('MM_DESTINATIONRULE_CONFLICT', k, `${winnerKey} also targets ${host} and takes precedence (older, or first by namespace/name); this one's subsets and hash keys are not used by MetaProtocol routes. Merge them.`));
    }
  }
}

function allocatedServiceEntries(input: AssembleInput): OutputObject[] {
  return [...input.vips]
    .sort(([a], [b]) => cmp(a, b))
    .map(([key, ip]) => {
      const se = input.serviceEntries.get(key)!;
      return {
        apiVersion: se.apiVersion,
        kind: 'ServiceEntry',
        metadata: {
          name: se.metadata.name,
          namespace: se.metadata.namespace,
          ...(se.metadata.labels ? { labels: { ...se.metadata.labels } } : {}),
          annotations: { ...(se.metadata.annotations ?? {}), [ALLOCATED_ADDRESS_ANNOTATION]: ip, [SOURCE_ANNOTATION]: key },
        },
        spec: { ...(se.spec as unknown as Record<string, unknown>), addresses: [ip] },
      };
    });
}

export function byObjectKey(a: OutputObject, b: OutputObject): number {
  return cmp(a.metadata.namespace, b.metadata.namespace) || cmp(a.metadata.name, b.metadata.name) || cmp(a.kind, b.kind);
}
