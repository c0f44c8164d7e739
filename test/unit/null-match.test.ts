/**
 * A match attribute written as `null` (`caller: null`, `caller: ~`, `caller:`) gives no matcher,
 * as in Aeraki, wherever match attributes are used: routes, local rate-limit conditions and the
 * global rate limit. Each gets an MM_ROUTER_NULL_MATCH warning that tells how to write presence.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codesOf, DUBBO_HOST, DUBBO_SE, generate, proxyConfig, routesOf, type Json } from '../support/generate.js';

const router = (body: string) => `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: demoservice, namespace: meta-dubbo}
spec:
  hosts: [${DUBBO_HOST}]
${body}`;

const headersOf = (route: Json) => (route.match as Json).headers;
const inboundFilters = (out: ReturnType<typeof generate>) =>
  proxyConfig(out, `metamesh-inbound-${DUBBO_HOST}-20880`).metaProtocolFilters as Json[];
const filterConfig = (filters: Json[], name: string) => filters.find((f) => f.name === name)!.config as Json;

describe('null match attributes', () => {
  for (const written of ['null', '~', '']) {
    it(`an attribute written as "caller: ${written}" gives no matcher; the other attributes still match`, () => {
      const out = generate(
        DUBBO_SE,
        router(`  routes:
  - name: hello
    match:
      attributes:
        caller: ${written}
        method: {exact: sayHello}
    route:
    - destination: {host: ${DUBBO_HOST}}`),
      );
      assert.deepEqual(codesOf(out), ['MM_ROUTER_NULL_MATCH']);
      assert.deepEqual(headersOf(routesOf(out, `${DUBBO_HOST}_20880`)[0]!), [{ name: 'method', exactMatch: 'sayHello' }]);
    });
  }

  it('a route matched only by null attributes matches every request, and the routes after it are reported unreachable', () => {
    const out = generate(
      DUBBO_SE,
      router(`  routes:
  - name: callers
    match: {attributes: {caller: null}}
    route:
    - destination: {host: ${DUBBO_HOST}}
  - name: rest
    route:
    - destination: {host: ${DUBBO_HOST}}`),
    );
    assert.deepEqual(codesOf(out), ['MM_ROUTER_NULL_MATCH', 'MM_ROUTER_UNREACHABLE_ROUTE', 'MM_ROUTER_UNREACHABLE_ROUTE']);
    const unreachable = out.diagnostics.filter((d) => d.code === 'MM_ROUTER_UNREACHABLE_ROUTE').map((d) => d.message);
    assert.ok(unreachable.some((m) => m.startsWith('spec.routes[0] (callers) matches every request')), unreachable.join('\n'));
    const routes = routesOf(out, `${DUBBO_HOST}_20880`);
    assert.deepEqual(routes.map((r) => r.name), ['callers', 'rest']);
    assert.equal(headersOf(routes[0]!), undefined);
  });

  it('the warning names the attribute, says it was ignored and shows how to require presence', () => {
    const out = generate(DUBBO_SE, router(`  routes:
  - name: hello
    match: {attributes: {caller: null, method: {exact: sayHello}}}
    route:
    - destination: {host: ${DUBBO_HOST}}`));
    const d = out.diagnostics.find((x) => x.code === 'MM_ROUTER_NULL_MATCH')!;
    assert.equal(d.severity, 'warning');
    assert.equal(d.object, 'MetaRouter meta-dubbo/demoservice');
    assert.equal(
      d.message,
      'spec.routes[0] (hello).match.attributes.caller is null, so it was ignored (as Aeraki does): this attribute is not checked at all. To require that the attribute is present, write caller: {regex: "*"}.',
    );
  });

  it('a null attribute in a local rate-limit condition gives no metadata matcher', () => {
    const out = generate(
      DUBBO_SE,
      router(`  localRateLimit:
    conditions:
    - match: {attributes: {caller: null, method: {exact: sayHello}}}
      tokenBucket: {maxTokens: 2, fillInterval: 1s}`),
    );
    assert.deepEqual(codesOf(out), ['MM_ROUTER_NULL_MATCH']);
    const config = filterConfig(inboundFilters(out), 'aeraki.meta_protocol.filters.local_ratelimit');
    assert.deepEqual((config.conditions as Json[])[0]!.match, { metadata: [{ name: 'method', exactMatch: 'sayHello' }] });
  });

  it('a local rate-limit condition matched only by null attributes is an error, as an empty one is', () => {
    const out = generate(
      DUBBO_SE,
      router(`  localRateLimit:
    conditions:
    - match: {attributes: {caller: null}}
      tokenBucket: {maxTokens: 2, fillInterval: 1s}`),
    );
    assert.deepEqual(codesOf(out), ['MM_RATELIMIT_LOCAL', 'MM_ROUTER_NOT_APPLIED', 'MM_ROUTER_NULL_MATCH']);
    assert.match(out.diagnostics.find((d) => d.code === 'MM_RATELIMIT_LOCAL')!.message, /null attributes are ignored/);
  });

  const GLOBAL = (match: string) => `  globalRateLimit:
    domain: production
    match: {attributes: ${match}}
    requestTimeout: 100ms
    rateLimitService: outbound|8081||rate-limit.meta-dubbo.svc.cluster.local
    descriptors:
    - {property: method, descriptorKey: method}`;

  it('a null attribute in the global rate-limit match gives no metadata matcher', () => {
    const out = generate(DUBBO_SE, router(GLOBAL('{caller: null, method: {exact: sayHello}}')));
    assert.deepEqual(codesOf(out), ['MM_ROUTER_NULL_MATCH']);
    const config = filterConfig(inboundFilters(out), 'aeraki.meta_protocol.filters.ratelimit');
    assert.deepEqual(config.match, { metadata: [{ name: 'method', exactMatch: 'sayHello' }] });
  });

  it('a global rate-limit match made only of null attributes is an error, since it would never limit', () => {
    const out = generate(DUBBO_SE, router(GLOBAL('{caller: ~}')));
    assert.deepEqual(codesOf(out), ['MM_RATELIMIT_GLOBAL', 'MM_ROUTER_NOT_APPLIED', 'MM_ROUTER_NULL_MATCH']);
  });
});
