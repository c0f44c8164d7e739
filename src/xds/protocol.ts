/**
 * Shared vocabulary of the xDS stream state machines (SotW and delta): the resources they send,
 * the events they report, nonces, and response version hashes. Pure: no I/O, no timers.
 *
 * Resources travel as already-encoded protobuf bytes (see cache.ts); the envelope (envelope.ts)
 * wraps each version once into its google.protobuf.Any or delta Resource, never re-encoding it.
 */
import { createHash } from 'node:crypto';
import { clip } from '../util/clip.js';

/** One encoded resource as the cache holds it. Immutable; shared by every stream. */
export interface XdsResource {
  readonly name: string;
  /** Content hash of `bytes` (16 hex chars of sha256). */
  readonly version: string;
  readonly bytes: Uint8Array;
}

/** google.rpc.Status as carried in a request's error_detail (a NACK). */
export interface ErrorDetail {
  readonly code: number;
  readonly message: string;
}

/** Something a state machine observed on a request, for logs and metrics. */
export type StreamEvent =
  | {
      readonly kind: 'ack';
      readonly nonce: string;
      /** The version_info (SotW) or system_version_info (delta) of the ACKed response. */
      readonly versionInfo: string;
      /** The (name → version) pairs the client now runs, as that response carried them. */
      readonly resources: ReadonlyMap<string, string>;
      /** The removals the client accepted with it (delta). */
      readonly removed: readonly string[];
    }
  | {
      readonly kind: 'nack';
      readonly nonce: string;
      /** The version the client reports it still runs (the last one it accepted). */
      readonly versionInfo: string;
      readonly code: number;
      readonly message: string;
      /** The (name, version) pairs now marked rejected: not resent until their content changes. */
      readonly rejected: ReadonlyArray<readonly [string, string]>;
    }
  | { readonly kind: 'stale-nonce-ignored'; readonly nonce: string; readonly latestNonce: string };

/**
 * A request the state machine cannot serve. The caller answers it by closing the stream with
 * `grpcCode` and `message` (or by logging and dropping the request); no state was changed, so
 * other machines, on this stream or others, are unaffected.
 */
export interface XdsError {
  readonly kind: 'unknown-type-url' | 'limit-exceeded';
  /** gRPC status code: 3 = INVALID_ARGUMENT, 8 = RESOURCE_EXHAUSTED (limits.ts). */
  readonly grpcCode: number;
  readonly message: string;
}

export const GRPC_INVALID_ARGUMENT = 3;

export function unknownTypeUrl(typeUrl: string, served: readonly string[]): XdsError {
  return {
    kind: 'unknown-type-url',
    grpcCode: GRPC_INVALID_ARGUMENT,
    message: `type URL "${clip(typeUrl)}" is not served here (served: ${served.join(', ') || 'none'})`,
  };
}

/**
 * Source of response nonces. Nonces are unique and strictly increasing (as integers) per source;
 * give every machine on one gRPC stream the same source so nonces are unique per stream even on
 * an aggregated (ADS) stream carrying several type URLs.
 */
export interface NonceSource {
  next(): string;
}

export function createNonceSource(): NonceSource {
  let n = 0;
  return { next: () => String(++n) };
}

/**
 * The version_info of a SotW response (or system_version_info of a delta response): a
 * deterministic hash of the (name, version) pairs it carries, independent of their order.
 * Equal resource sets give equal strings across processes and restarts.
 */
export function versionInfoOf(pairs: Iterable<readonly [string, string]>): string {
  const sorted = [...pairs].map(([n, v]) => `${n}\u0000${v}`).sort();
  return createHash('sha256').update(sorted.join('\n')).digest('hex').slice(0, 16);
}

/** Content version of encoded bytes: first 16 hex chars of their sha256. */
export function contentVersion(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** What a state machine returns for each input: responses to send, in order, and events. */
export interface Step<R> {
  readonly responses: R[];
  readonly events: StreamEvent[];
  /** Set when the request could not be served; responses and events are then empty. */
  readonly error?: XdsError;
}

/** The subset of a cache a state machine reads. */
export interface ResourceSource {
  readonly typeUrl: string;
  get(name: string): XdsResource | undefined;
}

/** NACK bookkeeping shared by both variants, as shown in `state().nack`. */
export interface NackState {
  count: number;
  lastMessage: string | undefined;
  lastCode: number | undefined;
  lastNonce: string | undefined;
}

export function emptyNackState(): NackState {
  return { count: 0, lastMessage: undefined, lastCode: undefined, lastNonce: undefined };
}

export function recordOf(m: ReadonlyMap<string, string>): Record<string, string> {
  return Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
