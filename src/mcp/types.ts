/**
 * The type URLs of MCP-over-xDS as istiod speaks it (istiod is the client: mesh config
 * `configSources: [{address: "xds://host:port"}]`), and which of them metamesh has content for.
 *
 * istiod opens one ADS stream (state of the world) and sends a wildcard request per collection it
 * reads: `core/v1alpha1/MeshConfig` and one `<group>/<version>/<Kind>` per Istio config kind, with
 * no `type.googleapis.com/` prefix. It does not become ready until every one of them has been
 * answered, so each is answered, with an empty set where metamesh has nothing. Each resource is a
 * `google.protobuf.Any` of MCP_RESOURCE_TYPE_URL whose body is the v1alpha3 spec message, whatever
 * version the type URL names.
 */

/** The Any type URL of every resource in an MCP response. */
export const MCP_RESOURCE_TYPE_URL = 'type.googleapis.com/istio.mcp.v1alpha1.Resource';
export const MCP_RESOURCE_TYPE = 'istio.mcp.v1alpha1.Resource';
export const MCP_METADATA_TYPE = 'istio.mcp.v1alpha1.Metadata';

/** istiod asks for it first; metamesh is no mesh config source and answers it with an empty set. */
export const MESH_CONFIG_TYPE_URL = 'core/v1alpha1/MeshConfig';

/** A kind metamesh serves: where it is served and the message its body is. */
export interface ServedKind {
  readonly kind: string;
  /** `<group>/<Kind>`: what a type URL is matched on (any version: istiod versions vary). */
  readonly collection: string;
  /** The type URL istiod 1.31 asks for. */
  readonly typeUrl: string;
  /** The protobuf message of the body (always the v1alpha3 one). */
  readonly bodyType: string;
}

export const SERVED_KINDS: readonly ServedKind[] = [
  served('ServiceEntry', 'networking.istio.io', 'v1'),
  served('EnvoyFilter', 'networking.istio.io', 'v1alpha3'),
  served('VirtualService', 'networking.istio.io', 'v1'),
];

function served(kind: string, group: string, version: string): ServedKind {
  return { kind, collection: `${group}/${kind}`, typeUrl: `${group}/${version}/${kind}`, bodyType: `istio.networking.v1alpha3.${kind}` };
}

/** The 16 type URLs istiod 1.31 requests on connect, in its order (what tests imitate). */
export const ISTIOD_TYPE_URLS: readonly string[] = [
  MESH_CONFIG_TYPE_URL,
  'networking.istio.io/v1/DestinationRule',
  'networking.istio.io/v1alpha3/EnvoyFilter',
  'networking.istio.io/v1/Gateway',
  'networking.istio.io/v1beta1/ProxyConfig',
  'networking.istio.io/v1/ServiceEntry',
  'networking.istio.io/v1/Sidecar',
  'networking.istio.io/v1/VirtualService',
  'networking.istio.io/v1/WorkloadEntry',
  'networking.istio.io/v1/WorkloadGroup',
  'security.istio.io/v1/AuthorizationPolicy',
  'security.istio.io/v1/PeerAuthentication',
  'security.istio.io/v1/RequestAuthentication',
  'telemetry.istio.io/v1/Telemetry',
  'extensions.istio.io/v1alpha1/WasmPlugin',
  'extensions.istio.io/v1alpha1/TrafficExtension',
];

/**
 * An Istio config type URL, `<group>.istio.io/<version>/<Kind>`, or MeshConfig. Every such type URL
 * is answered (empty when metamesh has nothing of it), so an istiod that reads one more kind than
 * 1.31 still becomes ready. Anything else is not MCP and stays an unknown type URL.
 */
const ISTIO_CONFIG_TYPE_URL = /^(?:[a-z0-9-]+\.)*istio\.io\/v[0-9]+(?:(?:alpha|beta)[0-9]+)?\/[A-Z][A-Za-z0-9]{0,62}$/;

export function isMcpTypeUrl(typeUrl: string): boolean {
  return typeUrl === MESH_CONFIG_TYPE_URL || ISTIO_CONFIG_TYPE_URL.test(typeUrl);
}

/** The collection (`<group>/<Kind>`) a type URL reads; MeshConfig is its own collection. */
export function collectionOf(typeUrl: string): string {
  if (typeUrl === MESH_CONFIG_TYPE_URL) return typeUrl;
  const [group, , kind] = typeUrl.split('/');
  return `${group}/${kind}`;
}

/** At most this many MCP type URLs per stream (istiod uses 16); one more ends the stream. */
export const MAX_MCP_TYPES_PER_STREAM = 64;
