/**
 * The xDS server's log: an XdsCallbacks subscriber writing one pino line per event. Stream
 * connects and disconnects at info, NACKs, rejected requests and refused connections or streams at
 * warn, ACKs, stale nonces and unary fetches at debug. Requests and responses are not logged (one
 * line per response would flood the log during a fan-out to thousands of streams); metrics are the
 * place for them.
 *
 * Every string a client chose (node id, names, type URL, nonce, NACK message) is clipped (clip.ts)
 * and name lists are cut to a few names and a count, so a line stays short whatever was sent.
 */
import type { Logger } from 'pino';
import type { XdsCallbacks } from './callbacks.js';
import { clip, clipNames, MAX_MESSAGE_LENGTH } from '../util/clip.js';

/** undefined stays undefined (pino then omits the field). */
const id = (s: string | undefined): string | undefined => (s === undefined ? undefined : clip(s));
const msg = (s: string): string => clip(s, MAX_MESSAGE_LENGTH);

export function loggingCallbacks(log: Logger): XdsCallbacks {
  return {
    streamOpened: (e) =>
      log.info({ event: 'connect', stream: e.stream, nodeId: id(e.nodeId), peer: clip(e.peer), service: e.service, mode: e.mode }, 'xDS stream connected'),
    ack: (e) => log.debug({ event: 'ack', stream: e.stream, nodeId: id(e.nodeId), nonce: clip(e.nonce), version: clip(e.version), names: clipNames(e.names) }, 'xDS ACK'),
    nack: (e) =>
      log.warn(
        { event: 'nack', stream: e.stream, nodeId: id(e.nodeId), typeUrl: clip(e.typeUrl), resources: clipNames(e.rejected), nonce: clip(e.nonce), code: e.code, message: msg(e.message) },
        'xDS NACK',
      ),
    staleNonce: (e) => log.debug({ event: 'stale-nonce', stream: e.stream, nodeId: id(e.nodeId), nonce: clip(e.nonce), latest: e.latestNonce }, 'stale nonce ignored'),
    requestRejected: (e) =>
      e.stream === undefined
        ? log.warn({ event: 'rejected-request', rpc: 'FetchRoutes', nodeId: id(e.nodeId), message: msg(e.message) }, 'xDS request rejected')
        : log.warn({ event: 'rejected-request', stream: e.stream, nodeId: id(e.nodeId), peer: clip(e.peer), message: msg(e.message) }, 'xDS request rejected'),
    streamClosed: (e) => log.info({ event: 'disconnect', stream: e.stream, nodeId: id(e.nodeId), peer: clip(e.peer), reason: msg(e.reason) }, 'xDS stream disconnected'),
    fetched: (e) => log.debug({ event: 'fetch', nodeId: id(e.nodeId), names: clipNames(e.names) }, 'xDS fetch'),
    refused: (e) => log.warn({ event: 'refused', what: e.what, peer: clip(e.peer), message: e.message }, `xDS ${e.what} refused`),
  };
}
