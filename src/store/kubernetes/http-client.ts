/**
 * The KubeClient of a real API server, over node:http(s). Effects: network. The connection
 * details and credentials (server, CA, client certificate, bearer token — refreshed for in-cluster
 * service-account tokens, exec and OIDC plugins) come from @kubernetes/client-node's KubeConfig,
 * applied to every request; the requests themselves are made here, so that every one of them is
 * bounded:
 * - a list answer larger than `maxListBytes` and a watch line (one event) larger than
 *   `maxEventBytes` are failures (the reflector retries; nothing is removed), never a memory spike;
 * - a list that takes longer than `requestTimeoutMs` fails; a watch has no such timeout (it is
 *   meant to stay open) but the reflector takes it for dead when it stays silent too long, and
 *   TCP keep-alive probes its connection.
 *
 * Lists and single requests share one keep-alive connection pool per server and TLS material
 * (KubeConfig makes a new agent, so a new TCP connection and TLS handshake, for every request: at
 * tens of thousands of writes the handshakes were most of the apply sink's and the API server's
 * CPU). The TLS material is read again for every request, as before; when it changes (a rotated
 * client certificate or CA), a new pool is used and the old one is closed once its requests are
 * bounded to have ended. A watch keeps a connection of its own.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { isPlainObject } from '../../util/decode.js';
import { KubeApiError, type KubeClient, type KubeRequest, type KubeWriter, type ListPage, type WatchHandle, type WatchHandlers } from './client.js';

export interface HttpClientLimits {
  readonly maxListBytes: number;
  readonly maxEventBytes: number;
  readonly requestTimeoutMs: number;
}

/** A page of 500 objects of ~1.5 MB (the API server's own limit per object) does not fit: pages are smaller in practice. */
export const DEFAULT_HTTP_CLIENT_LIMITS: HttpClientLimits = {
  maxListBytes: 256 * 1024 * 1024,
  maxEventBytes: 8 * 1024 * 1024,
  requestTimeoutMs: 60_000,
};

/** How long an idle pooled connection is kept open. */
const IDLE_CONNECTION_MS = 30_000;
/** The TLS options of a KubeConfig agent that decide which connections may be shared. */
const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'ciphers', 'secureProtocol', 'crl'] as const;

export class HttpKubeClient implements KubeClient, KubeWriter {
  /** The pooled agent for requests (not watches), and what it was made for. */
  private pool: { readonly key: string; readonly agent: http.Agent } | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly limits: HttpClientLimits = DEFAULT_HTTP_CLIENT_LIMITS,
  ) {}

  /** The API server's URL, for messages. */
  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '(no cluster)';
  }

  async list(path: string, query: Readonly<Record<string, string>>): Promise<ListPage> {
    const req = await this.prepare(path, query, 'GET', { Accept: 'application/json' }, true);
    const body = await new Promise<Buffer>((resolve, reject) => {
      const r = req.send((res) => {
        readBounded(res, this.limits.maxListBytes, (err, data) => {
          if (err) return reject(err);
          if (res.statusCode !== 200) return reject(apiError(res.statusCode, data!));
          resolve(data!);
        });
      });
      r.setTimeout(this.limits.requestTimeoutMs, () => r.destroy(new Error(`no answer within ${this.limits.requestTimeoutMs} ms`)));
      r.on('error', (e) => reject(new KubeApiError(e.message, undefined)));
      r.end();
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new KubeApiError(`the list answer is not JSON: ${(e as Error).message}`, undefined);
    }
    if (!isPlainObject(parsed) || !Array.isArray(parsed.items)) throw new KubeApiError('the list answer has no items', undefined);
    const meta = isPlainObject(parsed.metadata) ? parsed.metadata : {};
    return {
      items: parsed.items,
      resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '',
      continue: typeof meta.continue === 'string' && meta.continue !== '' ? meta.continue : undefined,
    };
  }

  /**
   * One request with a JSON body (writes: apply patches, Lease updates, deletes; and a GET of one
   * object): the parsed answer of a 2xx, else a KubeApiError with the status and the Status
   * object's reason. The answer is bounded by maxEventBytes (one object).
   */
  async request(r: KubeRequest): Promise<unknown> {
    const body = r.body === undefined ? undefined : Buffer.from(JSON.stringify(r.body), 'utf8');
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body) Object.assign(headers, { 'Content-Type': r.contentType ?? 'application/json', 'Content-Length': String(body.length) });
    const req = await this.prepare(r.path, r.query ?? {}, r.method, headers, true);
    const timeout = r.timeoutMs ?? this.limits.requestTimeoutMs;
    const data = await new Promise<Buffer>((resolve, reject) => {
      const q = req.send((res) => {
        readBounded(res, this.limits.maxEventBytes, (err, d) => {
          if (err) return reject(err);
          const code = res.statusCode ?? 0;
          if (code < 200 || code > 299) return reject(apiError(code, d!));
          resolve(d!);
        });
      });
      q.setTimeout(Math.max(1, timeout), () => q.destroy(new Error(`no answer within ${timeout} ms`)));
      q.on('error', (e) => reject(new KubeApiError(e.message, undefined)));
      q.end(body);
    });
    if (data.length === 0) return undefined;
    try {
      return JSON.parse(data.toString('utf8')) as unknown;
    } catch (e) {
      throw new KubeApiError(`the answer is not JSON: ${(e as Error).message}`, undefined);
    }
  }

  watch(path: string, query: Readonly<Record<string, string>>, handlers: WatchHandlers): WatchHandle {
    let stopped = false;
    let ended = false;
    let current: http.ClientRequest | undefined;
    const end = (err: Error | undefined) => {
      if (stopped || ended) return;
      ended = true;
      current?.destroy();
      handlers.end(err);
    };
    void this.prepare(path, { ...query, watch: 'true' }).then(
      (req) => {
        if (stopped) return;
        current = req.send((res) => {
          if (res.statusCode !== 200) {
            readBounded(res, 64 * 1024, (err, data) => end(err ?? apiError(res.statusCode, data!)));
            return;
          }
          if (stopped) return;
          handlers.open();
          let pending: Buffer = Buffer.alloc(0);
          res.on('data', (chunk: Buffer) => {
            if (stopped || ended) return;
            pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
            let nl: number;
            while ((nl = pending.indexOf(0x0a)) >= 0 && !stopped && !ended) {
              const line = pending.subarray(0, nl);
              pending = pending.subarray(nl + 1);
              if (line.length > 0) deliver(line);
            }
            if (pending.length > this.limits.maxEventBytes) end(new KubeApiError(`a watch event is larger than ${this.limits.maxEventBytes} bytes`, undefined));
          });
          res.on('end', () => end(undefined));
          res.on('error', (e) => end(e));
          res.on('close', () => end(res.complete ? undefined : new Error('the watch connection was cut')));
        });
        current.on('socket', (s) => s.setKeepAlive(true, 30_000));
        current.on('error', (e) => end(new KubeApiError(e.message, undefined)));
        current.end();
      },
      (e: unknown) => end(e as Error),
    );
    const deliver = (line: Buffer) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line.toString('utf8'));
      } catch {
        return end(new KubeApiError('a watch line is not JSON', undefined));
      }
      if (!isPlainObject(parsed) || typeof parsed.type !== 'string') return end(new KubeApiError('a watch line is not an event', undefined));
      handlers.event({ type: parsed.type, object: parsed.object });
    };
    return {
      stop: () => {
        stopped = true;
        current?.destroy();
      },
    };
  }

  /**
   * The request for `path?query`, with the KubeConfig's server, TLS settings and credentials;
   * `pooled`: on a kept-alive connection shared with other requests.
   */
  private async prepare(path: string, query: Readonly<Record<string, string>>, method = 'GET', headers: Record<string, string> = { Accept: 'application/json' }, pooled = false): Promise<{ send: (cb: (res: http.IncomingMessage) => void) => http.ClientRequest }> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new KubeApiError('the Kubernetes configuration names no cluster', undefined);
    const url = new URL(cluster.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const opts: https.RequestOptions = { method, headers: { ...headers } };
    try {
      await this.kc.applyToHTTPSOptions(opts);
    } catch (e) {
      throw new KubeApiError(`the Kubernetes credentials cannot be used: ${(e as Error).message}`, undefined);
    }
    const mod = url.protocol === 'http:' ? http : https;
    if (pooled) opts.agent = this.pooledAgent(url, opts.agent);
    return { send: (cb) => mod.request(url, opts, cb) };
  }

  /**
   * The shared keep-alive agent standing for `made` (the one KubeConfig made for this request), or
   * `made` itself when it is not a plain http(s) agent (a proxy agent is used as KubeConfig made it).
   */
  private pooledAgent(url: URL, made: unknown): http.Agent | undefined {
    if (!(made instanceof http.Agent) || (made.constructor !== https.Agent && made.constructor !== http.Agent)) return made as http.Agent | undefined;
    const options = (made as http.Agent & { options: Record<string, unknown> }).options;
    const hash = createHash('sha256').update(`${url.protocol}//${url.host}`);
    for (const k of TLS_OPTIONS) hash.update(`\0${k}=${String(options[k] ?? '')}`);
    const key = hash.digest('hex');
    if (this.pool?.key === key) return this.pool.agent;
    const old = this.pool?.agent;
    const tls = Object.fromEntries(TLS_OPTIONS.filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
    const agent = made.constructor === https.Agent ? new https.Agent({ ...tls, keepAlive: true, timeout: IDLE_CONNECTION_MS }) : new http.Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS });
    this.pool = { key, agent };
    // Requests on the old pool end within their timeouts; then its connections are closed.
    if (old) setTimeout(() => old.destroy(), Math.max(this.limits.requestTimeoutMs, 60_000) + 1000).unref();
    return agent;
  }
}

/** Reads a response body of at most `max` bytes; more is an error (the response is destroyed). */
function readBounded(res: http.IncomingMessage, max: number, done: (err: Error | undefined, data?: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let total = 0;
  let finished = false;
  const finish = (err: Error | undefined, data?: Buffer) => {
    if (finished) return;
    finished = true;
    done(err, data);
  };
  res.on('data', (c: Buffer) => {
    total += c.length;
    if (total > max) {
      res.destroy();
      finish(new KubeApiError(`the answer is larger than ${max} bytes`, undefined));
      return;
    }
    chunks.push(c);
  });
  res.on('end', () => finish(undefined, Buffer.concat(chunks, total)));
  res.on('error', (e) => finish(new KubeApiError(e.message, undefined)));
  res.on('close', () => finish(new KubeApiError('the connection was cut', undefined)));
}

/** The error for a non-200 answer, with the message of its Status object when it has one. */
function apiError(status: number | undefined, body: Buffer): KubeApiError {
  let message = `HTTP ${status}`;
  let reason: string | undefined;
  try {
    const s: unknown = JSON.parse(body.toString('utf8'));
    if (isPlainObject(s) && typeof s.message === 'string') message = `${s.message} (HTTP ${status})`;
    if (isPlainObject(s) && typeof s.reason === 'string') reason = s.reason;
  } catch {
    // not a Status object: the status code says enough
  }
  return new KubeApiError(message, status, reason);
}
