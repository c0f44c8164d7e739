/**
 * ServiceEntry validation, one rule per case: each failing case names the field the diagnostic must
 * start with. The rules are Istio's (CRD schema and CEL rules in the ServiceEntry CRD, istiod's
 * ValidateServiceEntry); the cases marked "(CRD)" restate the CEL rule messages of the CRD.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateServiceEntry, SERVICEENTRY_DROPPED } from '../../src/validate/serviceentry.js';
import type { ServiceEntry, ServiceEntrySpec } from '../../src/model/resources.js';

const PORT = { number: 20880, name: 'tcp-metaprotocol-dubbo', protocol: 'TCP' };
const BASE: ServiceEntrySpec = {
  hosts: ['demo.example.com'],
  addresses: ['240.240.0.1'],
  ports: [PORT],
  resolution: 'STATIC',
  endpoints: [{ address: '10.0.0.1', labels: { version: 'v1' } }],
};

function se(spec: Partial<ServiceEntrySpec>, meta: { name?: string; namespace?: string } = {}): ServiceEntry {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: meta.name ?? 'demo', namespace: meta.namespace ?? 'ns' },
    spec: { ...BASE, ...spec } as ServiceEntrySpec,
  };
}

/** `<severity> <field>` of every finding, sorted: the field is the first word of the message. */
const findings = (r: ServiceEntry) => validateServiceEntry(r).map((d) => `${d.severity} ${d.message.split(' ')[0]}`).sort();

const noEndpoints = { endpoints: undefined };
const cases: { name: string; r: ServiceEntry; expect: string[] }[] = [
  { name: 'a STATIC ServiceEntry with IP endpoints is valid', r: se({}), expect: [] },
  { name: 'a STATIC ServiceEntry with a workload selector and no endpoints is valid', r: se({ ...noEndpoints, workloadSelector: { labels: { app: 'demo' } } }), expect: [] },
  { name: 'a short host name is valid', r: se({ hosts: ['demo'] }), expect: [] },
  { name: 'a wildcard host is valid', r: se({ hosts: ['*.example.com'] }), expect: [] },
  { name: 'an upper-case host is valid (Istio labels allow it)', r: se({ hosts: ['Demo.Example.com'] }), expect: [] },
  { name: 'IPv6 addresses and CIDR blocks are valid with STATIC', r: se({ addresses: ['2001:db8::1', '10.0.0.0/24', '001:db8::'] }), expect: [] },
  { name: 'a DNS ServiceEntry with host-name endpoints is valid', r: se({ resolution: 'DNS', endpoints: [{ address: 'a.example.com' }, { address: '10.0.0.2' }] }), expect: [] },
  { name: 'a DNS_ROUND_ROBIN ServiceEntry with one endpoint is valid', r: se({ resolution: 'DNS_ROUND_ROBIN', endpoints: [{ address: 'a.example.com' }] }), expect: [] },
  { name: 'endpoint ports naming declared ports are valid', r: se({ endpoints: [{ address: '10.0.0.1', ports: { 'tcp-metaprotocol-dubbo': 20881 } }] }), expect: [] },
  { name: 'a unix socket endpoint with exactly one port is valid', r: se({ endpoints: [{ address: 'unix:///var/run/demo.sock' }] }), expect: [] },
  { name: 'several hosts with resolution NONE are valid', r: se({ hosts: ['a.example.com', 'b.example.com'], resolution: 'NONE', endpoints: undefined }), expect: [] },
  { name: 'several hosts on HTTP ports are valid with STATIC', r: se({ hosts: ['a.example.com', 'b.example.com'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }] }), expect: [] },
  { name: 'exportTo "." with a namespace and "~" alone are valid', r: se({ exportTo: ['.', 'other'] }), expect: [] },
  { name: 'exportTo "~" alone is valid for a ServiceEntry', r: se({ exportTo: ['~'] }), expect: [] },

  { name: 'no hosts is an error (CRD: spec.hosts required)', r: se({ hosts: [] }), expect: ['error spec.hosts'] },
  { name: 'the host "*" is an error (CRD: hostname cannot be wildcard)', r: se({ hosts: ['*'] }), expect: ['error spec.hosts[0]'] },
  { name: 'an IP address as host is an error', r: se({ hosts: ['10.0.0.1'] }), expect: ['error spec.hosts[0]'] },
  { name: 'a wildcard that is not the first label is an error', r: se({ hosts: ['a.*.example.com'] }), expect: ['error spec.hosts[0]'] },
  { name: 'a host with an underscore is an error', r: se({ hosts: ['demo_service.example.com'] }), expect: ['error spec.hosts[0]'] },
  { name: 'a partial wildcard host is a warning', r: se({ hosts: ['*x.example.com'] }), expect: ['warning spec.hosts[0]'] },
  { name: 'a wildcard host with DNS and no endpoints is an error', r: se({ hosts: ['*.example.com'], resolution: 'DNS', endpoints: undefined }), expect: ['error spec.hosts[0]'] },
  { name: 'a host name as address is an error', r: se({ addresses: ['demo.example.com'] }), expect: ['error spec.addresses[0]'] },
  { name: 'a CIDR block with a prefix over 32 bits is an error', r: se({ addresses: ['1.2.3.4/99'] }), expect: ['error spec.addresses[0]'] },
  { name: 'an IPv4 address with leading zeros is an error', r: se({ addresses: ['010.0.0.1'] }), expect: ['error spec.addresses[0]'] },
  { name: 'a CIDR block with DNS resolution is an error (CRD)', r: se({ addresses: ['10.0.0.0/16'], resolution: 'DNS', endpoints: undefined }), expect: ['error spec.addresses'] },
  { name: 'a port without a name is an error (CRD: name required)', r: se({ ports: [{ number: 20880 } as never] }), expect: ['error spec.ports[0].name'] },
  { name: 'a port name that is not a DNS label is an error', r: se({ ports: [{ ...PORT, name: 'tcp_dubbo' }] }), expect: ['error spec.ports[0].name'] },
  { name: 'two ports with one name is an error (CRD: list-map key)', r: se({ ports: [PORT, { ...PORT, number: 20881 }] }), expect: ['error spec.ports[1].name'] },
  { name: 'two ports with one number is an error (CRD)', r: se({ ports: [PORT, { ...PORT, name: 'tcp-other' }] }), expect: ['error spec.ports[1].number'] },
  { name: 'a port number above 65535 is an error (CRD)', r: se({ ports: [{ ...PORT, number: 99999 }] }), expect: ['error spec.ports[0].number'] },
  { name: 'a targetPort above 65535 is an error (CRD)', r: se({ ports: [{ ...PORT, targetPort: 99999 }] }), expect: ['error spec.ports[0].targetPort'] },
  { name: 'an unknown protocol is an error', r: se({ ports: [{ ...PORT, protocol: 'DUBBO' }] }), expect: ['error spec.ports[0].protocol'] },
  { name: 'a lower-case protocol is valid', r: se({ ports: [{ ...PORT, protocol: 'tcp' }] }), expect: [] },
  { name: 'a targetPort with resolution NONE is valid (istiod no longer warns)', r: se({ ports: [{ ...PORT, targetPort: 20881 }], resolution: 'NONE', endpoints: undefined }), expect: [] },
  { name: 'a unix socket endpoint with DNS resolution is an error', r: se({ resolution: 'DNS', endpoints: [{ address: 'unix:///var/run/demo.sock' }] }), expect: ['error spec.endpoints[0].address'] },
  {
    name: 'workloadSelector and endpoints together are an error (CRD: only one of WorkloadSelector or Endpoints)',
    r: se({ workloadSelector: { labels: { app: 'demo' } } }),
    expect: ['error spec.workloadSelector'],
  },
  { name: 'a wildcard in a selector value is an error (CRD)', r: se({ ...noEndpoints, workloadSelector: { labels: { app: '*' } } }), expect: ['error spec.workloadSelector.labels'] },
  { name: 'an empty selector key is an error', r: se({ ...noEndpoints, workloadSelector: { labels: { '': 'demo' } } }), expect: ['error spec.workloadSelector.labels'] },
  { name: 'a selector without labels is a warning', r: se({ ...noEndpoints, workloadSelector: {} }), expect: ['warning spec.workloadSelector'] },
  { name: 'a selector with DNS resolution is a warning', r: se({ ...noEndpoints, resolution: 'DNS', workloadSelector: { labels: { app: 'demo' } } }), expect: ['warning spec.workloadSelector'] },
  { name: 'endpoints with resolution NONE are an error (CRD: NONE mode cannot set endpoints)', r: se({ resolution: 'NONE' }), expect: ['error spec.endpoints'] },
  { name: 'endpoints without a resolution are an error (the default is NONE)', r: se({ resolution: undefined }), expect: ['error spec.endpoints'] },
  {
    name: 'two endpoints with DNS_ROUND_ROBIN are an error (CRD)',
    r: se({ resolution: 'DNS_ROUND_ROBIN', endpoints: [{ address: 'a.example.com' }, { address: 'b.example.com' }] }),
    expect: ['error spec.endpoints'],
  },
  { name: 'a host-name endpoint with STATIC is an error', r: se({ endpoints: [{ address: 'a.example.com' }] }), expect: ['error spec.endpoints[0].address'] },
  { name: 'an endpoint without address or network is an error (CRD: Address is required)', r: se({ endpoints: [{ labels: { version: 'v1' } }] }), expect: ['error spec.endpoints[0].address'] },
  { name: 'an endpoint with only a network is a warning with STATIC', r: se({ endpoints: [{ network: 'remote' }] }), expect: ['warning spec.endpoints[0].address'] },
  { name: 'an endpoint with only a network is an error with DNS', r: se({ resolution: 'DNS', endpoints: [{ network: 'remote' }] }), expect: ['error spec.endpoints[0].address'] },
  { name: 'a relative unix socket is an error (CRD: UDS must be an absolute path)', r: se({ endpoints: [{ address: 'unix://demo.sock' }] }), expect: ['error spec.endpoints[0].address'] },
  { name: 'a unix socket directory is an error (CRD: UDS may not be a dir)', r: se({ endpoints: [{ address: 'unix:///var/run/' }] }), expect: ['error spec.endpoints[0].address'] },
  { name: 'a unix socket with ports is an error (CRD: UDS may not include ports)', r: se({ endpoints: [{ address: 'unix:///s.sock', ports: { 'tcp-metaprotocol-dubbo': 1 } }] }), expect: ['error spec.endpoints[0].ports'] },
  {
    name: 'a unix socket with two service ports is an error',
    r: se({ ports: [PORT, { number: 20881, name: 'tcp-b', protocol: 'TCP' }], endpoints: [{ address: 'unix:///s.sock' }] }),
    expect: ['error spec.endpoints[0].address'],
  },
  { name: 'an endpoint port naming no declared port is an error', r: se({ endpoints: [{ address: '10.0.0.1', ports: { dubbo: 20880 } }] }), expect: ['error spec.endpoints[0].ports'] },
  { name: 'an endpoint port of 0 is an error (CRD)', r: se({ endpoints: [{ address: '10.0.0.1', ports: { 'tcp-metaprotocol-dubbo': 0 } }] }), expect: ['error spec.endpoints[0].ports.tcp-metaprotocol-dubbo'] },
  { name: 'an endpoint label value with a space is an error', r: se({ endpoints: [{ address: '10.0.0.1', labels: { version: 'v 1' } }] }), expect: ['error spec.endpoints[0].labels'] },
  { name: 'an endpoint label key with two slashes is an error', r: se({ endpoints: [{ address: '10.0.0.1', labels: { 'a/b/c': 'v1' } }] }), expect: ['error spec.endpoints[0].labels'] },
  { name: 'several hosts on a TCP port with STATIC are an error', r: se({ hosts: ['a.example.com', 'b.example.com'] }), expect: ['error spec.hosts'] },
  { name: 'exportTo with "." and the own namespace is an error', r: se({ exportTo: ['.', 'ns'] }), expect: ['error spec.exportTo'] },
  { name: 'exportTo with "*" and a namespace is an error', r: se({ exportTo: ['*', 'other'] }), expect: ['error spec.exportTo'] },
  { name: 'exportTo with "~" and a namespace is an error', r: se({ exportTo: ['~', 'other'] }), expect: ['error spec.exportTo'] },
  { name: 'exportTo with an invalid namespace is an error', r: se({ exportTo: ['Not_A_Namespace'] }), expect: ['error spec.exportTo'] },
  { name: 'an empty subjectAltNames entry is a warning', r: se({ subjectAltNames: ['spiffe://cluster.local/ns/ns/sa/demo', ''] }), expect: ['warning spec.subjectAltNames[1]'] },
  { name: 'an upper-case object name is an error (the API server wants a DNS subdomain)', r: se({}, { name: 'Demo' }), expect: ['error metadata.name'] },
  { name: 'a namespace with a dot is an error', r: se({}, { namespace: 'a.b' }), expect: ['error metadata.namespace'] },
];

for (const c of cases) {
  test(c.name, () => {
    assert.deepEqual(findings(c.r), [...c.expect].sort());
  });
}

test('every error says that metamesh generates nothing for the ServiceEntry', () => {
  const errors = validateServiceEntry(se({ hosts: [], workloadSelector: { labels: { app: 'x' } } })).filter((d) => d.severity === 'error');
  assert.equal(errors.length, 2);
  for (const d of errors) {
    assert.equal(d.code, 'MM_SERVICEENTRY_INVALID');
    assert.equal(d.object, 'ServiceEntry ns/demo');
    assert.ok(d.message.endsWith(SERVICEENTRY_DROPPED), d.message);
  }
});

test('warnings use their own code and keep the ServiceEntry', () => {
  const [d] = validateServiceEntry(se({ ...noEndpoints, workloadSelector: {} }));
  assert.equal(d?.code, 'MM_SERVICEENTRY_WARNING');
  assert.ok(!d.message.includes(SERVICEENTRY_DROPPED));
});
