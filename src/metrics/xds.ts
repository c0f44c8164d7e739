/**
 * The xDS server's metrics: an XdsCallbacks subscriber (src/xds/callbacks.ts) that moves the
 * `metamesh_xds_*` metrics. It keeps, per open stream, its mode, the type labels it counts under
 * and, per type URL, the nonce and time of the last response not yet answered, for the
 * push-to-ACK latency. That state is bounded by the streams' own limits (types per stream) and
 * dropped when the stream closes.
 *
 * Only the latest response of a (stream, type URL) is timed: the client ACKs or NACKs each
 * response in turn, and an answer to an older nonce is stale (ignored by the server and here).
 */
import type { XdsCallbacks } from '../xds/callbacks.js';
import { typeLabel } from './labels.js';
import type { Metrics } from './metrics.js';

interface StreamState {
  readonly service: string;
  readonly mode: string;
  /** The type labels this stream is counted under in metamesh_xds_streams. */
  readonly types: Set<string>;
  /** Per type URL: the last response sent and not yet ACKed or NACKed. */
  readonly sent: Map<string, { readonly nonce: string; readonly atMs: number }>;
}

/** `now` is a monotonic clock in milliseconds (injected by tests). */
export function metricsCallbacks(metrics: Pick<Metrics, 'xds'>, now: () => number = () => performance.now()): XdsCallbacks {
  const m = metrics.xds;
  const streams = new Map<number, StreamState>();
  const answered = (stream: number, typeUrl: string, nonce: string): number | undefined => {
    const s = streams.get(stream);
    const p = s?.sent.get(typeUrl);
    if (!s || !p || p.nonce !== nonce) return undefined;
    s.sent.delete(typeUrl);
    return now() - p.atMs;
  };
  return {
    streamOpened: (e) => {
      streams.set(e.stream, { service: e.service, mode: e.mode, types: new Set(), sent: new Map() });
      m.connected.inc({ service: e.service, mode: e.mode });
    },
    request: (e) => {
      const s = streams.get(e.stream);
      const type = typeLabel(e.typeUrl);
      if (!s || s.types.has(type)) return;
      s.types.add(type);
      m.streams.inc({ type, mode: s.mode });
    },
    responseSent: (e) => {
      m.pushes.inc(typeLabel(e.typeUrl));
      streams.get(e.stream)?.sent.set(e.typeUrl, { nonce: e.nonce, atMs: now() });
    },
    ack: (e) => {
      const type = typeLabel(e.typeUrl);
      m.acks.inc(type);
      const ms = answered(e.stream, e.typeUrl, e.nonce);
      if (ms !== undefined) m.ackLatency.observe({ type }, Math.max(0, ms) / 1000);
    },
    nack: (e) => {
      m.nacks.inc(typeLabel(e.typeUrl));
      answered(e.stream, e.typeUrl, e.nonce);
    },
    requestRejected: () => m.rejected.inc(),
    streamClosed: (e) => {
      const s = streams.get(e.stream);
      if (!s) return; // closed before its first request: never counted
      streams.delete(e.stream);
      m.connected.dec({ service: s.service, mode: s.mode });
      for (const type of s.types) m.streams.dec({ type, mode: s.mode });
    },
    fetched: () => m.fetches.inc(),
    refused: (e) => m.refused.inc({ what: e.what }),
  };
}
