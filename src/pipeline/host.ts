/**
 * Everything metamesh emits for one service host: resolve (src/resolve/host.ts), then its RDS route
 * tables and its EnvoyFilters. Pure; the engine calls it for dirty hosts only.
 */
import type { Diagnostic } from '../model/diagnostics.js';
import type { HostModel } from '../model/host.js';
import type { Options } from '../model/options.js';
import type { OutputObject } from '../model/output.js';
import { buildHostEnvoyFilters } from '../envoyfilter/host.js';
import { resolveHostModel, type ResolveHostInput } from '../resolve/host.js';
import { buildHostRoutes } from '../route/host.js';
import type { JsonObject } from '../route/wire.js';

export interface HostOutput {
  /** What the later stages read (kept for inspection: golden tests, explain). */
  readonly model: HostModel;
  /** RDS resources by name, in wire form. */
  readonly routes: Map<string, JsonObject>;
  readonly envoyFilters: OutputObject[];
  readonly diagnostics: Diagnostic[];
  /** Hosts whose services or DestinationRules were read: a change to one recomputes this host. */
  readonly dependsOn: readonly string[];
}

export function computeHost(input: ResolveHostInput & { readonly options: Options }): HostOutput {
  const resolved = resolveHostModel(input);
  const routes = buildHostRoutes(resolved.model);
  const filters = buildHostEnvoyFilters(resolved.model, input.options);
  return {
    model: resolved.model,
    routes: routes.routes,
    envoyFilters: filters.envoyFilters,
    diagnostics: [...resolved.model.diagnostics, ...routes.diagnostics, ...filters.diagnostics],
    dependsOn: resolved.dependsOn,
  };
}
