/**
 * `metamesh serve`: all the wiring in one place. Longer than 300 lines: it is the one function that
 * constructs and starts everything, in the commented order below, on purpose. Start order (each step needs the previous one):
 *
 *   0. check that every path exists (MissingSourceError otherwise), that the TLS files can be
 *      served (TlsRefusedError otherwise: an expired or not yet valid certificate, a key that is not
 *      its key, a CA file without certificates) and read the HTTP token file (an Error naming it
 *      otherwise); nothing is started
 *   1. load the built-in protocol descriptors (protocols/*.json)
 *   1b. with a Kubernetes source: start its informers and wait (up to the sync timeout) until every
 *      kind has been listed once, so that the first routes served are complete (a replica that
 *      served before its lists were in would withdraw every MetaRouter until they were)
 *   2. read the sources: the `-f` paths and the Kubernetes objects (ConfigStore.load)
 *   3. Engine: apply every resource, flush
 *   4. ResourceCache.setResources(engine.output().routes by name): encodes each route table once;
 *      with --mcp, the MCP sink takes the generated objects (src/runtime/mcp.ts) and is ready at
 *      once without registries, otherwise once every registry's first read is applied
 *   5. gRPC xDS server listens (streams are answered from the cache from the first request; MCP
 *      streams from istiod once the sink is ready: istiod exits if it cannot connect at start, so
 *      the port is open before the HTTP server reports ready)
 *   5b. with --mcp-address, the MCP listener for istiod; with --webhook-address, the admission
 *      webhook (HTTPS; it decides with the current options, side-listeners.ts)
 *   6. HTTP server listens (/healthz, /readyz, /metrics, /debug/xds, /debug/config,
 *      /debug/registries, /debug/explain, the dashboard at /dashboard/ and its API under /api/,
 *      http-app.ts); ready from here on once every registry has been read and
 *      applied and every Kubernetes kind listed (readiness.ts; the ready timeout, health.ts, names
 *      what is missing); /readyz also shows the health of every source (ConfigStore.status()) and
 *      /debug/registries what the registries' outage policy is doing (registries-debug.ts); the
 *      metrics (src/metrics/) are fed by the xDS callbacks, the registry hub, the builds and the
 *      MCP sink from the start
 *   6b. with --apply, --status or --leader-elect (kube-writes.ts): elect, and while leading write
 *      the generated objects (server-side apply) and the rules' status after every change
 *   7. watch the files (and rescan them periodically) and the Kubernetes API; on each change:
 *        engine.apply(changes) + flush → cache.update(changed routes via engine.route(), removed)
 *      and the cache pushes to every subscribed stream; the MCP sink pushes every changed
 *      collection, complete, to every istiod.
 *
 * close() stops watching, then drains HTTP and xDS side by side within one grace period (requests
 * in progress and open streams get that long; whatever is left is then cut), then stops watching
 * the TLS files.
 */
import pino, { type Logger } from 'pino';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import { operationOfAction, recordBuild, recordSinkError, recordSinkWrites, registryMetrics, type BuildTrigger } from '../metrics/recorders.js';
import { metricsCallbacks } from '../metrics/xds.js';
import { DEFAULT_READY_TIMEOUT_MS, Health } from './health.js';
import { Engine } from '../pipeline/engine.js';
import { loadBuiltinProtocols } from '../protocol/builtin.js';
import { realTimers, type ConfigStore, type StoreUpdate, type Timers } from '../store/store.js';
import { DEFAULT_KUBE_SYNC_TIMEOUT_MS, MissingSourceError, openSources, type KubernetesServeOptions } from './sources.js';

export { DEFAULT_KUBE_SYNC_TIMEOUT_MS, MissingSourceError, type KubernetesServeOptions } from './sources.js';
export { DEFAULT_READY_TIMEOUT_MS } from './health.js';
import { missingPaths } from '../store/list.js';
import { ResourceCache, routesByName } from '../xds/cache.js';
import { composeCallbacks } from '../xds/callbacks.js';
import type { XdsLimits } from '../xds/limits.js';
import { loggingCallbacks } from '../xds/log-callbacks.js';
import { XdsServer } from '../xds/server.js';
import { logTlsEvent } from '../xds/tls-log.js';
import { CertificateWatcher, type TlsOptions } from '../xds/tls-watch.js';
import type { InputLimits } from '../input/limits.js';
import { DEBUG_ACCESS_LOG, type DebugAccess } from './http-policy.js';
import { readTokenFile, type HttpLimits, type HttpServer } from './http.js';
import { httpApp } from './http-app.js';
import { AckTracker } from '../dashboard/acks.js';
import { DEFAULT_EVENT_OPTIONS, EventHub, type EventHubOptions } from '../dashboard/events.js';
import { RegistryHistory } from '../dashboard/history.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { RegistryConfig } from '../registry/config.js';
import { DEFAULT_REGISTRY_SYNC_OPTIONS, type RegistrySyncOptions } from '../registry/sync.js';
import type { CatalogOptions } from '../catalog/model.js';
import type { ServiceEntryOptions } from '../serviceentry/generate.js';
import { RegistryHub } from './registries.js';
import { McpSink } from './mcp.js';
import { KubeWrites, type KubeWritesOptions } from './kube-writes.js';
import { ownOutputFilter, pipelineView, withLiveAllocations } from './writes-view.js';
import type { ServiceEntry } from '../model/resources.js';
import type { KubeClient, KubeWriter } from '../store/kubernetes/client.js';
import { startSideListeners } from './side-listeners.js';
import { cachedRe2Check } from '../util/regex.js';

export interface ServeOptions {
  readonly files: readonly string[];
  /** host:port; port 0 picks a free port. */
  readonly xdsAddress: string;
  readonly httpAddress: string;
  /** TLS files of the xDS server, reloaded when they change (tls-watch.ts); plaintext when absent. */
  readonly tls?: (TlsOptions & { readonly clientTrustDomains?: readonly string[] | undefined }) | undefined;
  /** Limits of the xDS server; its defaults (DEFAULT_XDS_LIMITS) where not given. */
  readonly xdsLimits?: Partial<XdsLimits>;
  readonly logger?: Logger;
  /** Directory watching (tests may pass 'poll' or 'none'). */
  readonly watch?: 'auto' | 'poll' | 'none';
  readonly debounceMs?: number;
  readonly pollIntervalMs?: number;
  /** Period of the full rescan of the files (a safety net under the watcher); 0 turns it off. */
  readonly rescanIntervalMs?: number | undefined;
  /** The input limits every file is read under (defaults: DEFAULT_INPUT_LIMITS). */
  readonly limits?: InputLimits | undefined;
  /** Service registries whose services become ServiceEntries (src/runtime/registries.ts). */
  readonly registries?: readonly RegistryConfig[] | undefined;
  /** The registries' outage policy (src/catalog/model.ts); DEFAULT_CATALOG_OPTIONS where not given. */
  readonly catalog?: Partial<CatalogOptions> | undefined;
  /** Where the ServiceEntries of registry services go (src/registry/namespaces.ts); default: namespace `default`. */
  readonly serviceEntries?: ServiceEntryOptions | undefined;
  readonly timers?: Timers;
  /** How long close() lets xDS streams and HTTP requests finish before cutting them (default 5 s). */
  readonly shutdownGraceMs?: number;
  /** File holding the bearer token of the debug endpoints (read once, at start). */
  readonly httpTokenFile?: string | undefined;
  /** Host names HTTP clients may use besides the bound address (and localhost on loopback). */
  readonly httpHostNames?: readonly string[] | undefined;
  readonly httpLimits?: Partial<HttpLimits> | undefined;
  /** Limits of the dashboard's event streams (src/dashboard/events.ts). */
  readonly dashboardEvents?: Partial<EventHubOptions> | undefined;
  /** Serve the generated Istio config to istiod over MCP-over-xDS (src/runtime/mcp.ts), on the xDS port or its own `address`. */
  readonly mcp?: { readonly revision?: string | undefined; readonly address?: string | undefined; readonly plaintext?: boolean | undefined } | undefined;
  /** The validating admission webhook (src/admission/), over HTTPS with these files. */
  readonly webhook?: { readonly address: string; readonly cert: string; readonly key: string } | undefined;
  /** The Kubernetes API as a source, beside or instead of the files. */
  readonly kubernetes?: KubernetesServeOptions | undefined;
  /** What is written to the Kubernetes API (apply sink, status, leader election), with its client. */
  readonly writes?: (KubeWritesOptions & { readonly client: KubeClient & KubeWriter }) | undefined;
  /** How long after the start a server still not ready logs and diagnoses it (health.ts); 0: never. */
  readonly readyTimeoutMs?: number | undefined;
  /** Node.js process metrics at /metrics besides metamesh's (default true). */
  readonly processMetrics?: boolean | undefined;
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 5000;

export interface Running {
  readonly xdsPort: number;
  readonly httpPort: number;
  /** With --mcp-address. */
  readonly mcpPort: number | undefined;
  /** With --webhook-address. */
  readonly webhookPort: number | undefined;
  /** How the debug endpoints are guarded: open (loopback, no token), token, or disabled. */
  readonly debugAccess: DebugAccess;
  readonly xds: XdsServer;
  readonly cache: ResourceCache;
  readonly engine: Engine;
  readonly store: ConfigStore;
  /** The MCP sink, with --mcp. */
  readonly mcp: McpSink | undefined;
  /** The apply sink, status writer and elector, with --apply, --status or --leader-elect. */
  readonly writes: KubeWrites | undefined;
  /** What /metrics serves (src/metrics/metrics.ts). */
  readonly metrics: Metrics;
  /** The HTTP server (its inject() answers without a socket, under the same policy). */
  readonly http: HttpServer;
  /** How many watcher updates have been applied so far (tests wait on it). */
  readonly updates: number;
  close(): Promise<void>;
}

export async function serve(opts: ServeOptions): Promise<Running> {
  const log = opts.logger ?? pino({ name: 'metamesh' });

  // 0. the sources must exist before anything listens (a typo would otherwise serve no routes)
  const missing = missingPaths(opts.files);
  if ((opts.files.length === 0 && (opts.registries ?? []).length === 0 && !opts.kubernetes) || missing.length > 0) throw new MissingSourceError(missing);
  const token = opts.httpTokenFile === undefined ? undefined : readTokenFile(opts.httpTokenFile);
  // …and so must TLS files that can be served; they are watched once the gRPC server takes them
  const certificates = opts.tls ? CertificateWatcher.open(opts.tls, { report: (e) => logTlsEvent(log, e), timers: opts.timers }) : undefined;
  const webhookCertificates = opts.webhook ? CertificateWatcher.open(opts.webhook, { report: (e) => logTlsEvent(log, e, 'webhook'), timers: opts.timers }) : undefined;

  // 1. built-in protocols (and the regex check the webhook shares across requests)
  const builtins = loadBuiltinProtocols();
  const checkRegex = cachedRe2Check();

  // 1a. the metrics: what they read at each scrape is declared below (the closures run only then)
  let serving = false;
  const metrics = createMetrics({
    processMetrics: opts.processMetrics,
    sources: {
      registryStatuses: () => registries?.statuses() ?? [],
      catalog: () => registries?.debugInput().state ?? { registries: [] },
      decisions: () => registries?.debugInput().decisions ?? [],
      diagnostics: () => [...engine.output().diagnostics, ...(mcp?.currentDiagnostics() ?? [])],
      ready: () => health.state().ready,
    },
  });
  // 1b + 2. the sources: the Kubernetes API (and, with the apply sink, the objects it wrote) is
  // listed before anything is served or any registry read, so generated ServiceEntries keep their
  // addresses
  const w = opts.writes;
  const sinkObserver = {
    written: (kind: string, action: Parameters<typeof operationOfAction>[0]) => recordSinkWrites(metrics, 'kubernetes', [{ kind, operation: operationOfAction(action), count: 1 }]),
    failed: (kind: string) => recordSinkError(metrics, 'kubernetes', kind),
  };
  const writes = w ? new KubeWrites({ ...w, sinkObserver }, w.client, log, opts.timers ?? realTimers) : undefined;
  writes?.startWatching();
  const exclude = w?.apply ? ownOutputFilter({ instance: w.instance }) : undefined;
  const { store, kube } = await openSources({ ...opts, kubernetes: opts.kubernetes && { ...opts.kubernetes, exclude } }, log);
  if (writes && !(await writes.whenWatching(opts.kubernetes?.syncTimeoutMs ?? DEFAULT_KUBE_SYNC_TIMEOUT_MS))) log.warn({ event: 'sink-sync-timeout' }, 'the objects of the apply sink could not be listed in time; it writes nothing until they are');
  const first = store.load();
  logDiagnostics(log, first);

  const timed = <T>(trigger: BuildTrigger, build: () => T): T => {
    const t0 = performance.now();
    try {
      return build();
    } finally {
      recordBuild(metrics, trigger, performance.now() - t0);
    }
  };

  // 3. the engine
  const engine = new Engine(builtins, first.options, first.diagnostics);
  // 4. the cache: every route table encoded once, shared by all streams
  const cache = new ResourceCache();
  let options = first.options;
  const mcp = opts.mcp ? new McpSink({ revision: opts.mcp.revision, logger: log, metrics }) : undefined;
  timed('start', () => {
    engine.apply(first.changes);
    engine.flush();
    cache.setResources(routesByName(engine.output().routes));
    mcp?.sync(engine, options);
  });
  if ((opts.registries ?? []).length === 0) mcp?.ready();

  let updates = 0;
  // 4a. the dashboard's state, fed by the registries, the xDS callbacks and every push
  const events = new EventHub({ ...DEFAULT_EVENT_OPTIONS, ...opts.dashboardEvents });
  const dashboard = { history: new RegistryHistory((opts.registries ?? []).map((r) => r.name)), acks: new AckTracker(Date.now, () => events.notify('proxies')), events };
  // 4b. the registries: their services become ServiceEntries, applied like file changes
  let fileDiagnostics = first.diagnostics;
  let generated: readonly ServiceEntry[] = [];
  let registryDiagnostics: readonly Diagnostic[] = [];
  let readinessDiagnostics: readonly Diagnostic[] = [];
  const setInputDiagnostics = () => engine.setInputDiagnostics([...fileDiagnostics, ...registryDiagnostics, ...readinessDiagnostics]);
  const push = (trigger: BuildTrigger) => timed(trigger, () => {
    const delta = engine.flush();
    const upserts = new Map<string, object>();
    for (const name of delta.changedRoutes) {
      const r = engine.route(name);
      if (r) upserts.set(name, r);
    }
    const result = cache.update(upserts, delta.removedRoutes);
    mcp?.sync(engine, options);
    events.notify('services', 'diagnostics', 'proxies');
    return result;
  });
  // Readiness (served at step 6); made before the hub, whose first complete sync consults it.
  const health = new Health({
    logger: log,
    timers: opts.timers ?? realTimers,
    readyTimeoutMs: opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    input: () => ({ serving, registries: registries?.statuses() ?? [], registriesApplied: registries?.applied() ?? true, kinds: kube?.status() ?? [] }),
    details: () => ({ sources: store.status(), registries: registries?.statuses() ?? [] }),
    onDiagnostics: (d) => {
      readinessDiagnostics = d;
      setInputDiagnostics();
    },
  });
  const given = Object.entries(opts.catalog ?? {}).filter(([, v]) => v !== undefined);
  const sync: RegistrySyncOptions = {
    catalog: { ...DEFAULT_REGISTRY_SYNC_OPTIONS.catalog, ...Object.fromEntries(given) },
    serviceEntries: opts.serviceEntries ?? DEFAULT_REGISTRY_SYNC_OPTIONS.serviceEntries,
  };
  const registries = (opts.registries ?? []).length === 0 ? undefined : new RegistryHub({
    configs: opts.registries!,
    sync,
    logger: log,
    // A throw here leaves the sync uncommitted: the hub logs it and offers the changes again.
    onSync: (r) => {
      try {
        registryDiagnostics = r.diagnostics;
        setInputDiagnostics();
        engine.apply(withLiveAllocations(r.changes, writes));
        const result = push('registries');
        generated = r.serviceEntries;
        writes?.trigger();
        // Syncs that only change diagnostics (an outage-policy wait) are logged by the hub.
        if (r.changes.length > 0) log.info({ event: 'registry-update', serviceEntryChanges: r.changes.length, routesChanged: [...result.changed], routesRemoved: [...result.removed] }, 'registry services updated');
      } finally {
        updates++;
      }
    },
    onComplete: () => {
      mcp?.ready();
      health.state();
    },
    observer: registryMetrics(metrics),
    onStep: (step) => {
      dashboard.history.record(step);
      events.notify('registries');
    },
  });

  // 5. xDS; stream events go to the log, the metrics and the dashboard
  //    (with --mcp-address the MCP family is served on its own listener, 5b, and not here)
  const callbacks = composeCallbacks(loggingCallbacks(log), metricsCallbacks(metrics), dashboard.acks.callbacks());
  const mcpHere = opts.mcp?.address === undefined ? mcp?.family : undefined;
  let streamId = 0;
  const nextStreamId = () => ++streamId;
  const xds = new XdsServer({ cache, callbacks, credentials: certificates?.credentials(), limits: opts.xdsLimits, adsFamily: mcpHere, clientTrustDomains: opts.tls?.clientTrustDomains, nextStreamId });
  const stopEarly = () => {
    certificates?.close();
    webhookCertificates?.close();
    registries?.close();
    store.close();
  };
  const xdsPort = await xds.listen(opts.xdsAddress).catch(async (e: unknown) => {
    stopEarly();
    await writes?.close();
    throw e;
  });
  // 5b. the MCP listener for istiod and the admission webhook (side-listeners.ts)
  const mcpApart = mcp && opts.mcp?.address !== undefined ? { address: opts.mcp.address, plaintext: opts.mcp.plaintext === true, family: mcp.family } : undefined;
  const webhook = webhookCertificates && opts.webhook ? { address: opts.webhook.address, certificates: webhookCertificates, context: () => ({ domain: options.domain, builtins, checkRegex }) } : undefined;
  const side = await startSideListeners({ log, cache, callbacks, xdsLimits: opts.xdsLimits, nextStreamId, xdsCertificates: certificates, mcp: mcpApart, webhook }).catch(async (e: unknown) => {
    await xds.shutdown(0);
    stopEarly();
    await writes?.close();
    throw e;
  });

  // 6. HTTP: health, metrics, debug pages, the dashboard and its API (http-app.ts)
  const httpServer = httpApp({
    ...{ address: opts.httpAddress, token, hostNames: opts.httpHostNames, limits: opts.httpLimits },
    ...{ xds, cache, engine, store, registries, catalog: sync.catalog, dashboard, moreStreams: () => side.openStreams(), writes },
    endpoints: {
      ...health.endpoints(),
      // Open like the health endpoints: Prometheus scrapes without a token; every label is bounded.
      '/metrics': { debug: false, summary: 'Prometheus metrics (docs/metrics.md)', handle: async () => metrics.render().then(({ text, contentType }) => ({ status: 200, text, contentType })) },
    },
    diagnostics: () => [...engine.output().diagnostics, ...(mcp?.currentDiagnostics() ?? [])],
    generation: () => updates,
  });
  const http = await httpServer.listen().catch(async (e: unknown) => {
    await Promise.all([xds.shutdown(0), side.close(0)]);
    stopEarly();
    await writes?.close();
    throw e;
  });
  log.info({ event: 'http-listening', address: http.address, port: http.port, debug: http.debug }, DEBUG_ACCESS_LOG[http.debug]);
  serving = true;
  health.start();

  // 7. watch the files and apply their changes
  const onUpdate = (u: StoreUpdate) => {
    try {
      if (u.optionsChanged) {
        engine.setOptions(u.options);
        options = u.options;
      }
      fileDiagnostics = u.diagnostics;
      setInputDiagnostics();
      engine.apply(u.changes);
      const result = push('files');
      writes?.trigger();
      logDiagnostics(log, u);
      log.info({ event: 'update', resourceChanges: u.changes.length, routesChanged: [...result.changed], routesRemoved: [...result.removed] }, 'configuration updated');
      health.state();
    } catch (e) {
      store.rollback();
      log.error({ event: 'update-failed', err: (e as Error).message }, 'applying the change failed; the previous routes stay served and the change is tried again at the next reload');
    } finally {
      updates++;
    }
  };
  store.start(onUpdate);
  writes?.start(pipelineView({ engine, store, registries, kube, generated: () => generated }));

  let closing: Promise<void> | undefined;
  const running: Running = {
    xdsPort,
    httpPort: http.port,
    mcpPort: side.mcpPort,
    webhookPort: side.webhookPort,
    debugAccess: http.debug,
    xds,
    cache,
    engine,
    store,
    mcp,
    writes,
    metrics,
    http: httpServer,
    get updates() {
      return updates;
    },
    close: () =>
      (closing ??= (async () => {
        serving = false;
        health.close();
        // The writers stop first: a leader gives its Lease up so another takes over at once.
        await writes?.close();
        store.close();
        registries?.close();
        // HTTP and xDS drain together, so the whole stop takes at most the grace period.
        const grace = opts.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
        await Promise.all([httpServer.close(grace), xds.shutdown(grace), side.close(grace)]);
        certificates?.close();
        webhookCertificates?.close();
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
