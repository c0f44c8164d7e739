/** Route stage for one host: a RouteConfiguration per MetaProtocol port, in RDS wire form. Pure. */
import type { Diagnostic } from '../model/diagnostics.js';
import type { HostModel } from '../model/host.js';
import { buildRouteConfiguration } from './build.js';
import { routeConfigName } from './clusters.js';
import { toWire, type JsonObject } from './wire.js';

export interface HostRoutes {
  /** RDS resources by name. */
  readonly routes: Map<string, JsonObject>;
  readonly diagnostics: Diagnostic[];
}

export function buildHostRoutes(model: HostModel): HostRoutes {
  const routes = new Map<string, JsonObject>();
  const diagnostics: Diagnostic[] = [];
  for (const port of model.ports) {
    const name = routeConfigName(model.host, port.number);
    const built = buildRouteConfiguration({
      name,
      host: model.host,
      defaultPort: port.number,
      protocol: port.protocol,
      router: model.router,
      destinationRules: model.destinationRules,
    });
    routes.set(name, toWire(built.config));
    diagnostics.push(...built.diagnostics);
  }
  return { routes, diagnostics };
}
