/**
 * The dashboard's JSON API under /api (documented in docs/dashboard.md and by GET
 * /api/openapi.json, generated from the schemas below). Every route is guarded: loopback without
 * a token, otherwise `Authorization: Bearer <token>` (src/runtime/http-policy.ts). Read-only.
 *
 * The services table is computed once per engine generation (a change applied) and then searched,
 * sorted and paged per request; everything else is computed when asked, from the live state.
 */
import type { FastifyInstance } from 'fastify';
import type { Diagnostic } from '../model/diagnostics.js';
import type { PipelineState } from '../model/pipeline-state.js';
import type { ServiceEntry } from '../model/resources.js';
import type { RegistriesDebugInput } from './registries-debug.js';
import type { StreamInfo } from '../xds/stream-info.js';
import type { AckTracker } from './acks.js';
import { serviceDetail } from './detail.js';
import type { EventHub } from './events.js';
import type { RegistryHistory } from './history.js';
import { openApiDocument, type RouteRecord } from './openapi.js';
import { diagnosticsSchema, errorResponses, openApiSchema, pageQuery, proxiesSchema, registriesSchema, serviceDetailSchema, servicesSchema } from './schemas.js';
import { SORT_KEYS, serviceRows, servicesPage, type ServiceRow, type SortKey } from './services.js';
import { diagnosticsPanel, proxiesPanel, registriesPanel } from './views.js';

export interface DashboardSources {
  readonly engine: { state(): PipelineState; serviceEntry(ref: string): ServiceEntry | undefined };
  /** Every current diagnostic. */
  diagnostics(): readonly Diagnostic[];
  readonly xds: { streams(): StreamInfo[] };
  readonly cache: { get(name: string): { readonly version: string } | undefined };
  /** The registries' state, or undefined when none is configured. */
  registries(): RegistriesDebugInput;
  readonly history: RegistryHistory;
  readonly acks: AckTracker;
  readonly events: EventHub;
  /** Changes whenever the engine applied something (the services table is cached per value). */
  generation(): number;
  readonly version: string;
}

/** Search strings and filters longer than this are refused. */
export const MAX_FILTER_LENGTH = 256;
export const MAX_HOST_LENGTH = 512;

export function dashboardApi(s: DashboardSources) {
  let cached: { generation: number; state: PipelineState; rows: ServiceRow[] } | undefined;
  const current = () => {
    const generation = s.generation();
    if (cached?.generation !== generation) {
      const state = s.engine.state();
      cached = { generation, state, rows: serviceRows(state, (ref) => s.engine.serviceEntry(ref)) };
    }
    return cached;
  };
  const guarded = { guarded: true };

  return (app: FastifyInstance, server: { readonly routeTable: readonly RouteRecord[] }): void => {
    app.get('/api/openapi.json', { config: guarded, schema: { summary: 'This OpenAPI document, generated from the route schemas', tags: ['api'], response: { 200: openApiSchema } } }, async () =>
      openApiDocument(server.routeTable, { title: 'metamesh serve', version: s.version }),
    );

    app.get('/api/registries', { config: guarded, schema: { summary: 'Each registry: state, last sync, counts, outage-policy decisions and the last hour of sync lag and changes', tags: ['api'], response: { 200: registriesSchema, ...errorResponses } } }, async () =>
      registriesPanel(s.registries(), s.history),
    );

    app.get<{ Querystring: { q?: string; sort?: SortKey; order?: 'asc' | 'desc'; offset: number; limit: number } }>(
      '/api/services',
      {
        config: guarded,
        schema: {
          summary: 'MetaProtocol services (one row per host and port), searched, sorted and paged on the server',
          tags: ['api'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              q: { type: 'string', maxLength: MAX_FILTER_LENGTH, description: 'Case-insensitive part of the host, protocol, registry or ServiceEntry' },
              sort: { type: 'string', enum: [...SORT_KEYS], default: 'host' },
              order: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
              ...pageQuery(100, 1000),
            },
          },
          response: { 200: servicesSchema, ...errorResponses },
        },
      },
      async (req) => servicesPage(current().rows, req.query),
    );

    app.get<{ Params: { host: string } }>(
      '/api/services/:host',
      {
        config: guarded,
        schema: {
          summary: 'One service host: endpoints, ServiceEntry and EnvoyFilters as YAML, routes as served, the explanation and the proxies holding its routes',
          tags: ['api'],
          params: { type: 'object', properties: { host: { type: 'string', minLength: 1, maxLength: MAX_HOST_LENGTH } }, required: ['host'] },
          response: { 200: serviceDetailSchema, ...errorResponses },
        },
      },
      async (req, reply) => {
        const d = serviceDetail(req.params.host, { state: current().state, serviceEntry: (ref) => s.engine.serviceEntry(ref), streams: s.xds.streams(), currentVersion: (n) => s.cache.get(n)?.version });
        if (d === undefined) return reply.code(404).type('text/plain; charset=utf-8').send(`no MetaProtocol service has the host ${JSON.stringify(req.params.host.slice(0, 100))}\n`);
        return d;
      },
    );

    app.get<{ Querystring: { offset: number; limit: number } }>(
      '/api/proxies',
      { config: guarded, schema: { summary: 'Connected xDS streams (sidecars, and istiod over MCP), the versions they hold, and the push-to-ACK latency histogram', tags: ['api'], querystring: { type: 'object', additionalProperties: false, properties: pageQuery(100, 1000) }, response: { 200: proxiesSchema, ...errorResponses } } },
      async (req) => proxiesPanel(s.xds.streams(), s.acks.histogram(), req.query),
    );

    app.get<{ Querystring: { code?: string; object?: string; offset: number; limit: number } }>(
      '/api/diagnostics',
      {
        config: guarded,
        schema: {
          summary: 'Current diagnostics, filtered by code and object, each with its section of docs/errors.md',
          tags: ['api'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { code: { type: 'string', maxLength: 64, description: 'A code, e.g. MM_ROUTER_WEIGHTS' }, object: { type: 'string', maxLength: MAX_FILTER_LENGTH, description: 'Case-insensitive part of the object' }, ...pageQuery(200, 2000) },
          },
          response: { 200: diagnosticsSchema, ...errorResponses },
        },
      },
      async (req) => diagnosticsPanel(s.diagnostics(), req.query),
    );

    app.get('/api/events', { config: guarded, exposeHeadRoute: false, schema: { summary: 'Server-Sent Events: `change` events name the panels to fetch again', tags: ['api'], response: { 200: { type: 'string', description: 'text/event-stream' }, 503: { type: 'string', description: 'Too many event streams are open' } } } }, (_req, reply) => {
      reply.hijack();
      if (!s.events.attach(reply.raw)) {
        reply.raw.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '10' });
        reply.raw.end('too many dashboard event streams are open; try again later\n');
      }
    });
    app.addHook('preClose', (done) => {
      s.events.close();
      done();
    });
  };
}
