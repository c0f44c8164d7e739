/**
 * `metamesh serve`: all the wiring in one place. Start order (each step needs the previous one):
 *
 *   0. check that every path exists (MissingSourceError otherwise; nothing is started)
 *   1. load the built-in protocol descriptors (protocols/*.json)
 *   2. read the manifest directory (DirectoryStore.load)
 *   3. Engine: apply every resource, flush
 *   4. ResourceCache.setResources(engine.output().routes by name): encodes each route table once
 *   5. gRPC xDS server listens (streams are answered from the cache from the first request)
 *   6. HTTP server listens (/healthz, /readyz, /debug/xds, /debug/config); ready from here on
 *   7. watch the directory; on each change:
 *        engine.apply(changes) + flush → cache.update(changed routes via engine.route(), removed)
 *      and the cache pushes to every subscribed stream.
 *
 * close() undoes it in reverse: stop watching, stop HTTP, shut the gRPC server down gracefully
 * (tryShutdown, then forceShutdown after the grace period).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { Engine } from '../pipeline/engine.js';
import { loadBuiltinProtocols } from '../protocol/builtin.js';
import { DirectoryStore, type StoreUpdate, type Timers } from '../store/directory.js';
import { missingPaths } from '../store/list.js';
import { outputDocument } from '../pipeline/document.js';
import { ResourceCache, routesByName } from '../xds/cache.js';
import { composeCallbacks } from '../xds/callbacks.js';
import type { XdsLimits } from '../xds/limits.js';
import { loggingCallbacks } from '../xds/log-callbacks.js';
import { XdsServer, type TlsFiles } from '../xds/server.js';

export interface ServeOptions {
  readonly files: readonly string[];
  /** host:port; port 0 picks a free port. */
  readonly xdsAddress: string;
  readonly httpAddress: string;
  readonly tls?: TlsFiles | undefined;
  /** Limits of the xDS server; its defaults (DEFAULT_XDS_LIMITS) where not given. */
  readonly xdsLimits?: Partial<XdsLimits>;
  readonly logger?: Logger;
  /** Directory watching (tests may pass 'poll' or 'none'). */
  readonly watch?: 'auto' | 'poll' | 'none';
  readonly debounceMs?: number;
  readonly pollIntervalMs?: number;
  readonly timers?: Timers;
  /** Graceful shutdown budget before streams are cut. */
  readonly shutdownGraceMs?: number;
}

export interface Running {
  readonly xdsPort: number;
  readonly httpPort: number;
  readonly xds: XdsServer;
  readonly cache: ResourceCache;
  readonly engine: Engine;
  readonly store: DirectoryStore;
  /** How many watcher updates have been applied so far (tests wait on it). */
  readonly updates: number;
  close(): Promise<void>;
}

/**
 * serve() was given no path, or a path that does not exist. It refuses to start rather than
 * report ready while serving nothing; the CLI turns this into exit 2.
 */
export class MissingSourceError extends Error {
  constructor(readonly paths: readonly string[]) {
    super(paths.length === 0 ? 'no manifest path given; name a file or directory to serve' : `${paths.join(', ')}: no such file or directory`);
    this.name = 'MissingSourceError';
  }
}

export async function serve(opts: ServeOptions): Promise<Running> {
  const log = opts.logger ?? pino({ name: 'metamesh' });

  // 0. the sources must exist before anything listens (a typo would otherwise serve no routes)
  const missing = missingPaths(opts.files);
  if (opts.files.length === 0 || missing.length > 0) throw new MissingSourceError(missing);

  // 1. built-in protocols
  const builtins = loadBuiltinProtocols();

  // 2. the manifests
  const store = new DirectoryStore({
    paths: opts.files,
    logger: log,
    watch: opts.watch,
    debounceMs: opts.debounceMs,
    pollIntervalMs: opts.pollIntervalMs,
    timers: opts.timers,
  });
  const first = store.load();
  logDiagnostics(log, first);

  // 3. the engine
  const engine = new Engine(builtins, first.options, first.diagnostics);
  engine.apply(first.changes);
  engine.flush();

  // 4. the cache: every route table encoded once, shared by all streams
  const cache = new ResourceCache();
  cache.setResources(routesByName(engine.output().routes));

  // 5. xDS; stream events go to the log (metrics and the dashboard will subscribe here too)
  const xds = new XdsServer({ cache, callbacks: composeCallbacks(loggingCallbacks(log)), tls: opts.tls, limits: opts.xdsLimits });
  const xdsPort = await xds.listen(opts.xdsAddress);

  // 6. HTTP
  let ready = false;
  const httpServer = http.createServer((req, res) => handleHttp(req, res, { ready: () => ready, xds, engine }));
  const httpPort = await listenHttp(httpServer, opts.httpAddress).catch(async (e: unknown) => {
    await xds.shutdown(0);
    throw e;
  });
  ready = true;

  // 7. watch and apply changes
  let updates = 0;
  const onUpdate = (u: StoreUpdate) => {
    try {
      if (u.optionsChanged) engine.setOptions(u.options);
      engine.setInputDiagnostics(u.diagnostics);
      engine.apply(u.changes);
      const delta = engine.flush();
      const upserts = new Map<string, object>();
      for (const name of delta.changedRoutes) {
        const r = engine.route(name);
        if (r) upserts.set(name, r);
      }
      const result = cache.update(upserts, delta.removedRoutes);
      logDiagnostics(log, u);
      log.info({ event: 'update', resourceChanges: u.changes.length, routesChanged: [...result.changed], routesRemoved: [...result.removed] }, 'configuration updated');
    } catch (e) {
      log.error({ event: 'update-failed', err: (e as Error).message }, 'applying the change failed; the previous routes stay served');
    } finally {
      updates++;
    }
  };
  store.start(onUpdate);

  let closing: Promise<void> | undefined;
  const running: Running = {
    xdsPort,
    httpPort,
    xds,
    cache,
    engine,
    store,
    get updates() {
      return updates;
    },
    close: () =>
      (closing ??= (async () => {
        ready = false;
        store.close();
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        });
        await xds.shutdown(opts.shutdownGraceMs ?? 5000);
        log.info({ event: 'stopped' }, 'metamesh stopped');
      })()),
  };
  return running;
}

function logDiagnostics(log: Logger, u: StoreUpdate): void {
  if (!u.diagnosticsChanged) return;
  for (const d of u.diagnostics) {
    if (d.severity === 'error' || d.severity === 'warning') log.warn({ event: 'diagnostic', code: d.code, object: d.object }, d.message);
  }
}

interface HttpContext {
  ready(): boolean;
  xds: XdsServer;
  engine: Engine;
}

function handleHttp(req: http.IncomingMessage, res: http.ServerResponse, ctx: HttpContext): void {
  const url = (req.url ?? '/').split('?')[0];
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(body, null, 2)}\n`);
  };
  const text = (status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${body}\n`);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'method not allowed');
  switch (url) {
    case '/healthz':
      return text(200, 'ok');
    case '/readyz':
      return ctx.ready() ? text(200, 'ready') : text(503, 'not ready');
    case '/debug/xds':
      return json(200, { streams: ctx.xds.streams() });
    case '/debug/config':
      return json(200, outputDocument(ctx.engine.output()));
    default:
      return text(404, 'not found; try /healthz, /readyz, /debug/xds, /debug/config');
  }
}

export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`address ${JSON.stringify(address)} is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

function listenHttp(server: http.Server, address: string): Promise<number> {
  const { host, port } = splitHostPort(address);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
