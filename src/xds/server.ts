/**
 * The xDS gRPC server: RouteDiscoveryService (StreamRoutes, DeltaRoutes) and
 * AggregatedDiscoveryService (StreamAggregatedResources, DeltaAggregatedResources), both serving
 * the RDS resources of one ResourceCache. Each stream is a StreamSession (session.ts) speaking the
 * SotW or delta StreamProtocol (stream-protocol.ts). What happens is reported to the XdsCallbacks
 * given (callbacks.ts); the server itself logs nothing.
 *
 * Transport: the credentials given (plaintext by default; TLS from a CertificateWatcher,
 * tls-watch.ts, which swaps certificates under the running server). FetchRoutes (unary) answers
 * from the cache's current content (fetch.ts).
 */
import * as grpc from '@grpc/grpc-js';
import type { ResourceCache } from './cache.js';
import type { StreamService, XdsCallbacks } from './callbacks.js';
import { encodeSotwResponse } from './envelope.js';
import { DEFAULT_FANOUT_CHUNK, FanOut } from './fanout.js';
import { fetchResources } from './fetch.js';
import { loadXdsServices, type DeltaDiscoveryRequestWire, type DiscoveryRequestWire, type XdsServices } from './services.js';
import { peerOf, StreamSession, type OpenStream, type StreamInfo } from './session.js';
import { DELTA, SOTW, type RequestWire, type StreamProtocol } from './stream-protocol.js';

export interface XdsServerOptions {
  readonly cache: ResourceCache;
  /** Observers of every stream event (logging, metrics, …; see composeCallbacks). None by default. */
  readonly callbacks?: XdsCallbacks;
  /** Transport credentials; plaintext when not given. */
  readonly credentials?: grpc.ServerCredentials | undefined;
  /** Extra grpc-js channel options, merged over the defaults. */
  readonly grpcOptions?: grpc.ServerOptions;
  /** Parsed services; loaded on construction when not given. */
  readonly services?: XdsServices;
  /** Streams notified of a change per event-loop turn (fanout.ts); default DEFAULT_FANOUT_CHUNK. */
  readonly fanOutChunk?: number;
}

export const DEFAULT_GRPC_OPTIONS: grpc.ServerOptions = {
  'grpc.max_concurrent_streams': 100000,
  // No channelz service is registered, so its per-connection tracking would only cost memory.
  'grpc.enable_channelz': 0,
  // Ping connections every minute so dead proxies are noticed and their streams released.
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};

export class XdsServer {
  private readonly server: grpc.Server;
  private readonly sessions = new Set<OpenStream>();
  private readonly callbacks: XdsCallbacks;
  private nextId = 1;
  private port: number | undefined;
  private readonly fanOut: FanOut;

  constructor(private readonly options: XdsServerOptions) {
    const services = options.services ?? loadXdsServices();
    this.callbacks = options.callbacks ?? {};
    this.fanOut = new FanOut(options.cache, options.fanOutChunk ?? DEFAULT_FANOUT_CHUNK);
    this.server = new grpc.Server({ ...DEFAULT_GRPC_OPTIONS, ...(options.grpcOptions ?? {}) });
    type SotwCall = grpc.ServerDuplexStream<DiscoveryRequestWire, Buffer>;
    type DeltaCall = grpc.ServerDuplexStream<DeltaDiscoveryRequestWire, Buffer>;
    this.server.addService(services.rds, {
      StreamRoutes: (call: SotwCall) => this.open('rds', SOTW, call),
      DeltaRoutes: (call: DeltaCall) => this.open('rds', DELTA, call),
      FetchRoutes: (call: grpc.ServerUnaryCall<DiscoveryRequestWire, Buffer>, callback: grpc.sendUnaryData<Buffer>) => this.fetch(call, callback),
    });
    this.server.addService(services.ads, {
      StreamAggregatedResources: (call: SotwCall) => this.open('ads', SOTW, call),
      DeltaAggregatedResources: (call: DeltaCall) => this.open('ads', DELTA, call),
    });
  }

  /** Binds `host:port` (port 0 = any free port) and resolves with the bound port. */
  listen(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const creds = this.options.credentials ?? grpc.ServerCredentials.createInsecure();
      this.server.bindAsync(address, creds, (err, port) => {
        if (err) return reject(err);
        this.port = port;
        resolve(port);
      });
    });
  }

  get boundPort(): number | undefined {
    return this.port;
  }

  /** Every open stream, one entry per (stream, type URL) it has requested. */
  streams(): StreamInfo[] {
    const out: StreamInfo[] = [];
    for (const s of this.sessions) {
      const info = s.info();
      if (info.length > 0) out.push(...info);
      else {
        out.push({
          id: s.id,
          service: s.service,
          mode: s.mode,
          peer: s.peer,
          nodeId: undefined,
          connectedAt: s.connectedAt,
          typeUrl: '',
          subscribed: [],
          ackedVersions: {},
          nackCount: 0,
          lastNackMessage: undefined,
        });
      }
    }
    return out.sort((a, b) => a.id - b.id || (a.typeUrl < b.typeUrl ? -1 : a.typeUrl > b.typeUrl ? 1 : 0));
  }

  /** The open streams in id order, without building their state (the debug endpoint pages them). */
  openStreams(): OpenStream[] {
    return [...this.sessions];
  }

  /**
   * Graceful shutdown: stop accepting, end open streams (clients reconnect elsewhere), wait for
   * in-flight work up to `graceMs`, then force-close whatever is left.
   */
  shutdown(graceMs = 5000): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        finish();
      }, graceMs);
      timer.unref?.();
      this.server.tryShutdown(() => finish());
      for (const s of [...this.sessions]) s.end();
      this.fanOut.close();
    });
  }

  private fetch(call: grpc.ServerUnaryCall<DiscoveryRequestWire, Buffer>, callback: grpc.sendUnaryData<Buffer>): void {
    const req = call.request;
    const nodeId = req.node?.id || undefined;
    const peer = peerOf(call);
    const result = fetchResources(this.options.cache, { typeUrl: req.type_url ?? '', resourceNames: req.resource_names ?? [] });
    if ('error' in result) {
      const { grpcCode: code, message } = result.error;
      this.callbacks.requestRejected?.({ stream: undefined, nodeId, peer, typeUrl: req.type_url ?? '', code, message });
      callback({ code, details: message });
      return;
    }
    this.callbacks.fetched?.({ nodeId, peer, names: result.response.resources.map((r) => r.name) });
    callback(null, encodeSotwResponse(result.response));
  }

  private open<W extends RequestWire, Req, Res extends { readonly nonce: string }>(
    service: StreamService,
    protocol: StreamProtocol<W, Req, Res>,
    call: grpc.ServerDuplexStream<W, Buffer>,
  ): void {
    const session = new StreamSession({
      id: this.nextId++,
      service,
      protocol,
      call,
      cache: this.options.cache,
      callbacks: this.callbacks,
      onClose: (s) => this.sessions.delete(s),
      subscribe: (listener) => this.fanOut.add(listener),
    });
    this.sessions.add(session);
  }
}
