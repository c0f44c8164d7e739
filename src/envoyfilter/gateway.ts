/**
 * EnvoyFilter stage for gateways: per gateway listener, the MetaProtocol Proxy on `0.0.0.0_<port>`
 * and the VirtualService that makes Istio open that TCP listener; per gateway (however many ports),
 * one EnvoyFilter adding the xDS cluster. Pure.
 */
import type { GatewayModel } from '../model/host.js';
import type { Options } from '../model/options.js';
import type { OutputObject } from '../model/output.js';
import { gatewayRouteConfigName } from '../route/clusters.js';
import { gatewayEnvoyFilter, gatewayVirtualService, gatewayXdsClusterEnvoyFilter } from './build.js';

export interface GatewayObjects {
  readonly envoyFilters: OutputObject[];
  readonly virtualServices: OutputObject[];
}

export function buildGatewayObjects(model: GatewayModel, options: Options): GatewayObjects {
  const envoyFilters: OutputObject[] = [];
  const virtualServices: OutputObject[] = [];
  const withCluster = new Set<string>();
  for (const l of model.listeners) {
    const { namespace, name, selector } = l.gateway;
    const gi = {
      gatewayNamespace: namespace,
      gatewayName: name,
      selector: { ...selector },
      gatewayPort: l.port,
      protocol: l.protocol.name,
      codec: l.protocol.codec,
      host: l.host,
      routeConfigName: gatewayRouteConfigName(namespace, name, l.host, l.port),
      sources: [`Gateway ${namespace}/${name}`, l.router.ref],
      options,
    };
    envoyFilters.push(gatewayEnvoyFilter(gi));
    if (!withCluster.has(`${namespace}/${name}`)) {
      withCluster.add(`${namespace}/${name}`);
      envoyFilters.push(gatewayXdsClusterEnvoyFilter(namespace, name, gi.selector, options));
    }
    virtualServices.push(gatewayVirtualService(gi, l.defaultPort));
  }
  return { envoyFilters, virtualServices };
}
