/**
 * The OpenAPI 3.1 document of the HTTP server, generated from the routes as registered (their
 * JSON Schemas: querystring, params, response) — nothing is written twice. Pure: the route records
 * the server collected in, the document out, paths sorted.
 */
export interface RouteRecord {
  readonly method: string;
  /** fastify's form, `/api/services/:host`. */
  readonly url: string;
  readonly schema?: Readonly<Record<string, unknown>> | undefined;
  readonly guarded: boolean;
}

type Schema = Record<string, unknown>;

function parameters(where: 'query' | 'path', schema: unknown): Schema[] {
  const s = schema as { properties?: Record<string, Schema>; required?: string[] } | undefined;
  return Object.entries(s?.properties ?? {}).map(([name, p]) => {
    const { description, ...rest } = p;
    return { name, in: where, required: where === 'path' || (s?.required ?? []).includes(name), ...(description === undefined ? {} : { description }), schema: rest };
  });
}

function responses(schema: unknown): Schema {
  const out: Schema = {};
  for (const [code, s] of Object.entries((schema ?? {}) as Record<string, Schema>)) {
    const isText = s.type === 'string';
    out[code] = {
      description: (s.description as string | undefined) ?? (code === '200' ? 'OK' : 'An error, as one sentence'),
      content: { [isText ? 'text/plain' : 'application/json']: { schema: s } },
    };
  }
  if (Object.keys(out).length === 0) out['200'] = { description: 'OK' };
  return out;
}

export function openApiDocument(routes: readonly RouteRecord[], info: { title: string; version: string }): Schema {
  const paths: Record<string, Record<string, Schema>> = {};
  const sorted = routes.filter((r) => r.method === 'GET').sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
  for (const r of sorted) {
    const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const s = r.schema ?? {};
    paths[path] = {
      get: {
        summary: (s.summary as string | undefined) ?? path,
        ...(s.description === undefined ? {} : { description: s.description }),
        ...(s.tags === undefined ? {} : { tags: s.tags }),
        parameters: [...parameters('path', s.params), ...parameters('query', s.querystring)],
        responses: responses(s.response),
        security: r.guarded ? [{ bearer: [] }, {}] : [],
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'The HTTP API of `metamesh serve`. Guarded routes are open to clients on a loopback address when no token is configured; otherwise they require `Authorization: Bearer <token>` (see docs/dashboard.md).',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

declare module 'fastify' {
  /** What a route's schema may add for the OpenAPI document. */
  interface FastifySchema {
    summary?: string;
    description?: string;
    tags?: string[];
  }
}
