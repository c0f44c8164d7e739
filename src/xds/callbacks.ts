/**
 * Observability hooks of the xDS server: what happens on each stream, as typed events. Logging
 * (log-callbacks.ts) is one subscriber; metrics and the dashboard are meant to be others, joined
 * with composeCallbacks.
 *
 * Contracts:
 * - Every hook is optional and called synchronously, on the event loop turn the event happens,
 *   with a fresh event object the subscriber may keep. Hooks must not throw (an exception is a bug
 *   and propagates into the gRPC layer) and must not call back into the server.
 * - Per stream, the order is: streamOpened (once, when the first request arrives, so it carries
 *   the node id) → for each request: request, then at most one of ack / nack / staleNonce /
 *   requestRejected, then responseSent for each response it caused → responseSent for responses
 *   caused by cache changes, in between → streamClosed (exactly once, also for a stream that
 *   closes before its first request and so was never reported opened).
 * - A request that gets rejected (an unserved type URL, a name limit) ends its stream:
 *   requestRejected, then streamClosed. The unary FetchRoutes reports `fetched`, or
 *   requestRejected with no stream.
 * - A connection or stream refused by a limit before any stream event (limits.ts) reports only
 *   `refused`.
 */

/** Which gRPC service a stream belongs to. */
export type StreamService = 'rds' | 'ads';
/** State of the world or incremental. */
export type StreamMode = 'sotw' | 'delta';

interface OnStream {
  /** The server's id for the stream, unique per process. */
  readonly stream: number;
  /** Node id from the requests, once one carried it. */
  readonly nodeId: string | undefined;
}

export interface StreamOpened extends OnStream {
  readonly service: StreamService;
  readonly mode: StreamMode;
  readonly peer: string;
}

export interface RequestReceived extends OnStream {
  readonly typeUrl: string;
  readonly responseNonce: string;
  /** SotW: the whole subscription; delta: resource_names_subscribe. */
  readonly names: readonly string[];
  /** delta: resource_names_unsubscribe; SotW: always empty. */
  readonly unsubscribed: readonly string[];
}

export interface ResponseSent extends OnStream {
  readonly typeUrl: string;
  readonly nonce: string;
  /** version_info (SotW) or system_version_info (delta). */
  readonly version: string;
  /** The resources carried. */
  readonly names: readonly string[];
  /** delta: removed_resources; SotW: always empty. */
  readonly removed: readonly string[];
}

export interface Acked extends OnStream {
  readonly typeUrl: string;
  readonly nonce: string;
  /** The version of the ACKed response. */
  readonly version: string;
  /** The resources (and removals) the client accepted with it. */
  readonly names: readonly string[];
}

export interface Nacked extends OnStream {
  readonly typeUrl: string;
  readonly nonce: string;
  /** The version the client reports it still runs. */
  readonly version: string;
  /** The resources whose versions are now rejected: not resent until their content changes. */
  readonly rejected: readonly string[];
  readonly code: number;
  readonly message: string;
}

export interface StaleNonce extends OnStream {
  readonly typeUrl: string;
  readonly nonce: string;
  readonly latestNonce: string;
}

export interface RequestRejected {
  /** undefined for the unary FetchRoutes. */
  readonly stream: number | undefined;
  readonly nodeId: string | undefined;
  readonly peer: string;
  readonly typeUrl: string;
  /** gRPC status code the request was answered with. */
  readonly code: number;
  readonly message: string;
}

export interface StreamClosed extends OnStream {
  readonly peer: string;
  readonly reason: string;
}

/** A connection or stream the server refused because of a limit (limits.ts). */
export interface Refused {
  readonly peer: string;
  /** 'connection' or 'stream'. */
  readonly what: 'connection' | 'stream';
  /** The status message (streams) or the reason (connections, which get no status). */
  readonly message: string;
}

/** A unary FetchRoutes call that was answered. */
export interface Fetched {
  readonly nodeId: string | undefined;
  readonly peer: string;
  /** The resources in the response. */
  readonly names: readonly string[];
}

export interface XdsCallbacks {
  streamOpened?(e: StreamOpened): void;
  request?(e: RequestReceived): void;
  responseSent?(e: ResponseSent): void;
  ack?(e: Acked): void;
  nack?(e: Nacked): void;
  staleNonce?(e: StaleNonce): void;
  requestRejected?(e: RequestRejected): void;
  streamClosed?(e: StreamClosed): void;
  fetched?(e: Fetched): void;
  refused?(e: Refused): void;
}

type Hook<E> = ((e: E) => void) | undefined;

function every<E>(hooks: ReadonlyArray<Hook<E>>): Hook<E> {
  const fns = hooks.filter((h): h is (e: E) => void => h !== undefined);
  if (fns.length <= 1) return fns[0];
  return (e) => {
    for (const f of fns) f(e);
  };
}

/**
 * One XdsCallbacks that calls each subscriber's hooks in the order given. A hook no subscriber
 * implements stays undefined, so the server does not even build that event (`cb.hook?.(…)`).
 */
export function composeCallbacks(...subscribers: readonly XdsCallbacks[]): XdsCallbacks {
  const pick = <E>(get: (s: XdsCallbacks) => Hook<E>): Hook<E> => every(subscribers.map((s) => get(s)?.bind(s)));
  return {
    streamOpened: pick((s) => s.streamOpened),
    request: pick((s) => s.request),
    responseSent: pick((s) => s.responseSent),
    ack: pick((s) => s.ack),
    nack: pick((s) => s.nack),
    staleNonce: pick((s) => s.staleNonce),
    requestRejected: pick((s) => s.requestRejected),
    streamClosed: pick((s) => s.streamClosed),
    fetched: pick((s) => s.fetched),
    refused: pick((s) => s.refused),
  };
}
