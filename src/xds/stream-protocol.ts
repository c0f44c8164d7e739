/**
 * The two xDS variants as the gRPC session sees them: how a decoded request message becomes a
 * state-machine request, which machine serves it, how a response is encoded, and what the
 * callbacks are told. The session (session.ts) is generic over this; it never inspects a request
 * or response itself.
 */
import type { StreamMode } from './callbacks.js';
import { clip, MAX_MESSAGE_LENGTH } from '../util/clip.js';
import { DeltaStream, type DeltaRequest, type DeltaResponse } from './delta.js';
import { encodeDeltaResponse, encodeSotwResponse } from './envelope.js';
import type { NameLimits } from './limits.js';
import type { ErrorDetail, NonceSource, ResourceSource, XdsResource } from './protocol.js';
import type { DeltaDiscoveryRequestWire, DiscoveryRequestWire, StatusWire } from './services.js';
import { SotwStream, type SotwRequest, type SotwResponse } from './sotw.js';
import type { XdsMachine } from './subscription.js';

/** What every request message has, whatever the variant. */
export interface RequestWire {
  readonly type_url?: string;
  readonly node?: { readonly id?: string } | null;
  readonly response_nonce?: string;
}

export interface StreamProtocol<W extends RequestWire, Req, Res extends { readonly nonce: string }> {
  readonly mode: StreamMode;
  /** The machine request for `w` (its type URL already resolved), names shared with the cache. */
  request(w: W, typeUrl: string, cache: ResourceSource): Req;
  machine(source: ResourceSource, nonces: NonceSource, limits: NameLimits): XdsMachine<Req, Res>;
  /** The response's protobuf bytes, built around the cache's shared resource bytes. */
  encode(r: Res): Buffer;
  /** For the request callback. */
  requested(req: Req): { names: readonly string[]; unsubscribed: readonly string[] };
  /** For the response callback. */
  sent(r: Res): { version: string; names: string[]; removed: readonly string[] };
}

/**
 * The cache's own string for each name that exists: every stream then shares one copy of each
 * name instead of keeping the strings decoded from its own requests.
 */
function canonical(names: readonly string[] | undefined, source: ResourceSource): string[] {
  return (names ?? []).map((n) => source.get(n)?.name ?? n);
}

/** The NACK's status, its message clipped: it is kept per stream and logged. */
function errorDetail(e: StatusWire | null | undefined): ErrorDetail | null {
  return e ? { code: e.code ?? 0, message: clip(e.message ?? '', MAX_MESSAGE_LENGTH) } : null;
}

/** The node, its id clipped: it is kept per stream and logged. */
function node(w: RequestWire): { id: string } | null {
  return w.node?.id ? { id: clip(w.node.id) } : null;
}

const names = (resources: readonly XdsResource[]): string[] => resources.map((r) => r.name);

export const SOTW: StreamProtocol<DiscoveryRequestWire, SotwRequest, SotwResponse> = {
  mode: 'sotw',
  request: (w, typeUrl, cache) => ({
    typeUrl,
    versionInfo: w.version_info ?? '',
    resourceNames: canonical(w.resource_names, cache),
    responseNonce: w.response_nonce ?? '',
    errorDetail: errorDetail(w.error_detail),
    node: node(w),
  }),
  machine: (source, nonces, limits) => new SotwStream(source, nonces, limits),
  encode: encodeSotwResponse,
  requested: (req) => ({ names: req.resourceNames, unsubscribed: [] }),
  sent: (r) => ({ version: r.versionInfo, names: names(r.resources), removed: [] }),
};

export const DELTA: StreamProtocol<DeltaDiscoveryRequestWire, DeltaRequest, DeltaResponse> = {
  mode: 'delta',
  request: (w, typeUrl, cache) => ({
    typeUrl,
    resourceNamesSubscribe: canonical(w.resource_names_subscribe, cache),
    resourceNamesUnsubscribe: w.resource_names_unsubscribe ?? [],
    initialResourceVersions: w.initial_resource_versions ?? {},
    responseNonce: w.response_nonce ?? '',
    errorDetail: errorDetail(w.error_detail),
    node: node(w),
  }),
  machine: (source, nonces, limits) => new DeltaStream(source, nonces, limits),
  encode: encodeDeltaResponse,
  requested: (req) => ({ names: req.resourceNamesSubscribe ?? [], unsubscribed: req.resourceNamesUnsubscribe ?? [] }),
  sent: (r) => ({ version: r.systemVersionInfo, names: names(r.resources), removed: r.removedResources }),
};
