/**
 * The HTTP side of `metamesh serve`, on fastify: the health endpoints (open to probes), the debug
 * endpoints and the dashboard with its JSON API (guarded, see http-policy.ts). Effects: sockets,
 * and reading the token file at start.
 *
 * Routes come in two forms: `endpoints`, synchronous GET handlers keyed by path (the health and
 * /debug ones), and `routes`, a function that registers fastify routes on the app (the dashboard,
 * src/dashboard/). A registered route is guarded when its `config.guarded` is true; the hook
 * applying the policy runs before every route, the not-found handler included. A later route such
 * as `/metrics` is one more `app.get(path, { config: { guarded }, schema }, async () => …)` in a
 * `routes` function: handlers may be async.
 *
 * No client can hold the server's resources for long or without bound (the node:http server is
 * made here, with these options, and handed to fastify as its server):
 * - a connection with no traffic in either direction for `idleTimeoutMs` is closed, whether it
 *   never sent a byte, stopped half-way through its headers or stopped reading a response;
 * - the headers must arrive within `headersTimeoutMs` and the whole request within
 *   `requestTimeoutMs` (a client trickling bytes gets 408);
 * - between requests a keep-alive connection waits `keepAliveTimeoutMs` (at most the idle timeout);
 * - at most `maxConnections` connections are open; further ones are closed at once;
 * - at most `maxPendingRequests` requests of one connection are answered but not yet sent (a client
 *   that pipelines requests and does not read the answers); the connection is closed at the next
 *   one, so a client cannot make the server compute and hold answers without bound.
 * Long-lived responses (the dashboard's event stream) are bounded by their own route.
 * close(graceMs) stops accepting, lets requests in progress finish for up to `graceMs`, then
 * closes every connection.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifySchema, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import type { RouteRecord } from '../dashboard/openapi.js';
import { debugAccess, refusal, type AccessContext, type DebugAccess } from './http-policy.js';

export interface HttpLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
  maxPendingRequests: 16,
};

/** A text reply is sent as text/plain unless it names its content type (the metrics' exposition format). */
export type Reply = { readonly status: number; readonly json: unknown } | { readonly status: number; readonly text: string; readonly contentType?: string };

export interface Endpoint {
  /** Debug endpoints need the token (or loopback); health endpoints do not. */
  readonly debug: boolean;
  /** One sentence for the OpenAPI document. */
  readonly summary?: string;
  /** A promise for answers that are computed asynchronously (/metrics); a rejection is a 500 (the error handler). */
  handle(query: URLSearchParams): Reply | Promise<Reply>;
}

/** An endpoint that answers at once. */
export interface SyncEndpoint extends Endpoint {
  handle(query: URLSearchParams): Reply;
}

/** Registers routes on the app; `config: { guarded: true }` puts a route behind the token policy. */
export type RouteRegistrar = (app: FastifyInstance, server: HttpServer) => void;

export interface HttpServerOptions {
  /** host:port; port 0 picks a free port. */
  readonly address: string;
  readonly endpoints: Readonly<Record<string, Endpoint>>;
  readonly routes?: readonly RouteRegistrar[] | undefined;
  /** The bearer token debug endpoints require; none means open on loopback, disabled elsewhere. */
  readonly token?: string | undefined;
  /** Host names clients may send besides the bound address (and localhost on loopback). */
  readonly hostNames?: readonly string[] | undefined;
  readonly limits?: Partial<HttpLimits> | undefined;
}

export interface Listening {
  readonly port: number;
  /** The bound IP address. */
  readonly address: string;
  readonly debug: DebugAccess;
}

/** What a route's `config` may say. */
export interface RouteConfig {
  /** Behind the token policy (debug endpoints, the dashboard and its API). */
  readonly guarded?: boolean;
}

/**
 * The token of `--http-token-file`: the file's content without surrounding whitespace. An
 * unreadable or empty file is an error (the server must not start with a token nobody knows).
 */
export function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the HTTP token file ${file}: ${(e as Error).message}`);
  }
  const token = text.trim();
  if (token === '') throw new Error(`the HTTP token file ${file} is empty; write the token into it`);
  if (/\s/.test(token)) throw new Error(`the HTTP token file ${file} holds more than one word; a bearer token has no spaces`);
  return token;
}

export class HttpServer {
  readonly app: FastifyInstance;
  /** Every route registered, with its schema: the OpenAPI document is made from it. */
  readonly routeTable: RouteRecord[] = [];
  private server: http.Server | undefined;
  private access: AccessContext | undefined;

  constructor(private readonly options: HttpServerOptions) {
    const given = Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined);
    const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...Object.fromEntries(given) };
    this.app = Fastify({
      // The server is made here so that every limit above is set on it (fastify sets none on a
      // server it is given).
      serverFactory: (handler) => {
        const server = http.createServer(
          {
            headersTimeout: limits.headersTimeoutMs,
            requestTimeout: limits.requestTimeoutMs,
            // node replaces the idle timeout by this one between requests: never let it be longer.
            keepAliveTimeout: Math.min(limits.keepAliveTimeoutMs, limits.idleTimeoutMs),
            // How often the header and request timeouts are checked (node's default is 30 s).
            connectionsCheckingInterval: Math.max(10, Math.min(1000, limits.headersTimeoutMs / 4)),
          },
          pendingLimited(limits.maxPendingRequests, handler),
        );
        // Without a 'timeout' listener node destroys the socket when it has been idle this long.
        server.setTimeout(limits.idleTimeoutMs);
        server.maxConnections = limits.maxConnections;
        this.server = server;
        return server;
      },
      logger: false,
      // Request targets are matched as sent: `//healthz` is not `/healthz`.
      routerOptions: { ignoreDuplicateSlashes: false, maxParamLength: 1024 },
      return503OnClosing: true,
      forceCloseConnections: false,
    });
    this.app.addHook('onRoute', (r) => {
      for (const method of [r.method].flat()) this.routeTable.push({ method, url: r.url ?? r.path, schema: r.schema as Record<string, unknown> | undefined, guarded: (r.config as RouteConfig | undefined)?.guarded === true });
    });
    this.app.addHook('onRequest', (req, reply, done) => this.guard(req, reply, done));
    this.app.setNotFoundHandler((_req, reply) => {
      void sendReply(reply, { status: 404, text: `not found; try ${this.paths().join(', ')}` });
    });
    // A handler's bug or a refused request is an answer, never a crash; fastify's validation
    // errors (400) keep their message, anything else is a 500 naming the error.
    this.app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      void sendReply(reply, { status, text: status === 500 ? `internal error: ${err.message}` : err.message });
    });
    for (const [path, endpoint] of Object.entries(options.endpoints)) {
      this.app.get(path, { config: { guarded: endpoint.debug }, schema: { summary: endpoint.summary ?? path, tags: [endpoint.debug ? 'debug' : 'health'] } as FastifySchema }, async (req, reply) => {
        const raw = req.raw.url ?? '';
        const q = raw.indexOf('?');
        // A rejected promise (or a throw) goes to the error handler above: a 500, never a crash.
        return sendReply(reply, await endpoint.handle(new URLSearchParams(q < 0 ? '' : raw.slice(q + 1))));
      });
    }
    for (const register of options.routes ?? []) register(this.app, this);
  }

  listen(): Promise<Listening> {
    const { host, port } = splitHostPort(this.options.address);
    return this.app.listen({ host, port, listenTextResolver: () => '' }).then(() => {
      const bound = this.server!.address() as AddressInfo;
      this.access = {
        boundAddress: bound.address,
        hostNames: new Set((this.options.hostNames ?? []).map((n) => n.toLowerCase().replace(/\.$/, ''))),
        token: this.options.token,
      };
      return { port: bound.port, address: bound.address, debug: debugAccess(bound.address, this.options.token !== undefined) };
    });
  }

  /** A request without a socket (fastify's inject), under the same policy; call after listen(). */
  inject(opts: InjectOptions): Promise<LightMyRequestResponse> {
    return this.app.inject(opts);
  }

  /** Stops accepting; requests in progress get up to `graceMs`, then every connection is closed. */
  close(graceMs: number): Promise<void> {
    const server = this.server;
    if (!server?.listening) return this.app.close();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    const closed = this.app.close().finally(() => clearTimeout(timer));
    server.closeIdleConnections();
    return closed;
  }

  /** The paths served, for the not-found answer. */
  private paths(): string[] {
    return [...Object.keys(this.options.endpoints), ...this.extraPaths];
  }

  private readonly extraPaths: string[] = [];

  /** Host check for every request; the token policy for guarded routes; GET and HEAD only. */
  private guard(req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
    const config = (req.routeOptions.config ?? {}) as RouteConfig;
    const access = this.access ?? { boundAddress: '127.0.0.1', hostNames: new Set<string>(), token: this.options.token };
    const refused = refusal({ host: req.headers.host, authorization: req.headers.authorization }, config.guarded === true, access);
    if (refused) {
      void reply.code(refused.status).headers(refused.headers ?? {}).type('text/plain; charset=utf-8').send(`${refused.text}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      void sendReply(reply, { status: 405, text: 'method not allowed' });
      return;
    }
    done();
  }

  /** Paths of registered routes worth naming in a 404 (the dashboard's entry points). */
  advertise(...paths: string[]): void {
    this.extraPaths.push(...paths);
  }
}

function sendReply(reply: FastifyReply, r: Reply): FastifyReply {
  if ('json' in r) return reply.code(r.status).type('application/json').send(`${JSON.stringify(r.json, null, 2)}\n`);
  return reply.code(r.status).type(r.contentType ?? 'text/plain; charset=utf-8').send(r.text.endsWith('\n') ? r.text : `${r.text}\n`);
}

function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`address ${JSON.stringify(address)} is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * Wraps a request handler so that a connection with more than `max` requests whose answers are not
 * sent yet (node parses every pipelined request of a chunk at once, and queues their answers while
 * the client does not read) is closed instead of answering the next one.
 */
function pendingLimited(max: number, handler: http.RequestListener): http.RequestListener {
  const pending = new WeakMap<object, number>();
  return (req, res) => {
    const socket = req.socket;
    if (socket.destroyed) return;
    const n = (pending.get(socket) ?? 0) + 1;
    if (n > max) {
      socket.destroy();
      return;
    }
    pending.set(socket, n);
    // 'close' comes once the answer is sent, or the connection is gone.
    res.once('close', () => pending.set(socket, (pending.get(socket) ?? 1) - 1));
    handler(req, res);
  };
}
