/**
 * The HTTP side of `metamesh serve` (node:http): a fixed set of GET endpoints, each either a health
 * endpoint (open to probes) or a debug endpoint (guarded, see http-policy.ts). Effects: sockets,
 * and reading the token file at start.
 *
 * No client can hold the server's resources for long or without bound:
 * - a connection with no traffic in either direction for `idleTimeoutMs` is closed, whether it
 *   never sent a byte, stopped half-way through its headers or stopped reading a response;
 * - the headers must arrive within `headersTimeoutMs` and the whole request within
 *   `requestTimeoutMs` (a client trickling bytes gets 408);
 * - between requests a keep-alive connection waits `keepAliveTimeoutMs` (at most the idle timeout);
 * - at most `maxConnections` connections are open; further ones are closed at once.
 * close(graceMs) stops accepting, lets requests in progress finish for up to `graceMs`, then
 * closes every connection.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { debugAccess, refusal, type AccessContext, type DebugAccess } from './http-policy.js';

export interface HttpLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
};

/** A text reply is sent as text/plain unless it names its content type (the metrics' exposition format). */
export type Reply = { readonly status: number; readonly json: unknown } | { readonly status: number; readonly text: string; readonly contentType?: string };

export interface Endpoint {
  /** Debug endpoints need the token (or loopback); health endpoints do not. */
  readonly debug: boolean;
  /** A promise for answers that are computed asynchronously (/metrics); a rejection is a 500. */
  handle(query: URLSearchParams): Reply | Promise<Reply>;
}

/** An endpoint that answers at once. */
export interface SyncEndpoint extends Endpoint {
  handle(query: URLSearchParams): Reply;
}

export interface HttpServerOptions {
  /** host:port; port 0 picks a free port. */
  readonly address: string;
  readonly endpoints: Readonly<Record<string, Endpoint>>;
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
  private readonly server: http.Server;
  private access: AccessContext | undefined;

  constructor(private readonly options: HttpServerOptions) {
    const given = Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined);
    const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...Object.fromEntries(given) };
    this.server = http.createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        // node replaces the idle timeout by this one between requests: never let it be longer.
        keepAliveTimeout: Math.min(limits.keepAliveTimeoutMs, limits.idleTimeoutMs),
        // How often the header and request timeouts are checked (node's default is 30 s).
        connectionsCheckingInterval: Math.max(10, Math.min(1000, limits.headersTimeoutMs / 4)),
      },
      (req, res) => this.onRequest(req, res),
    );
    // Without a 'timeout' listener node destroys the socket when it has been idle this long.
    this.server.setTimeout(limits.idleTimeoutMs);
    this.server.maxConnections = limits.maxConnections;
  }

  listen(): Promise<Listening> {
    return new Promise((resolve, reject) => {
      const { host, port } = splitHostPort(this.options.address);
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const bound = this.server.address() as AddressInfo;
        this.access = {
          boundAddress: bound.address,
          hostNames: new Set((this.options.hostNames ?? []).map((n) => n.toLowerCase().replace(/\.$/, ''))),
          token: this.options.token,
        };
        resolve({ port: bound.port, address: bound.address, debug: debugAccess(bound.address, this.options.token !== undefined) });
      });
    });
  }

  /** Stops accepting; requests in progress get up to `graceMs`, then every connection is closed. */
  close(graceMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  /** Never throws: a client's request target or a handler's bug is an answer, not a crash. */
  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    try {
      this.answer(req, res);
    } catch (e) {
      if (!res.headersSent) send(res, { status: 500, text: `internal error: ${(e as Error).message}` });
      else res.destroy();
    }
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    // The path and query as sent; URL() is not used, it throws on targets such as `//` or `/\`.
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const pathname = q < 0 ? target : target.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
    const endpoint = Object.hasOwn(this.options.endpoints, pathname) ? this.options.endpoints[pathname] : undefined;
    const refused = refusal({ host: req.headers.host, authorization: req.headers.authorization }, endpoint?.debug ?? false, this.access!);
    if (refused) {
      res.writeHead(refused.status, { 'content-type': 'text/plain; charset=utf-8', ...(refused.headers ?? {}) });
      res.end(`${refused.text}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, { status: 405, text: 'method not allowed' });
    if (!endpoint) return send(res, { status: 404, text: `not found; try ${Object.keys(this.options.endpoints).join(', ')}` });
    const reply = endpoint.handle(query);
    if (!(reply instanceof Promise)) return send(res, reply);
    // Never an unhandled rejection: a failed handler (or send) is a 500, or a cut connection.
    reply
      .then((r) => send(res, r))
      .catch((e: unknown) => {
        if (res.headersSent) return void res.destroy();
        try {
          send(res, { status: 500, text: `internal error: ${(e as Error).message}` });
        } catch {
          res.destroy();
        }
      });
  }
}

function send(res: http.ServerResponse, reply: Reply): void {
  if ('json' in reply) {
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(reply.json, null, 2)}\n`);
  } else {
    res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'text/plain; charset=utf-8' });
    res.end(reply.text.endsWith('\n') ? reply.text : `${reply.text}\n`);
  }
}

function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`address ${JSON.stringify(address)} is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}
