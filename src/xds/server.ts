/**
 * The xDS gRPC server: RouteDiscoveryService (StreamRoutes, DeltaRoutes) and
 * AggregatedDiscoveryService (StreamAggregatedResources, DeltaAggregatedResources), both serving
 * the RDS resources of one ResourceCache; ADS state-of-the-world streams also serve the type URLs
 * of `adsFamily` when given (the MCP sink for istiod, src/mcp/). Each stream is a StreamSession (session.ts) speaking the
 * SotW or delta StreamProtocol (stream-protocol.ts). What happens is reported to the XdsCallbacks
 * given (callbacks.ts); the server itself logs nothing.
 *
 * Limits (limits.ts): the server owns the listening socket (a net.Server whose connections are
 * handed to grpc-js), so a connection over `maxConnections` is closed as soon as it is accepted;
 * a stream over `maxStreamsPerConnection` (counted per peer address, which is one per TCP
 * connection) ends at once with RESOURCE_EXHAUSTED; name limits end the offending stream (the
 * state machines check them); `maxRequestBytes` is grpc-js's receive limit.
 *
 * Transport: the credentials given (plaintext by default; TLS from a CertificateWatcher,
 * tls-watch.ts, which swaps certificates under the running server). FetchRoutes (unary) answers
 * from the cache's current content (fetch.ts).
 */
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { ResourceCache } from './cache.js';
import type { StreamService, XdsCallbacks } from './callbacks.js';
import { encodeSotwResponse } from './envelope.js';
import { DEFAULT_FANOUT_CHUNK, FanOut } from './fanout.js';
import { fetchResources } from './fetch.js';
import { checkNames, DEFAULT_XDS_LIMITS, limitExceeded, type XdsLimits } from './limits.js';
import { clip } from '../util/clip.js';
import { loadXdsServices, type DeltaDiscoveryRequestWire, type DiscoveryRequestWire, type XdsServices } from './services.js';
import { clientRefusal } from './peer-identity.js';
import { peerOf, StreamSession, type OpenStream, type StreamInfo } from './session.js';
import { DELTA, SOTW, type RequestWire, type StreamProtocol } from './stream-protocol.js';
import type { SotwRequest, SotwResponse } from './sotw.js';
import type { TypeFamily } from './family.js';

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
  /** DEFAULT_XDS_LIMITS where not given. */
  readonly limits?: Partial<XdsLimits>;
  /**
   * Type URLs served on ADS state-of-the-world streams besides RDS (family.ts): the MCP sink for
   * istiod. None by default: only RDS is served.
   */
  readonly adsFamily?: TypeFamily<SotwRequest, SotwResponse> | undefined;
  /**
   * False: serve only `adsFamily` (ADS state of the world), no RDS: the MCP listener for istiod,
   * which has no client certificate, so it must not hand out sidecars' routes. Default true.
   */
  readonly routes?: boolean | undefined;
  /**
   * With mutual TLS: the trust domains client SPIFFE ids must belong to (peer-identity.ts); a
   * stream or fetch of any other client ends with PERMISSION_DENIED. Empty: any client the CA signed.
   */
  readonly clientTrustDomains?: readonly string[] | undefined;
  /** Stream ids, shared by servers whose streams are listed together (/debug/xds); 1, 2, … by default. */
  readonly nextStreamId?: (() => number) | undefined;
}

const GRPC_PERMISSION_DENIED = 7;

/**
 * The largest response the server sends: what istiod's MCP client accepts (math.MaxInt32,
 * istio.io/istio pkg/adsc). An MCP response is a whole collection, and 10,000 Dubbo services
 * exported to two namespaces already make 42.5 MB of EnvoyFilters (bench/README.md); over the
 * limit grpc-js ends the stream with RESOURCE_EXHAUSTED and istiod, reconnecting, gets the same
 * answer again and never the collection. The sizes are metamesh's own output, not a client's.
 */
export const MAX_SEND_MESSAGE_BYTES = 2 ** 31 - 1;

export const DEFAULT_GRPC_OPTIONS: grpc.ServerOptions = {
  'grpc.max_concurrent_streams': 100000,
  // No channelz service is registered, so its per-connection tracking would only cost memory.
  'grpc.enable_channelz': 0,
  // Ping connections every minute so dead proxies are noticed and their streams released.
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_send_message_length': MAX_SEND_MESSAGE_BYTES,
};

export class XdsServer {
  private readonly server: grpc.Server;
  private readonly sessions = new Set<OpenStream>();
  private readonly callbacks: XdsCallbacks;
  private readonly nextStreamId: () => number;
  private port: number | undefined;
  private readonly fanOut: FanOut;
  readonly limits: XdsLimits;
  /** Open streams per peer address (one per TCP connection). */
  private readonly streamsByPeer = new Map<string, number>();
  private listener: net.Server | undefined;

  constructor(private readonly options: XdsServerOptions) {
    const services = options.services ?? loadXdsServices();
    this.callbacks = options.callbacks ?? {};
    let id = 0;
    this.nextStreamId = options.nextStreamId ?? (() => ++id);
    this.limits = { ...DEFAULT_XDS_LIMITS, ...(options.limits ?? {}) };
    this.fanOut = new FanOut(options.cache, options.fanOutChunk ?? DEFAULT_FANOUT_CHUNK);
    this.server = new grpc.Server({
      ...DEFAULT_GRPC_OPTIONS,
      'grpc.max_receive_message_length': this.limits.maxRequestBytes,
      // A backstop for clients that ignore RESOURCE_EXHAUSTED: HTTP/2 itself admits one stream over
      // the limit (which open() then ends with a status); a compliant client queues the rest.
      'grpc.max_concurrent_streams': this.limits.maxStreamsPerConnection + 1,
      ...(options.grpcOptions ?? {}),
    });
    type SotwCall = grpc.ServerDuplexStream<DiscoveryRequestWire, Buffer>;
    type DeltaCall = grpc.ServerDuplexStream<DeltaDiscoveryRequestWire, Buffer>;
    const ads = { StreamAggregatedResources: (call: SotwCall) => this.open('ads', SOTW, call, options.adsFamily) };
    if (options.routes === false) {
      // Delta ADS and RDS are not registered: grpc-js answers them UNIMPLEMENTED.
      this.server.addService(services.ads, ads);
      return;
    }
    this.server.addService(services.rds, {
      StreamRoutes: (call: SotwCall) => this.open('rds', SOTW, call),
      DeltaRoutes: (call: DeltaCall) => this.open('rds', DELTA, call),
      FetchRoutes: (call: grpc.ServerUnaryCall<DiscoveryRequestWire, Buffer>, callback: grpc.sendUnaryData<Buffer>) => this.fetch(call, callback),
    });
    this.server.addService(services.ads, { ...ads, DeltaAggregatedResources: (call: DeltaCall) => this.open('ads', DELTA, call) });
  }

  /**
   * Listens on `host:port` (port 0 = any free port; an IPv6 host in brackets) and resolves with the
   * bound port. Accepted connections go to grpc-js; one over `maxConnections` is closed at once
   * and reported as `refused`.
   */
  listen(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.listener) return reject(new Error('the xDS server is already listening'));
      const creds = this.options.credentials ?? grpc.ServerCredentials.createInsecure();
      const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(address);
      if (!m) return reject(new Error(`xDS address ${JSON.stringify(address)} is not host:port`));
      const injector = this.server.createConnectionInjector(creds);
      const listener = net.createServer((socket) => injector.injectConnection(socket));
      listener.maxConnections = this.limits.maxConnections;
      listener.on('drop', (d?: { remoteAddress?: string; remotePort?: number }) => {
        const message = limitExceeded('maxConnections', this.limits.maxConnections, 'connection refused: too many open connections').message;
        this.callbacks.refused?.({ peer: `${d?.remoteAddress ?? 'unknown'}:${d?.remotePort ?? 0}`, what: 'connection', message });
      });
      listener.once('error', reject);
      listener.listen(Number(m[2]), m[1], () => {
        listener.off('error', reject);
        // Once listening, an error is a failed accept (out of file descriptors, say): that one
        // connection is lost, the server keeps listening. Unhandled, it would end the process.
        listener.on('error', (e: Error) => this.callbacks.refused?.({ peer: 'unknown', what: 'connection', message: `accept failed: ${e.message}` }));
        this.listener = listener;
        this.port = (listener.address() as net.AddressInfo).port;
        resolve(this.port);
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
      // Not unref'd: grpc-js may hold a finished client's call open with no socket left, so
      // tryShutdown's callback can wait for good; this timer is then what ends the shutdown, and
      // an unref'd one let the event loop run dry with close() still pending.
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        finish();
      }, graceMs);
      this.listener?.close();
      this.server.tryShutdown(() => finish());
      for (const s of [...this.sessions]) s.end();
      this.fanOut.close();
    });
  }

  /** Why this call's client may not be served (its SPIFFE id's trust domain), or undefined. */
  private unauthorized(call: { getAuthContext(): { sslPeerCertificate?: { subjectaltname?: string } } }, peer: string): string | undefined {
    const domains = this.options.clientTrustDomains ?? [];
    if (domains.length === 0) return undefined;
    const refusal = clientRefusal(call.getAuthContext().sslPeerCertificate?.subjectaltname, domains);
    if (refusal) this.callbacks.refused?.({ peer, what: 'stream', message: refusal });
    return refusal;
  }

  private fetch(call: grpc.ServerUnaryCall<DiscoveryRequestWire, Buffer>, callback: grpc.sendUnaryData<Buffer>): void {
    const req = call.request;
    const nodeId = req.node?.id ? clip(req.node.id) : undefined;
    const peer = peerOf(call);
    const denied = this.unauthorized(call, peer);
    if (denied) return callback({ code: GRPC_PERMISSION_DENIED, details: denied });
    const names = req.resource_names ?? [];
    const tooMany = checkNames(names, new Set(names).size, this.limits);
    const result = tooMany ? { error: tooMany } : fetchResources(this.options.cache, { typeUrl: req.type_url ?? '', resourceNames: names });
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
    family?: TypeFamily<Req, Res>,
  ): void {
    const peer = peerOf(call);
    const denied = this.unauthorized(call, peer);
    if (denied) {
      call.emit('error', { code: GRPC_PERMISSION_DENIED, details: denied });
      return;
    }
    const open = this.streamsByPeer.get(peer) ?? 0;
    if (open >= this.limits.maxStreamsPerConnection) {
      const { grpcCode: code, message } = limitExceeded('maxStreamsPerConnection', this.limits.maxStreamsPerConnection, `stream refused: ${open} streams already open on this connection`);
      this.callbacks.refused?.({ peer, what: 'stream', message });
      call.emit('error', { code, details: message });
      return;
    }
    this.streamsByPeer.set(peer, open + 1);
    const session = new StreamSession({
      id: this.nextStreamId(),
      service,
      protocol,
      call,
      cache: this.options.cache,
      callbacks: this.callbacks,
      limits: this.limits,
      onClose: (s) => {
        this.sessions.delete(s);
        const left = (this.streamsByPeer.get(peer) ?? 1) - 1;
        if (left > 0) this.streamsByPeer.set(peer, left);
        else this.streamsByPeer.delete(peer);
      },
      subscribe: (listener) => this.fanOut.add(listener),
      family,
      routes: this.options.routes !== false,
    });
    this.sessions.add(session);
  }
}
