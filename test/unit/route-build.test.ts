/**
 * Route-stage rules where metamesh follows Istio rather than Aeraki's generator: consistent-hash keys
 * come from the destination host's DestinationRule, with a subset's own loadBalancer replacing the
 * top-level one whole; mirror fractions are rounded, not truncated.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codesOf, generate, routesOf, type Json } from '../support/generate.js';

const A = 'a.meta.example';
const B = 'b.meta.example';

const serviceEntry = (name: string, host: string, address: string) => `
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: ${name}, namespace: meta}
spec:
  hosts: [${host}]
  addresses: [${address}]
  ports:
  - {number: 20880, name: tcp-metaprotocol-dubbo, protocol: TCP}
  resolution: STATIC
  workloadSelector: {labels: {app: ${name}}}
`;

/** Host A: top-level hash on userId; subsets that inherit it, replace it, or hash on their own key. */
const DR_A = `
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: a, namespace: meta}
spec:
  host: ${A}
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpHeaderName: userId}
  subsets:
  - name: inherits
    labels: {version: v1}
  - name: round-robin
    labels: {version: v2}
    trafficPolicy:
      loadBalancer: {simple: ROUND_ROBIN}
  - name: own-key
    labels: {version: v3}
    trafficPolicy:
      loadBalancer:
        consistentHash: {httpHeaderName: method}
  - name: pool-only
    labels: {version: v4}
    trafficPolicy:
      connectionPool: {tcp: {maxConnections: 10}}
`;

/** Host B: its own top-level hash key, different from A's. */
const DR_B = `
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: b, namespace: meta}
spec:
  host: ${B}
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpHeaderName: tenant}
  subsets:
  - {name: v1, labels: {version: v1}}
`;

const ROUTER_A = `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: a, namespace: meta}
spec:
  hosts: [${A}]
  routes:
  - name: inherits
    match: {attributes: {method: {exact: m1}}}
    route: [{destination: {host: ${A}, subset: inherits}}]
  - name: round-robin
    match: {attributes: {method: {exact: m2}}}
    route: [{destination: {host: ${A}, subset: round-robin}}]
  - name: own-key
    match: {attributes: {method: {exact: m3}}}
    route: [{destination: {host: ${A}, subset: own-key}}]
  - name: pool-only
    match: {attributes: {method: {exact: m4}}}
    route: [{destination: {host: ${A}, subset: pool-only}}]
  - name: other-host-subset
    match: {attributes: {method: {exact: m5}}}
    route: [{destination: {host: ${B}, subset: v1}}]
  - name: other-host
    match: {attributes: {method: {exact: m6}}}
    route: [{destination: {host: ${B}}}]
  - name: split
    route:
    - {destination: {host: ${A}, subset: round-robin}, weight: 50}
    - {destination: {host: ${B}, subset: v1}, weight: 50}
`;

describe('consistent-hash keys', () => {
  const out = generate(serviceEntry('a', A, '240.240.0.1'), serviceEntry('b', B, '240.240.0.2'), DR_A, DR_B, ROUTER_A);
  const keys = Object.fromEntries(
    routesOf(out, `${A}_20880`).map((r) => [r.name, ((r.route as Json).hashPolicy as Json[] | undefined)?.map((h) => (h.header as Json).headerName) ?? []]),
  );

  it('the input is valid', () => assert.deepEqual(codesOf(out), []));
  it('a subset without its own loadBalancer inherits the top-level hash key', () => assert.deepEqual(keys.inherits, ['userId']));
  it('a subset whose loadBalancer is simple ROUND_ROBIN gets no hash key, whatever the top level says', () => assert.deepEqual(keys['round-robin'], []));
  it("a subset's own consistentHash key replaces the top-level one", () => assert.deepEqual(keys['own-key'], ['method']));
  it('a subset with a trafficPolicy but no loadBalancer still inherits the top-level key', () => assert.deepEqual(keys['pool-only'], ['userId']));
  it("a destination on another host takes that host's DestinationRule (subset)", () => assert.deepEqual(keys['other-host-subset'], ['tenant']));
  it("a destination on another host takes that host's DestinationRule (no subset)", () => assert.deepEqual(keys['other-host'], ['tenant']));
  it('a split hashes on the keys of the destinations that have one', () => assert.deepEqual(keys.split, ['tenant']));
  it("the default route of a host without a MetaRouter takes its own DestinationRule's top-level key", () => {
    const rest = routesOf(out, `${B}_20880`);
    assert.deepEqual(rest.map((r) => [r.name, (r.route as Json).hashPolicy]), [['default', [{ header: { headerName: 'tenant' } }]]]);
  });
});

describe('mirror fractions', () => {
  it('mirrorPercentage 0.57 becomes 5700 per million (rounded; Aeraki truncates the float product to 5699)', () => {
    const router = `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: a, namespace: meta}
spec:
  hosts: [${A}]
  routes:
  - name: mirrored
    route: [{destination: {host: ${A}}}]
    mirror: {host: ${B}}
    mirrorPercentage: {value: 0.57}
`;
    const out = generate(serviceEntry('a', A, '240.240.0.1'), serviceEntry('b', B, '240.240.0.2'), router);
    const policies = (routesOf(out, `${A}_20880`)[0]!.route as Json).requestMirrorPolicies as Json[];
    assert.deepEqual(policies, [{ cluster: `outbound|20880||${B}`, runtimeFraction: { defaultValue: { numerator: 5700, denominator: 'MILLION' } } }]);
  });
});
