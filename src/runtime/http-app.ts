/**
 * What `metamesh serve` answers over HTTP, put together: the endpoints serve.ts gives (health,
 * /metrics), the /debug pages, the dashboard page and its JSON API (src/dashboard/). serve.ts calls
 * it at step 6; the state it reads is the running server's, passed in.
 */
import type { CatalogOptions } from '../catalog/model.js';
import { dashboardApi } from '../dashboard/api.js';
import type { AckTracker } from '../dashboard/acks.js';
import type { EventHub } from '../dashboard/events.js';
import type { RegistryHistory } from '../dashboard/history.js';
import { dashboardPage } from '../dashboard/static.js';
import { EMPTY_CATALOG_STATE } from '../catalog/model.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { Engine } from '../pipeline/engine.js';
import type { ResourceCache } from '../xds/cache.js';
import type { XdsServer } from '../xds/server.js';
import type { OpenStream } from '../xds/session.js';
import { packageVersion } from '../util/version.js';
import { debugEndpoints } from './debug-endpoints.js';
import { explainEndpoint } from './explain-endpoint.js';
import type { KubeWrites } from './kube-writes.js';
import { HttpServer, type Endpoint, type HttpLimits } from './http.js';
import type { RegistryHub } from './registries.js';

/** The dashboard's own state: fed by the registry hub, the xDS callbacks and every push. */
export interface DashboardParts {
  readonly history: RegistryHistory;
  readonly acks: AckTracker;
  readonly events: EventHub;
}

export interface HttpAppOptions {
  readonly address: string;
  readonly token: string | undefined;
  readonly hostNames: readonly string[] | undefined;
  readonly limits: Partial<HttpLimits> | undefined;
  readonly xds: XdsServer;
  readonly cache: ResourceCache;
  readonly engine: Engine;
  readonly registries: RegistryHub | undefined;
  readonly catalog: CatalogOptions;
  readonly dashboard: DashboardParts;
  /** Streams of other listeners (the MCP listener), shown with the xDS server's. */
  readonly moreStreams: () => OpenStream[];
  /** The apply sink, status writer and elector (/debug/sink), with --apply, --status or --leader-elect. */
  readonly writes?: KubeWrites | undefined;
  /** Endpoints made by serve.ts: /healthz, /readyz (health.ts), /metrics. */
  readonly endpoints: Readonly<Record<string, Endpoint>>;
  /** Every current diagnostic (the engine's and the MCP sink's). */
  diagnostics(): readonly Diagnostic[];
  /** Changes whenever the engine applied something. */
  generation(): number;
}

export function httpApp(o: HttpAppOptions): HttpServer {
  const server = new HttpServer({
    address: o.address,
    token: o.token,
    hostNames: o.hostNames,
    limits: o.limits,
    endpoints: {
      ...o.endpoints,
      ...debugEndpoints({ xds: o.xds, engine: o.engine, registries: o.registries, catalog: o.catalog, moreStreams: o.moreStreams, writes: o.writes }),
      '/debug/explain': explainEndpoint({ engine: o.engine, xds: o.xds, cache: o.cache }),
    },
    routes: [
      dashboardPage(),
      dashboardApi({
        engine: o.engine,
        diagnostics: o.diagnostics,
        xds: { streams: () => [...o.xds.streams(), ...o.moreStreams().flatMap((s) => s.info())] },
        cache: o.cache,
        registries: () => o.registries?.debugInput() ?? { statuses: [], state: EMPTY_CATALOG_STATE, decisions: [], options: o.catalog, nowMs: Date.now() },
        history: o.dashboard.history,
        acks: o.dashboard.acks,
        events: o.dashboard.events,
        generation: o.generation,
        version: packageVersion(),
      }),
    ],
  });
  server.advertise('/dashboard/', '/api/openapi.json');
  return server;
}
