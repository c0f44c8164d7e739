/**
 * Everything metamesh emits for gateways: resolve (src/resolve/gateway.ts) then the gateway route
 * tables and objects. Pure; the engine re-runs it when a Gateway, a gateway MetaRouter or a host it
 * read changes.
 */
import type { Diagnostic } from '../model/diagnostics.js';
import type { GatewayModel } from '../model/host.js';
import type { Options } from '../model/options.js';
import type { OutputObject } from '../model/output.js';
import { buildGatewayObjects } from '../envoyfilter/gateway.js';
import { resolveGateways, type ResolveGatewaysInput } from '../resolve/gateway.js';
import { buildGatewayRoutes } from '../route/gateway.js';
import type { JsonObject } from '../route/wire.js';

export interface GatewayStageOutput {
  /** What the later stages read (kept for inspection: golden tests, explain). */
  readonly model: GatewayModel;
  readonly envoyFilters: OutputObject[];
  readonly virtualServices: OutputObject[];
  readonly routes: Map<string, JsonObject>;
  readonly diagnostics: Diagnostic[];
  /** Hosts read (services and DestinationRules): a change to one re-runs this stage. */
  readonly dependsOn: ReadonlySet<string>;
}

export function computeGateways(input: ResolveGatewaysInput & { readonly options: Options }): GatewayStageOutput {
  const resolved = resolveGateways(input);
  const routes = buildGatewayRoutes(resolved.model);
  const objects = buildGatewayObjects(resolved.model, input.options);
  return {
    model: resolved.model,
    envoyFilters: objects.envoyFilters,
    virtualServices: objects.virtualServices,
    routes: routes.routes,
    diagnostics: [...resolved.model.diagnostics, ...routes.diagnostics],
    dependsOn: resolved.dependsOn,
  };
}
