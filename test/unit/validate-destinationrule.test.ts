/**
 * DestinationRule validation, one rule per case: each failing case names the field the diagnostic
 * must start with. The rules are Istio's (the CRD's oneOf constraints on loadBalancer and
 * consistentHash, istiod's ValidateDestinationRule), for the fields metamesh reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateDestinationRule, DESTINATIONRULE_DROPPED } from '../../src/validate/destinationrule.js';
import type { DestinationRule, DestinationRuleSpec } from '../../src/model/resources.js';

const HOST = 'org.apache.dubbo.samples.basic.api.demoservice';

function dr(spec: Partial<DestinationRuleSpec>, meta: { name?: string } = {}): DestinationRule {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: meta.name ?? 'demo', namespace: 'ns' },
    spec: { host: HOST, subsets: [{ name: 'v1', labels: { version: 'v1' } }], ...spec } as DestinationRuleSpec,
  };
}
const lb = (loadBalancer: Record<string, unknown>) => dr({ trafficPolicy: { loadBalancer } });
const hash = (consistentHash: Record<string, unknown>) => lb({ consistentHash });

const findings = (r: DestinationRule) => validateDestinationRule(r).map((d) => `${d.severity} ${d.message.split(' ')[0]}`).sort();

const cases: { name: string; r: DestinationRule; expect: string[] }[] = [
  { name: 'a rule with a host and labelled subsets is valid', r: dr({}), expect: [] },
  { name: 'a short host is valid', r: dr({ host: 'demo' }), expect: [] },
  { name: 'a wildcard host is valid', r: dr({ host: '*.example.com' }), expect: [] },
  { name: 'a consistent hash on a header is valid', r: hash({ httpHeaderName: 'userId' }), expect: [] },
  { name: 'a simple load balancer is valid', r: lb({ simple: 'ROUND_ROBIN' }), expect: [] },
  { name: 'a consistent hash with ringHash is valid', r: hash({ httpHeaderName: 'userId', ringHash: { minimumRingSize: 1024 } }), expect: [] },
  { name: 'a maglev table of prime size is valid', r: hash({ useSourceIp: true, maglev: { tableSize: 65537 } }), expect: [] },
  { name: 'a subset traffic policy is checked like the top-level one, and valid here', r: dr({ subsets: [{ name: 'v2', trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'k' } } } }] }), expect: [] },
  { name: 'exportTo "*" alone is valid', r: dr({ exportTo: ['*'] }), expect: [] },
  { name: 'a traffic policy with only a retry budget is valid', r: dr({ trafficPolicy: { retryBudget: { percent: 20 } } }), expect: [] },

  { name: 'a missing host is an error (CRD: host required)', r: dr({ host: '' }), expect: ['error spec.host'] },
  { name: 'an IP address as host is an error', r: dr({ host: '10.0.0.1' }), expect: ['error spec.host'] },
  { name: 'a host with a space is an error', r: dr({ host: 'demo service' }), expect: ['error spec.host'] },
  { name: 'a subset without a name is an error (CRD: name required)', r: dr({ subsets: [{ name: '' }] }), expect: ['error spec.subsets[0].name'] },
  { name: 'a subset name that is not a DNS label is an error', r: dr({ subsets: [{ name: 'v_1' }] }), expect: ['error spec.subsets[0].name'] },
  { name: 'two subsets with one name is an error', r: dr({ subsets: [{ name: 'v1' }, { name: 'v1' }] }), expect: ['error spec.subsets[1].name'] },
  { name: 'a subset label value with a slash is an error', r: dr({ subsets: [{ name: 'v1', labels: { version: 'v/1' } }] }), expect: ['error spec.subsets[0].labels'] },
  { name: 'an empty traffic policy is an error', r: dr({ trafficPolicy: {} }), expect: ['error spec.trafficPolicy'] },
  { name: 'tunnel and proxyProtocol together are an error', r: dr({ trafficPolicy: { tunnel: { targetHost: 'a', targetPort: 1 }, proxyProtocol: {} } }), expect: ['error spec.trafficPolicy'] },
  { name: 'simple and consistentHash together are an error (CRD oneOf)', r: lb({ simple: 'RANDOM', consistentHash: { httpHeaderName: 'userId' } }), expect: ['error spec.trafficPolicy.loadBalancer'] },
  { name: 'an unknown simple load balancer is an error (CRD enum)', r: lb({ simple: 'FASTEST' }), expect: ['error spec.trafficPolicy.loadBalancer.simple'] },
  { name: 'two hash keys are an error (CRD oneOf)', r: hash({ httpHeaderName: 'userId', useSourceIp: true }), expect: ['error spec.trafficPolicy.loadBalancer.consistentHash'] },
  { name: 'an empty httpHeaderName is an error', r: hash({ httpHeaderName: '' }), expect: ['error spec.trafficPolicy.loadBalancer.consistentHash.httpHeaderName'] },
  { name: 'an httpCookie without a name is an error (CRD: name required)', r: hash({ httpCookie: { ttl: '0s' } }), expect: ['error spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name'] },
  { name: 'ringHash and maglev together are an error (CRD oneOf)', r: hash({ useSourceIp: true, ringHash: {}, maglev: { tableSize: 65537 } }), expect: ['error spec.trafficPolicy.loadBalancer.consistentHash'] },
  { name: 'minimumRingSize next to ringHash is an error', r: hash({ useSourceIp: true, minimumRingSize: 1024, ringHash: {} }), expect: ['error spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize'] },
  { name: 'a maglev table without a size is an error', r: hash({ useSourceIp: true, maglev: {} }), expect: ['error spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize'] },
  { name: 'a maglev table of non-prime size is an error', r: hash({ useSourceIp: true, maglev: { tableSize: 65536 } }), expect: ['error spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize'] },
  {
    name: 'a subset load balancer with two kinds is an error at the subset',
    r: dr({ subsets: [{ name: 'v1', trafficPolicy: { loadBalancer: { simple: 'RANDOM', consistentHash: { httpHeaderName: 'k' } } } }] }),
    expect: ['error spec.subsets[0].trafficPolicy.loadBalancer'],
  },
  { name: 'exportTo "~" is an error for a DestinationRule', r: dr({ exportTo: ['~'] }), expect: ['error spec.exportTo'] },
  { name: 'exportTo with a duplicate is an error', r: dr({ exportTo: ['a', 'a'] }), expect: ['error spec.exportTo'] },
  { name: 'an object name with an underscore is an error', r: dr({}, { name: 'demo_rule' }), expect: ['error metadata.name'] },
];

for (const c of cases) {
  test(c.name, () => {
    assert.deepEqual(findings(c.r), [...c.expect].sort());
  });
}

test('every error has the DestinationRule code and says that nothing is generated for it', () => {
  const found = validateDestinationRule(dr({ host: '', subsets: [{ name: 'v1' }, { name: 'v1' }] }));
  assert.equal(found.length, 2);
  for (const d of found) {
    assert.equal(d.code, 'MM_DESTINATIONRULE_INVALID');
    assert.equal(d.object, 'DestinationRule ns/demo');
    assert.ok(d.message.endsWith(DESTINATIONRULE_DROPPED), d.message);
  }
});
