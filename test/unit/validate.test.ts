import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateMetaRouter } from '../../src/validate/metarouter.js';
import type { MetaRouter, MetaRouterSpec } from '../../src/model/resources.js';

const HOST = 'org.apache.dubbo.samples.basic.api.demoservice';
const dest = (subset?: string, weight?: number) => ({ destination: { host: HOST, ...(subset ? { subset } : {}) }, ...(weight !== undefined ? { weight } : {}) });

function router(spec: MetaRouterSpec): MetaRouter {
  return { apiVersion: 'metaprotocol.aeraki.io/v1alpha1', kind: 'MetaRouter', metadata: { name: 'r', namespace: 'ns' }, spec };
}
const codes = (spec: MetaRouterSpec) => validateMetaRouter(router(spec), 'cluster.local').map((d) => `${d.severity}:${d.code}`).sort();

const cases: { name: string; spec: MetaRouterSpec; expect: string[] }[] = [
  { name: 'a plain single-destination route is valid', spec: { hosts: [HOST], routes: [{ route: [dest()] }] }, expect: [] },
  { name: 'a short host name is valid', spec: { hosts: ['demo'], routes: [{ route: [dest()] }] }, expect: [] },
  { name: 'no hosts is an error', spec: { routes: [{ route: [dest()] }] }, expect: ['error:MM_ROUTER_HOSTS'] },
  { name: 'two hosts is an error', spec: { hosts: [HOST, 'b.c'], routes: [{ route: [dest()] }] }, expect: ['error:MM_ROUTER_HOSTS'] },
  { name: 'a wildcard host is an error', spec: { hosts: ['*.example.com'], routes: [{ route: [dest()] }] }, expect: ['error:MM_ROUTER_HOSTS'] },
  { name: 'nothing to do is an error', spec: { hosts: [HOST] }, expect: ['error:MM_ROUTER_EMPTY'] },
  { name: 'weights summing to 90 are an error', spec: { hosts: [HOST], routes: [{ route: [dest('v1', 40), dest('v2', 50)] }] }, expect: ['error:MM_ROUTER_WEIGHTS'] },
  { name: 'weights summing to 100 are valid', spec: { hosts: [HOST], routes: [{ route: [dest('v1', 40), dest('v2', 60)] }] }, expect: [] },
  { name: 'a weight above 100 is an error', spec: { hosts: [HOST], routes: [{ route: [dest('v1', 101)] }] }, expect: ['error:MM_ROUTER_DESTINATION'] },
  { name: 'a route without destinations is an error', spec: { hosts: [HOST], routes: [{ route: [] }] }, expect: ['error:MM_ROUTER_DESTINATION'] },
  { name: 'a subset that is not a DNS label is an error', spec: { hosts: [HOST], routes: [{ route: [dest('V_1')] }] }, expect: ['error:MM_ROUTER_DESTINATION'] },
  { name: 'mirrorPercentage without mirror is an error', spec: { hosts: [HOST], routes: [{ route: [dest()], mirrorPercentage: { value: 10 } }] }, expect: ['error:MM_ROUTER_MIRROR'] },
  { name: 'mirrorPercentage of 0 is an error', spec: { hosts: [HOST], routes: [{ route: [dest()], mirror: { host: HOST }, mirrorPercentage: { value: 0 } }] }, expect: ['error:MM_ROUTER_MIRROR'] },
  { name: 'an empty mutation value is an error', spec: { hosts: [HOST], routes: [{ route: [dest()], requestMutation: [{ key: 'k', value: '' }] }] }, expect: ['error:MM_ROUTER_MUTATION'] },
  { name: 'a matcher with two kinds is an error', spec: { hosts: [HOST], routes: [{ match: { attributes: { method: { exact: 'a', prefix: 'b' } } }, route: [dest()] }] }, expect: ['error:MM_ROUTER_MATCH'] },
  { name: 'an empty matcher object is an error', spec: { hosts: [HOST], routes: [{ match: { attributes: { method: {} } }, route: [dest()] }] }, expect: ['error:MM_ROUTER_MATCH'] },
  { name: 'a null matcher is ignored with a warning (it gives no matcher, as in Aeraki)', spec: { hosts: [HOST], routes: [{ match: { attributes: { method: null } }, route: [dest()] }] }, expect: ['warning:MM_ROUTER_NULL_MATCH'] },
  {
    name: 'a route matched only by nulls is a catch-all, so the routes after it are unreachable',
    spec: { hosts: [HOST], routes: [{ match: { attributes: { caller: null } }, route: [dest()] }, { match: { attributes: { m: { exact: 'a' } } }, route: [dest()] }] },
    expect: ['warning:MM_ROUTER_NULL_MATCH', 'warning:MM_ROUTER_UNREACHABLE_ROUTE'],
  },
  {
    name: 'a match that differs from an earlier one only by a null attribute is the same match',
    spec: { hosts: [HOST], routes: [{ match: { attributes: { m: { exact: 'a' } } }, route: [dest()] }, { match: { attributes: { m: { exact: 'a' }, caller: null } }, route: [dest()] }, { route: [dest()] }] },
    expect: ['warning:MM_ROUTER_NULL_MATCH', 'warning:MM_ROUTER_UNREACHABLE_ROUTE'],
  },
  {
    name: 'a local rate-limit condition matched only by nulls names no attribute, which is an error',
    spec: { hosts: [HOST], localRateLimit: { conditions: [{ match: { attributes: { caller: null } }, tokenBucket: { maxTokens: 1, fillInterval: '1s' } }] } },
    expect: ['error:MM_RATELIMIT_LOCAL', 'warning:MM_ROUTER_NULL_MATCH'],
  },
  {
    name: 'a local rate-limit condition with a null next to a real matcher is valid, with a warning',
    spec: { hosts: [HOST], localRateLimit: { conditions: [{ match: { attributes: { caller: null, m: { exact: 'a' } } }, tokenBucket: { maxTokens: 1, fillInterval: '1s' } }] } },
    expect: ['warning:MM_ROUTER_NULL_MATCH'],
  },
  {
    name: 'a global rate-limit match made only of nulls is an error (it would never limit)',
    spec: { hosts: [HOST], globalRateLimit: { domain: 'd', rateLimitService: 'c', requestTimeout: '1s', match: { attributes: { caller: null } }, descriptors: [{ property: 'method', descriptorKey: 'method' }] } },
    expect: ['error:MM_RATELIMIT_GLOBAL', 'warning:MM_ROUTER_NULL_MATCH'],
  },
  { name: 'an RE2-only regex such as (?i)sayhello is valid', spec: { hosts: [HOST], routes: [{ match: { attributes: { method: { regex: '(?i)sayhello' } } }, route: [dest()] }] }, expect: [] },
  { name: 'a regex with a repeat count over 1000 is rejected (RE2 refuses it)', spec: { hosts: [HOST], routes: [{ match: { attributes: { method: { regex: 'a{1001}' } } }, route: [dest()] }] }, expect: ['error:MM_ROUTER_MATCH'] },
  { name: 'an invalid regex in a rate-limit condition is a rate-limit error', spec: { hosts: [HOST], localRateLimit: { conditions: [{ match: { attributes: { m: { regex: '(?=a)' } } }, tokenBucket: { maxTokens: 1, fillInterval: '1s' } }] } }, expect: ['error:MM_RATELIMIT_LOCAL'] },
  { name: 'an empty regex is rejected', spec: { hosts: [HOST], routes: [{ match: { attributes: { method: { regex: '' } } }, route: [dest()] }] }, expect: ['error:MM_ROUTER_MATCH'] },
  { name: 'a look-ahead regex is rejected (RE2 has none)', spec: { hosts: [HOST], routes: [{ match: { attributes: { method: { regex: 'say(?=Hello)' } } }, route: [dest()] }] }, expect: ['error:MM_ROUTER_MATCH'] },
  { name: 'a regex that does not compile is rejected', spec: { hosts: [HOST], routes: [{ match: { attributes: { method: { regex: 'say(' } } }, route: [dest()] }] }, expect: ['error:MM_ROUTER_MATCH'] },
  { name: 'a catch-all route before others is a warning', spec: { hosts: [HOST], routes: [{ route: [dest()] }, { match: { attributes: { method: { exact: 'a' } } }, route: [dest()] }] }, expect: ['warning:MM_ROUTER_UNREACHABLE_ROUTE'] },
  { name: 'two routes with the same match is a warning', spec: { hosts: [HOST], routes: [{ match: { attributes: { m: { exact: 'a' } } }, route: [dest()] }, { match: { attributes: { m: { exact: 'a' } } }, route: [dest()] }] }, expect: ['warning:MM_ROUTER_UNREACHABLE_ROUTE'] },
  { name: 'exportTo with "*" and more is an error', spec: { hosts: [HOST], routes: [{ route: [dest()] }], exportTo: ['*', 'a'] }, expect: ['error:MM_ROUTER_EXPORT_TO'] },
  { name: 'exportTo with a duplicate is an error', spec: { hosts: [HOST], routes: [{ route: [dest()] }], exportTo: ['a', 'a'] }, expect: ['error:MM_ROUTER_EXPORT_TO'] },
  { name: 'a malformed gateway reference is an error', spec: { hosts: [HOST], routes: [{ route: [dest()] }], gateways: ['a/b/c', 'mesh'] }, expect: ['error:MM_ROUTER_GATEWAYS'] },
  { name: 'gateways without mesh is a warning: sidecars do not get the MetaRouter', spec: { hosts: [HOST], routes: [{ route: [dest()] }], gateways: ['istio-system/gw'] }, expect: ['warning:MM_ROUTER_GATEWAY_ONLY'] },
  { name: 'gateways with mesh is valid', spec: { hosts: [HOST], routes: [{ route: [dest()] }], gateways: ['istio-system/gw', 'mesh'] }, expect: [] },
  { name: 'only mesh in gateways is valid', spec: { hosts: [HOST], routes: [{ route: [dest()] }], gateways: ['mesh'] }, expect: [] },
  { name: 'a local rate limit without bucket or conditions is an error', spec: { hosts: [HOST], localRateLimit: {} }, expect: ['error:MM_RATELIMIT_LOCAL'] },
  { name: 'a fill interval under 50ms is an error', spec: { hosts: [HOST], localRateLimit: { tokenBucket: { maxTokens: 1, fillInterval: '10ms' } } }, expect: ['error:MM_RATELIMIT_LOCAL'] },
  { name: 'a fill interval that is not a duration is an error', spec: { hosts: [HOST], localRateLimit: { tokenBucket: { maxTokens: 1, fillInterval: 'soon' } } }, expect: ['error:MM_RATELIMIT_LOCAL'] },
  { name: 'a bucket without tokensPerFill is valid (the data plane defaults to 1)', spec: { hosts: [HOST], localRateLimit: { tokenBucket: { maxTokens: 5, fillInterval: '1m' } } }, expect: [] },
  { name: 'tokensPerFill 0 is an error', spec: { hosts: [HOST], localRateLimit: { tokenBucket: { maxTokens: 5, tokensPerFill: 0, fillInterval: '1s' } } }, expect: ['error:MM_RATELIMIT_LOCAL'] },
  {
    name: 'a global rate limit with an empty match is an error (it would never limit)',
    spec: { hosts: [HOST], globalRateLimit: { domain: 'd', rateLimitService: 'c', requestTimeout: '1s', descriptors: [{ property: 'method', descriptorKey: 'method' }] } },
    expect: ['error:MM_RATELIMIT_GLOBAL'],
  },
  {
    name: 'a global rate limit without requestTimeout is valid, with a note',
    spec: { hosts: [HOST], globalRateLimit: { domain: 'd', rateLimitService: 'c', match: { attributes: { method: { exact: 'a' } } }, descriptors: [{ property: 'method', descriptorKey: 'method' }] } },
    expect: ['info:MM_RATELIMIT_NO_TIMEOUT'],
  },
  {
    name: 'a global rate limit without descriptors is an error',
    spec: { hosts: [HOST], globalRateLimit: { domain: 'd', rateLimitService: 'c', requestTimeout: '1s', match: { attributes: { method: { exact: 'a' } } } } },
    expect: ['error:MM_RATELIMIT_GLOBAL'],
  },
];

for (const c of cases) {
  test(c.name, () => assert.deepEqual(codes(c.spec), [...c.expect].sort()));
}

test('every diagnostic names the MetaRouter and says what to do', () => {
  const ds = validateMetaRouter(router({ hosts: [HOST], routes: [{ route: [dest('v1', 10), dest('v2', 10)] }] }), 'cluster.local');
  assert.equal(ds[0]!.object, 'MetaRouter ns/r');
  assert.match(ds[0]!.message, /must sum to 100/);
});

test('the gateway-only warning says what sidecars get, and how to keep sidecar routing', () => {
  const [d] = validateMetaRouter(router({ hosts: [HOST], routes: [{ route: [dest()] }], gateways: ['istio-system/gw'], localRateLimit: { tokenBucket: { maxTokens: 1, fillInterval: '1s' } } }), 'cluster.local');
  assert.equal(d!.code, 'MM_ROUTER_GATEWAY_ONLY');
  assert.equal(
    d!.message,
    `spec.gateways lists gateways but not "mesh", so this MetaRouter configures only those gateways: sidecars calling ${HOST} keep the default route (or another MetaRouter for the host), and its rate limits are not applied. Aeraki applied such a MetaRouter to sidecars too; to keep sidecar routing, add "mesh" to spec.gateways.`,
  );
});
