/**
 * JSON Schemas of the dashboard API: fastify validates the query strings with them and serializes
 * the responses through them (a field missing here is not sent, so the schema is the contract),
 * and the OpenAPI document (openapi.ts) is generated from them.
 */
type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const num: Schema = { type: 'number' };
const bool: Schema = { type: 'boolean' };
const nullable = (s: Schema): Schema => ({ ...s, type: [s.type as string, 'null'] });
const arr = (items: Schema): Schema => ({ type: 'array', items });
const map = (values: Schema): Schema => ({ type: 'object', additionalProperties: values });
const anyObject: Schema = { type: 'object', additionalProperties: true };

/** An object whose properties are all required but those named in `optional`. */
function obj(properties: Record<string, Schema>, optional: readonly string[] = []): Schema {
  return { type: 'object', properties, required: Object.keys(properties).filter((k) => !optional.includes(k)), additionalProperties: false };
}

const error: Schema = { type: 'string', description: 'A sentence saying what was wrong (text/plain).' };

const held = obj({ service: str, host: str, missingSince: str, removeAt: str });
const protection = obj(
  { scope: { type: 'string', enum: ['registry', 'service'] }, service: str, host: str, before: int, after: int, since: str, until: str, kept: arr(str), keptOmitted: int },
  ['service', 'host', 'before', 'after', 'since', 'until'],
);
const point = obj({ t: str, lagMs: nullable(num), changes: int });
const registry = obj(
  {
    registry: str,
    state: { type: 'string', enum: ['connecting', 'synced', 'disconnected', 'expired', 'failing'] },
    health: { type: 'string', enum: ['ok', 'stale', 'failed'] },
    display: { type: 'string', enum: ['connected', 'connecting', 'stale', 'failing'] },
    lastSync: str,
    error: str,
    services: int,
    instances: int,
    heldBack: obj({ services: arr(held), servicesOmitted: int, instances: arr(obj({ service: str, host: str, instance: str, missingSince: str, removeAt: str })), instancesOmitted: int }),
    protections: arr(protection),
    history: arr(point),
  },
  ['lastSync', 'error'],
);

export const registriesSchema: Schema = obj({
  now: str,
  policy: obj({ removalGraceMs: int, protectionThreshold: num, protectionHoldMs: int }),
  registries: arr(registry),
});

export const pageQuery = (defaultLimit: number, max: number): Record<string, Schema> => ({
  offset: { type: 'integer', minimum: 0, maximum: 1_000_000_000, default: 0 },
  limit: { type: 'integer', minimum: 1, maximum: max, default: defaultLimit },
});

export const serviceRowSchema = obj({ host: str, protocol: str, port: int, instances: nullable(int), registries: arr(str), serviceEntry: str });
export const servicesSchema: Schema = obj({ total: int, matched: int, offset: int, limit: int, rows: arr(serviceRowSchema) });

const explainedDiagnostic = obj({ code: str, severity: str, object: str, message: str, notInEffect: bool, doc: str });
const proxyRoute = obj(
  { nodeId: str, stream: int, routeConfiguration: str, currentVersion: str, heldVersion: str, state: { type: 'string', enum: ['acked', 'nacked', 'sent', 'outdated', 'none', 'missing'] }, nackMessage: str },
  ['currentVersion', 'heldVersion', 'nackMessage'],
);
const explanation = obj(
  {
    query: str,
    subject: anyObject,
    inEffect: bool,
    summary: str,
    facts: arr(obj({ section: str, object: str, sentence: str }, ['object'])),
    diagnostics: arr(explainedDiagnostic),
    routeConfigurations: arr(str),
    closeMatches: arr(str),
    proxies: arr(proxyRoute),
  },
  ['proxies'],
);

export const serviceDetailSchema: Schema = obj({
  host: str,
  definedBy: arr(str),
  registries: arr(str),
  endpoints: arr(obj({ address: str, ports: map(int), labels: map(str), weight: nullable(int) })),
  endpointsOmitted: int,
  serviceEntryYaml: str,
  envoyFiltersYaml: str,
  routes: arr(anyObject),
  explanation,
});

const histogram = obj({ buckets: arr(obj({ le: nullable(num), count: int })), count: int, sumMs: num, nacks: int });
export const proxiesSchema: Schema = obj({
  total: int,
  offset: int,
  limit: int,
  proxies: arr(
    obj({
      stream: int,
      kind: { type: 'string', enum: ['proxy', 'istiod'] },
      service: str,
      mode: str,
      peer: str,
      nodeId: str,
      connectedAt: str,
      types: arr(obj({ typeUrl: str, subscribedCount: int, heldCount: int, held: arr(obj({ name: str, version: str })), pending: int, rejected: int, nackCount: int, lastNackMessage: nullable(str) })),
    }),
  ),
  ackLatency: histogram,
});

export const diagnosticsSchema: Schema = obj({
  total: int,
  matched: int,
  offset: int,
  limit: int,
  codes: arr(obj({ code: str, count: int })),
  diagnostics: arr(explainedDiagnostic),
});

export const openApiSchema: Schema = { type: 'object', additionalProperties: true, description: 'This OpenAPI 3.1 document.' };
export const errorResponses = { 400: error, 401: error, 403: error, 404: error, 503: error };
