/**
 * The bounds that keep one xDS client from exhausting the server, and the errors for going over
 * them. Every limit ends only the offending stream (or refuses only the offending connection):
 * the others are unaffected.
 *
 * What stays bounded without a limit of its own: a subscription has at most one response in flight
 * (subscription.ts), and what waits for it (pending names, changes held while the transport is
 * full) is a subset of its subscribed names, so `maxNamesPerStream` bounds it too.
 */
import { clip } from '../util/clip.js';
import type { XdsError } from './protocol.js';

export interface XdsLimits {
  /** Open TCP connections to the xDS port; one more is closed as soon as it is accepted. */
  readonly maxConnections: number;
  /** Concurrent streams on one connection; one more ends at once with RESOURCE_EXHAUSTED. */
  readonly maxStreamsPerConnection: number;
  /** Resource names one stream may subscribe to per type URL (also per FetchRoutes request). */
  readonly maxNamesPerStream: number;
  /** Characters in one resource name. */
  readonly maxNameLength: number;
  /** Bytes of one request message; gRPC refuses a larger one with RESOURCE_EXHAUSTED. */
  readonly maxRequestBytes: number;
}

/** The subset a state machine checks. */
export type NameLimits = Pick<XdsLimits, 'maxNamesPerStream' | 'maxNameLength'>;

/**
 * Sized for a large mesh with headroom: a proxy holds one connection; over ADS it uses one stream,
 * but with the plain gRPC config source of the MetaProtocol Proxy's RDS, Envoy opens one stream
 * per route table, so a sidecar that routes to many MetaProtocol services holds many streams.
 * Route names are `<host>_<port>` (a DNS host is at most 253 characters). 4 MiB is gRPC's usual
 * request bound.
 */
export const DEFAULT_XDS_LIMITS: XdsLimits = {
  maxConnections: 10_000,
  maxStreamsPerConnection: 1000,
  maxNamesPerStream: 10_000,
  maxNameLength: 1024,
  maxRequestBytes: 4 * 1024 * 1024,
};

/** The command-line flag that sets each limit, named in every status message about it. */
export const LIMIT_FLAGS: Readonly<Record<keyof XdsLimits, string>> = {
  maxConnections: '--xds-max-connections',
  maxStreamsPerConnection: '--xds-max-streams-per-connection',
  maxNamesPerStream: '--xds-max-names-per-stream',
  maxNameLength: '--xds-max-name-length',
  maxRequestBytes: '--xds-max-request-bytes',
};

export const GRPC_RESOURCE_EXHAUSTED = 8;

export function limitExceeded(limit: keyof XdsLimits, value: number, what: string): XdsError {
  return {
    kind: 'limit-exceeded',
    grpcCode: GRPC_RESOURCE_EXHAUSTED,
    message: `${what}: over the limit of ${value} (${LIMIT_FLAGS[limit]})`,
  };
}

/**
 * Checks a request's names against the limits before anything is subscribed: `names` are the
 * names it adds, `total` the number the subscription would then hold.
 */
export function checkNames(names: Iterable<string>, total: number, limits: NameLimits): XdsError | undefined {
  if (total > limits.maxNamesPerStream) {
    return limitExceeded('maxNamesPerStream', limits.maxNamesPerStream, `the request would subscribe this stream to ${total} resource names`);
  }
  for (const n of names) {
    if (n.length > limits.maxNameLength) {
      return limitExceeded('maxNameLength', limits.maxNameLength, `resource name "${clip(n, 64)}" has ${n.length} characters`);
    }
  }
  return undefined;
}

/** Accepts positive integers only: a limit of 0 would refuse every client. */
export function validLimit(v: number): boolean {
  return Number.isSafeInteger(v) && v > 0;
}
