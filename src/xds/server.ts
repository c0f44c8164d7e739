/**
 * The xDS gRPC server: RouteDiscoveryService (StreamRoutes, DeltaRoutes) and
 * AggregatedDiscoveryService (StreamAggregatedResources, DeltaAggregatedResources), both serving
 * the RDS resources of one ResourceCache. Each stream is a StreamSession (session.ts).
 *
 * Transport: plaintext by default; TLS with a certificate and key; mutual TLS when a CA is given
 * (a client certificate signed by it is then required). FetchRoutes (unary) is not implemented:
 * grpc-js answers it UNIMPLEMENTED.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ResourceCache } from './cache.js';
import { loadXdsServices, type XdsServices } from './services.js';
import { StreamSession, type StreamInfo, type StreamMode, type StreamService } from './session.js';

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  /** CA bundle for client certificates: when set, clients must present a certificate it signed. */
  readonly ca?: string | undefined;
}

export interface XdsServerOptions {
  readonly cache: ResourceCache;
  readonly logger: Logger;
  readonly tls?: TlsFiles | undefined;
  /** Extra grpc-js channel options, merged over the defaults. */
  readonly grpcOptions?: grpc.ServerOptions;
  /** Parsed services; loaded on construction when not given. */
  readonly services?: XdsServices;
}

export const DEFAULT_GRPC_OPTIONS: grpc.ServerOptions = {
  'grpc.max_concurrent_streams': 100000,
  // Ping connections every minute so dead proxies are noticed and their streams released.
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};

export function serverCredentials(tls: TlsFiles | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const ca = tls.ca ? readFileSync(tls.ca) : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: readFileSync(tls.cert), private_key: readFileSync(tls.key) }], ca !== null);
}

export class XdsServer {
  private readonly server: grpc.Server;
  private readonly sessions = new Set<StreamSession>();
  private nextId = 1;
  private port: number | undefined;

  constructor(private readonly options: XdsServerOptions) {
    const services = options.services ?? loadXdsServices();
    this.server = new grpc.Server({ ...DEFAULT_GRPC_OPTIONS, ...(options.grpcOptions ?? {}) });
    const handler = (service: StreamService, mode: StreamMode) => (call: grpc.ServerDuplexStream<unknown, unknown>) => this.open(service, mode, call);
    this.server.addService(services.rds, {
      StreamRoutes: handler('rds', 'sotw'),
      DeltaRoutes: handler('rds', 'delta'),
    });
    this.server.addService(services.ads, {
      StreamAggregatedResources: handler('ads', 'sotw'),
      DeltaAggregatedResources: handler('ads', 'delta'),
    });
  }

  /** Binds `host:port` (port 0 = any free port) and resolves with the bound port. */
  listen(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      let creds: grpc.ServerCredentials;
      try {
        creds = serverCredentials(this.options.tls);
      } catch (e) {
        reject(e as Error);
        return;
      }
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
    });
  }

  private open(service: StreamService, mode: StreamMode, call: grpc.ServerDuplexStream<unknown, unknown>): void {
    const session = new StreamSession(this.nextId++, service, mode, call, this.options.cache, this.options.logger, (s) => this.sessions.delete(s));
    this.sessions.add(session);
  }
}
