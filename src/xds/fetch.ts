/**
 * The unary FetchRoutes RPC (RouteDiscoveryService.FetchRoutes), as a pure function: one
 * DiscoveryRequest in, one DiscoveryResponse out, no stream state.
 *
 * - An empty type_url means RDS (the RPC belongs to the route service); any other type URL than
 *   the cache's is an error.
 * - The response carries every requested name that exists, sorted by name; names that do not
 *   exist are left out (never an empty placeholder). Non-wildcard: no names, no resources.
 * - version_info is versionInfoOf(the pairs carried), as on streams; the nonce is empty (there is
 *   nothing to ACK on a unary call).
 */
import { unknownTypeUrl, versionInfoOf, type ResourceSource, type XdsError, type XdsResource } from './protocol.js';
import type { SotwResponse } from './sotw.js';

export interface FetchRequest {
  readonly typeUrl: string;
  readonly resourceNames: readonly string[];
}

export function fetchResources(source: ResourceSource, req: FetchRequest): { response: SotwResponse } | { error: XdsError } {
  const typeUrl = req.typeUrl || source.typeUrl;
  if (typeUrl !== source.typeUrl) return { error: unknownTypeUrl(typeUrl, [source.typeUrl]) };
  const resources: XdsResource[] = [];
  for (const name of [...new Set(req.resourceNames)].sort()) {
    const r = source.get(name);
    if (r) resources.push(r);
  }
  const versionInfo = versionInfoOf(resources.map((r) => [r.name, r.version] as const));
  return { response: { versionInfo, nonce: '', typeUrl, resources } };
}
