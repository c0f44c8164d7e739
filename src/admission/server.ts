/**
 * The validating admission webhook's HTTPS server (node:https): POST /validate with an
 * AdmissionReview, answered by review.ts. Effects: sockets; the certificate comes from a
 * CertificateWatcher (src/xds/tls-watch.ts), whose updates are swapped in with setSecureContext, so
 * a rotated certificate is served to new connections without a restart.
 *
 * Bounds (a client here is the API server, but anyone who can reach the port can try):
 * - a body over `maxBodyBytes` is refused with 413 as soon as its length is known (the
 *   Content-Length, or the bytes received so far), without reading the rest;
 * - the headers must arrive within `headersTimeoutMs`, the whole request within
 *   `requestTimeoutMs` (408 otherwise), and an idle connection closes after `idleTimeoutMs`;
 * - at most `maxConnections` connections are open (one more is closed as soon as it is accepted).
 * The API server gives a webhook call at most 30 s (timeoutSeconds, 10 s by default); a decision
 * is a few milliseconds of pure work, so no request needs more than the defaults.
 */
import https from 'node:https';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CertificateWatcher } from '../xds/tls-watch.js';
import { review } from './review.js';
import type { AdmissionContext } from './validate.js';

export interface WebhookLimits {
  readonly maxBodyBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
}

/**
 * An AdmissionReview holds the object and, on UPDATE, the old object; the API server stores objects
 * of at most 1.5 MiB. 4 MiB covers both with room; a MetaRouter is a few KiB.
 */
export const DEFAULT_WEBHOOK_LIMITS: WebhookLimits = {
  maxBodyBytes: 4 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  idleTimeoutMs: 60_000,
  maxConnections: 128,
};

export const WEBHOOK_PATH = '/validate';

/** What happened to one request, for the log (one line each). */
export type WebhookEvent =
  | { readonly kind: 'decided'; readonly uid: string; readonly allowed: boolean; readonly object: string; readonly codes: readonly string[] }
  | { readonly kind: 'refused'; readonly status: number; readonly message: string; readonly peer: string };

export interface WebhookServerOptions {
  /** host:port; port 0 picks a free one. */
  readonly address: string;
  readonly certificates: CertificateWatcher;
  /** The current context (the domain follows MetameshOptions and the mesh config). */
  readonly context: () => AdmissionContext;
  readonly limits?: Partial<WebhookLimits> | undefined;
  readonly report?: ((e: WebhookEvent) => void) | undefined;
}

export class WebhookServer {
  private readonly server: https.Server;
  private readonly limits: WebhookLimits;
  private readonly onIdentity: Parameters<CertificateWatcher['addIdentityCertificateListener']>[0];

  constructor(private readonly options: WebhookServerOptions) {
    const given = Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined);
    this.limits = { ...DEFAULT_WEBHOOK_LIMITS, ...Object.fromEntries(given) };
    const c = options.certificates.currentIdentity();
    this.server = https.createServer(
      {
        cert: c.cert,
        key: c.key,
        minVersion: 'TLSv1.2',
        headersTimeout: this.limits.headersTimeoutMs,
        requestTimeout: this.limits.requestTimeoutMs,
        keepAliveTimeout: Math.min(5_000, this.limits.idleTimeoutMs),
        connectionsCheckingInterval: Math.max(10, Math.min(1000, this.limits.headersTimeoutMs / 4)),
      },
      (req, res) => this.onRequest(req, res),
    );
    this.server.setTimeout(this.limits.idleTimeoutMs);
    this.server.maxConnections = this.limits.maxConnections;
    // A failed handshake (a client that does not trust the certificate, a port scan) is that
    // connection's end, nothing more.
    this.server.on('tlsClientError', (_e, socket) => socket.destroy());
    this.onIdentity = (update) => {
      if (update) this.server.setSecureContext({ cert: update.certificate, key: update.privateKey, minVersion: 'TLSv1.2' });
    };
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(this.options.address);
      if (!m) return reject(new Error(`webhook address ${JSON.stringify(this.options.address)} is not host:port`));
      this.server.once('error', reject);
      this.server.listen(Number(m[2]), m[1], () => {
        this.server.off('error', reject);
        // From now on the certificate follows its files.
        this.options.certificates.addIdentityCertificateListener(this.onIdentity);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting; requests in progress get up to `graceMs`, then every connection is closed. */
  close(graceMs: number): Promise<void> {
    this.options.certificates.removeIdentityCertificateListener(this.onIdentity);
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const peer = `${req.socket.remoteAddress ?? 'unknown'}:${req.socket.remotePort ?? 0}`;
    const refuse = (status: number, message: string) => {
      this.options.report?.({ kind: 'refused', status, message, peer });
      if (!res.headersSent) {
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
        res.end(`${message}\n`);
      }
    };
    const path = (req.url ?? '/').split('?')[0];
    if (path !== WEBHOOK_PATH) return refuse(404, `not found; the webhook answers POST ${WEBHOOK_PATH}`);
    if (req.method !== 'POST') return refuse(405, `method not allowed; the webhook answers POST ${WEBHOOK_PATH}`);
    const max = this.limits.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? NaN);
    // Over the limit: the answer is sent, the rest of the body is not read, and the connection
    // closes once the answer is out (destroying at once could lose the answer).
    const overLimit = (message: string) => {
      req.pause();
      res.once('finish', () => req.socket.destroy());
      refuse(413, message);
    };
    if (declared > max) return overLimit(`the body is ${declared} bytes, over the limit of ${max}`);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        return overLimit(`the body is over the limit of ${max} bytes`);
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > max) return;
      let answer;
      try {
        answer = review(Buffer.concat(chunks).toString('utf8'), this.options.context());
      } catch (e) {
        // A bug, never bad input: review() does not throw for any body.
        return refuse(500, `internal error: ${(e as Error).message}`);
      }
      if ('error' in answer) return refuse(answer.error.status, answer.error.message);
      const r = answer.answer.response;
      this.options.report?.({ kind: 'decided', uid: r.uid, allowed: r.allowed, object: answer.object, codes: answer.codes });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.answer));
    });
    req.on('error', () => undefined);
  }
}
