/** Istio's cluster names, which MetaProtocol routes point at. */

export function outboundCluster(port: number, subset: string | undefined, host: string): string {
  return `outbound|${port}|${subset ?? ''}|${host}`;
}

export function inboundCluster(port: number): string {
  return `inbound|${port}||`;
}

/** RDS resource name of a sidecar's MetaProtocol route table (Aeraki's convention). */
export function routeConfigName(host: string, port: number): string {
  return `${host}_${port}`;
}

/** RDS resource name of a gateway's route table: per gateway, so mesh-only rules stay off it. */
export function gatewayRouteConfigName(gatewayNs: string, gatewayName: string, host: string, port: number): string {
  return `gateway/${gatewayNs}/${gatewayName}/${host}_${port}`;
}
