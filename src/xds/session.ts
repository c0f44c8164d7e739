/**
 * One gRPC xDS stream: feeds its requests and the cache's changes to the pure state machines
 * (sotw.ts / delta.ts, one per type URL, sharing one NonceSource) and writes what they return.
 *
 * - Only the cache's type URL (RDS) is served. A request for any other type URL ends THIS stream
 *   with INVALID_ARGUMENT; other streams are unaffected.
 * - Responses are written already encoded (envelope.ts) around the cache's shared resource bytes;
 *   a resource is never re-encoded per stream.
 * - Flow control: when call.write() returns false, nothing more is written until 'drain'. Requests
 *   are not read meanwhile (the call is paused) and cache changes are held as name sets; on 'drain'
 *   they are fed to the machines, whose coalescing sends only the latest versions.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { foldChange, type CacheListener, type ResourceCache } from './cache.js';
import { DeltaStream, type DeltaRequest, type DeltaResponse } from './delta.js';
import { createNonceSource, type Step, type StreamEvent, type XdsError, GRPC_INVALID_ARGUMENT, unknownTypeUrl } from './protocol.js';
import { encodeDeltaResponse, encodeSotwResponse } from './envelope.js';
import type { DeltaDiscoveryRequestWire, DiscoveryRequestWire } from './services.js';
import { SotwStream, type SotwRequest, type SotwResponse } from './sotw.js';

export type StreamMode = 'sotw' | 'delta';
export type StreamService = 'rds' | 'ads';

/** What `XdsServer.streams()` reports per stream and type URL, for the dashboard. */
export interface StreamInfo {
  readonly id: number;
  readonly service: StreamService;
  readonly mode: StreamMode;
  readonly peer: string;
  readonly nodeId: string | undefined;
  readonly connectedAt: string;
  readonly typeUrl: string;
  readonly subscribed: string[];
  /** Per resource, the version the client runs (ACKed, or declared on a delta reconnect). */
  readonly ackedVersions: Record<string, string>;
  readonly nackCount: number;
  readonly lastNackMessage: string | undefined;
}

type AnyCall = grpc.ServerDuplexStream<unknown, unknown>;

interface Machine {
  onRequest(req: unknown): Step<unknown>;
  onCacheChange(changed: Iterable<string>, removed: Iterable<string>): Step<unknown>;
  info(): { nodeId: string | undefined; subscribed: string[]; acked: Record<string, string>; nackCount: number; lastNackMessage: string | undefined };
}

/**
 * The cache's own string for each name that exists: every stream then shares one copy of each
 * name instead of keeping the strings decoded from its own requests.
 */
function canonical(names: readonly string[] | undefined, source: ResourceCache): string[] {
  return (names ?? []).map((n) => source.get(n)?.name ?? n);
}

function sotwRequest(w: DiscoveryRequestWire, typeUrl: string, source: ResourceCache): SotwRequest {
  return {
    typeUrl,
    versionInfo: w.version_info ?? '',
    resourceNames: canonical(w.resource_names, source),
    responseNonce: w.response_nonce ?? '',
    errorDetail: w.error_detail ? { code: w.error_detail.code ?? 0, message: w.error_detail.message ?? '' } : null,
    node: w.node ?? null,
  };
}

function deltaRequest(w: DeltaDiscoveryRequestWire, typeUrl: string, source: ResourceCache): DeltaRequest {
  return {
    typeUrl,
    resourceNamesSubscribe: canonical(w.resource_names_subscribe, source),
    resourceNamesUnsubscribe: w.resource_names_unsubscribe ?? [],
    initialResourceVersions: w.initial_resource_versions ?? {},
    responseNonce: w.response_nonce ?? '',
    errorDetail: w.error_detail ? { code: w.error_detail.code ?? 0, message: w.error_detail.message ?? '' } : null,
    node: w.node ?? null,
  };
}

function sotwMachine(cache: ResourceCache, nonces: ReturnType<typeof createNonceSource>): Machine {
  const m = new SotwStream(cache, nonces);
  return {
    onRequest: (req) => m.onRequest(req as SotwRequest),
    onCacheChange: (c, r) => m.onCacheChange(c, r),
    info: () => {
      const s = m.state();
      return { nodeId: s.nodeId, subscribed: s.subscribed, acked: s.acked, nackCount: s.nack.count, lastNackMessage: s.nack.lastMessage };
    },
  };
}

function deltaMachine(cache: ResourceCache, nonces: ReturnType<typeof createNonceSource>): Machine {
  const m = new DeltaStream(cache, nonces);
  return {
    onRequest: (req) => m.onRequest(req as DeltaRequest),
    onCacheChange: (c, r) => m.onCacheChange(c, r),
    info: () => {
      const s = m.state();
      return { nodeId: s.nodeId, subscribed: s.subscribed, acked: s.clientVersions, nackCount: s.nack.count, lastNackMessage: s.nack.lastMessage };
    },
  };
}

export class StreamSession {
  readonly connectedAt = new Date().toISOString();
  readonly peer: string;
  private nodeId: string | undefined;
  private readonly nonces = createNonceSource();
  private readonly machines = new Map<string, Machine>();
  private blocked = false;
  /** Cache changes that arrived while blocked, folded together. */
  private held = { changed: new Set<string>(), removed: new Set<string>() };
  private closed = false;
  private connectLogged = false;
  private readonly unsubscribe: () => void;

  constructor(
    readonly id: number,
    readonly service: StreamService,
    readonly mode: StreamMode,
    private readonly call: AnyCall,
    private readonly cache: ResourceCache,
    private readonly log: Logger,
    private readonly onClose: (s: StreamSession) => void,
    /** How the session hears of cache changes: the server's FanOut; the cache itself by default. */
    subscribe: (listener: CacheListener) => () => void = (l) => cache.subscribe(l),
  ) {
    this.peer = safePeer(call);
    this.unsubscribe = subscribe((changed, removed) => this.onCacheChange(changed, removed));
    call.on('data', (msg: unknown) => this.onData(msg));
    call.on('drain', () => this.onDrain());
    call.on('end', () => this.close('client closed the stream'));
    call.on('cancelled', () => this.close('cancelled'));
    call.on('error', (e: Error) => this.close(`error: ${e.message}`));
    call.on('close', () => this.close('closed'));
  }

  /** Per type URL served on this stream. */
  info(): StreamInfo[] {
    return [...this.machines].map(([typeUrl, m]) => {
      const i = m.info();
      return {
        id: this.id,
        service: this.service,
        mode: this.mode,
        peer: this.peer,
        nodeId: i.nodeId ?? this.nodeId,
        connectedAt: this.connectedAt,
        typeUrl,
        subscribed: i.subscribed,
        ackedVersions: i.acked,
        nackCount: i.nackCount,
        lastNackMessage: i.lastNackMessage,
      };
    });
  }

  /** Ends the stream from the server side (shutdown). */
  end(): void {
    if (this.closed) return;
    this.close('server shutdown');
    try {
      this.call.end();
    } catch {
      // already ended
    }
  }

  private onData(msg: unknown): void {
    if (this.closed) return;
    const w = msg as DiscoveryRequestWire & DeltaDiscoveryRequestWire;
    if (w.node?.id) this.nodeId = w.node.id;
    if (!this.connectLogged) {
      this.connectLogged = true;
      this.log.info({ event: 'connect', stream: this.id, nodeId: this.nodeId, peer: this.peer, service: this.service, mode: this.mode }, 'xDS stream connected');
    }
    // A non-aggregated RDS stream may leave type_url empty: it can only mean RDS.
    const typeUrl = w.type_url || (this.service === 'rds' ? this.cache.typeUrl : '');
    if (typeUrl !== this.cache.typeUrl) return this.fail(unknownTypeUrl(typeUrl || '(empty)', [this.cache.typeUrl]));
    let m = this.machines.get(typeUrl);
    if (!m) {
      m = this.mode === 'sotw' ? sotwMachine(this.cache, this.nonces) : deltaMachine(this.cache, this.nonces);
      this.machines.set(typeUrl, m);
    }
    const step = m.onRequest(this.mode === 'sotw' ? sotwRequest(w, typeUrl, this.cache) : deltaRequest(w, typeUrl, this.cache));
    if (step.error) return this.fail(step.error);
    this.report(step.events, typeUrl, w);
    this.send(step.responses);
  }

  private onCacheChange(changed: ReadonlySet<string>, removed: ReadonlySet<string>): void {
    if (this.closed) return;
    if (this.blocked) {
      foldChange(this.held, changed, removed);
      return;
    }
    for (const m of this.machines.values()) this.send(m.onCacheChange(changed, removed).responses);
  }

  private onDrain(): void {
    if (this.closed || !this.blocked) return;
    this.blocked = false;
    this.call.resume();
    const { changed, removed } = this.held;
    if (changed.size === 0 && removed.size === 0) return;
    this.held = { changed: new Set(), removed: new Set() };
    this.onCacheChange(changed, removed);
  }

  private send(responses: readonly unknown[]): void {
    for (const r of responses) {
      const bytes = this.mode === 'sotw' ? encodeSotwResponse(r as SotwResponse) : encodeDeltaResponse(r as DeltaResponse);
      if (!this.call.write(bytes)) {
        // Stop producing until the transport drains; stop reading too, so requests wait with it.
        this.blocked = true;
        this.call.pause();
      }
    }
  }

  private report(events: readonly StreamEvent[], typeUrl: string, w: DiscoveryRequestWire & DeltaDiscoveryRequestWire): void {
    for (const e of events) {
      if (e.kind === 'nack') {
        this.log.warn(
          { event: 'nack', stream: this.id, nodeId: this.nodeId, typeUrl, resources: e.rejected.map(([n]) => n), nonce: e.nonce, code: e.code, message: e.message },
          'xDS NACK',
        );
      } else if (e.kind === 'stale-nonce-ignored') {
        this.log.debug({ event: 'stale-nonce', stream: this.id, nodeId: this.nodeId, nonce: e.nonce, latest: e.latestNonce }, 'stale nonce ignored');
      } else {
        this.log.debug({ event: 'ack', stream: this.id, nodeId: this.nodeId, nonce: e.nonce, version: e.versionInfo, names: w.resource_names }, 'xDS ACK');
      }
    }
  }

  private fail(err: XdsError): void {
    this.log.warn({ event: 'rejected-request', stream: this.id, nodeId: this.nodeId, peer: this.peer, message: err.message }, 'xDS request rejected');
    const code = err.grpcCode ?? GRPC_INVALID_ARGUMENT;
    this.close(`error sent: ${err.message}`);
    this.call.emit('error', { code, details: err.message });
  }

  private close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.log.info({ event: 'disconnect', stream: this.id, nodeId: this.nodeId, peer: this.peer, reason }, 'xDS stream disconnected');
    this.onClose(this);
  }
}

function safePeer(call: AnyCall): string {
  try {
    return call.getPeer();
  } catch {
    return 'unknown';
  }
}
