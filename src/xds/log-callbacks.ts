/**
 * The xDS server's log: an XdsCallbacks subscriber writing one pino line per event. Stream
 * connects and disconnects at info, NACKs and rejected requests at warn, ACKs, stale nonces and
 * unary fetches at debug. Requests and responses are not logged (one line per response would
 * flood the log during a fan-out to thousands of streams); metrics are the place for them.
 */
import type { Logger } from 'pino';
import type { XdsCallbacks } from './callbacks.js';

export function loggingCallbacks(log: Logger): XdsCallbacks {
  return {
    streamOpened: (e) =>
      log.info({ event: 'connect', stream: e.stream, nodeId: e.nodeId, peer: e.peer, service: e.service, mode: e.mode }, 'xDS stream connected'),
    ack: (e) => log.debug({ event: 'ack', stream: e.stream, nodeId: e.nodeId, nonce: e.nonce, version: e.version, names: e.names }, 'xDS ACK'),
    nack: (e) =>
      log.warn({ event: 'nack', stream: e.stream, nodeId: e.nodeId, typeUrl: e.typeUrl, resources: e.rejected, nonce: e.nonce, code: e.code, message: e.message }, 'xDS NACK'),
    staleNonce: (e) => log.debug({ event: 'stale-nonce', stream: e.stream, nodeId: e.nodeId, nonce: e.nonce, latest: e.latestNonce }, 'stale nonce ignored'),
    requestRejected: (e) =>
      e.stream === undefined
        ? log.warn({ event: 'rejected-request', rpc: 'FetchRoutes', nodeId: e.nodeId, message: e.message }, 'xDS request rejected')
        : log.warn({ event: 'rejected-request', stream: e.stream, nodeId: e.nodeId, peer: e.peer, message: e.message }, 'xDS request rejected'),
    streamClosed: (e) => log.info({ event: 'disconnect', stream: e.stream, nodeId: e.nodeId, peer: e.peer, reason: e.reason }, 'xDS stream disconnected'),
    fetched: (e) => log.debug({ event: 'fetch', nodeId: e.nodeId, names: e.names }, 'xDS fetch'),
  };
}
