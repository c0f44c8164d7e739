/**
 * Route stage for gateways: each gateway listener gets its own RDS table, built from its MetaRouter
 * with the protocol of the server port and named `gateway/<ns>/<name>/<host>_<port>`, so a gateway
 * never shares a table with sidecars and sidecar-only rules never reach it. Pure.
 */
import type { Diagnostic } from '../model/diagnostics.js';
import type { GatewayModel } from '../model/host.js';
import { buildRouteConfiguration } from './build.js';
import { gatewayRouteConfigName } from './clusters.js';
import type { HostRoutes } from './host.js';
import { toWire, type JsonObject } from './wire.js';

export function buildGatewayRoutes(model: GatewayModel): HostRoutes {
  const routes = new Map<string, JsonObject>();
  const diagnostics: Diagnostic[] = [];
  for (const l of model.listeners) {
    const name = gatewayRouteConfigName(l.gateway.namespace, l.gateway.name, l.host, l.port);
    const built = buildRouteConfiguration({
      name,
      host: l.host,
      defaultPort: l.defaultPort,
      protocol: l.protocol,
      router: l.router,
      destinationRules: l.destinationRules,
    });
    routes.set(name, toWire(built.config));
    diagnostics.push(...built.diagnostics);
  }
  return { routes, diagnostics };
}
