/**
 * metamesh's identity in the `metamesh-xds` cluster: with ISTIO_MUTUAL the sidecar requires the
 * server certificate to carry metamesh's SPIFFE id (or the SANs given in xds.subjectAltNames), not
 * just any certificate signed by the mesh root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveOptions } from '../../src/config/options.js';
import type { Diagnostic } from '../../src/model/diagnostics.js';
import { xdsCluster } from '../../src/envoyfilter/xds-cluster.js';

function options(spec: unknown) {
  const diagnostics: Diagnostic[] = [];
  const o = resolveOptions(spec, 'MetameshOptions m', diagnostics);
  return { o, invalid: diagnostics.filter((d) => d.code === 'MM_OPTIONS_INVALID').map((d) => d.message.split(' ')[0]) };
}

interface Validation {
  defaultValidationContext?: { matchTypedSubjectAltNames?: unknown };
}
function validationContext(spec: unknown): Validation | undefined {
  const c = xdsCluster(options(spec).o) as { transportSocket?: { typedConfig: { commonTlsContext: { combinedValidationContext: Validation } } } };
  return c.transportSocket?.typedConfig.commonTlsContext.combinedValidationContext;
}

const cases: { name: string; spec: unknown; sans: string[]; invalid?: string[] }[] = [
  { name: 'by default the SAN is metamesh in istio-system under cluster.local', spec: undefined, sans: ['spiffe://cluster.local/ns/istio-system/sa/metamesh'] },
  { name: 'the namespace follows rootNamespace unless given', spec: { rootNamespace: 'mesh-root' }, sans: ['spiffe://cluster.local/ns/mesh-root/sa/metamesh'] },
  {
    name: 'trustDomain, xds.namespace and xds.serviceAccount make the SPIFFE id',
    spec: { trustDomain: 'corp.example', xds: { namespace: 'metamesh', serviceAccount: 'metamesh-server' } },
    sans: ['spiffe://corp.example/ns/metamesh/sa/metamesh-server'],
  },
  {
    name: 'xds.subjectAltNames replace the derived SAN',
    spec: { trustDomain: 'corp.example', xds: { subjectAltNames: ['spiffe://other/ns/a/sa/b', 'metamesh.example.com'] } },
    sans: ['spiffe://other/ns/a/sa/b', 'metamesh.example.com'],
  },
  { name: 'an invalid trust domain keeps cluster.local', spec: { trustDomain: 'Bad_Domain' }, sans: ['spiffe://cluster.local/ns/istio-system/sa/metamesh'], invalid: ['spec.trustDomain'] },
  { name: 'an invalid namespace falls back to the root namespace', spec: { rootNamespace: 'root', xds: { namespace: 'a.b' } }, sans: ['spiffe://cluster.local/ns/root/sa/metamesh'], invalid: ['spec.xds.namespace'] },
  { name: 'an invalid service account keeps metamesh', spec: { xds: { serviceAccount: 'sa/x' } }, sans: ['spiffe://cluster.local/ns/istio-system/sa/metamesh'], invalid: ['spec.xds.serviceAccount'] },
  { name: 'an empty SAN list keeps the derived SAN', spec: { xds: { subjectAltNames: [] } }, sans: ['spiffe://cluster.local/ns/istio-system/sa/metamesh'], invalid: ['spec.xds.subjectAltNames'] },
  { name: 'an empty SAN keeps the derived SAN', spec: { xds: { subjectAltNames: ['a.example.com', ''] } }, sans: ['spiffe://cluster.local/ns/istio-system/sa/metamesh'], invalid: ['spec.xds.subjectAltNames'] },
];

for (const c of cases) {
  test(c.name, () => {
    const { o, invalid } = options(c.spec);
    assert.deepEqual(o.xds.subjectAltNames, c.sans);
    assert.deepEqual(invalid, c.invalid ?? []);
  });
}

test('with ISTIO_MUTUAL the cluster requires metamesh\'s SPIFFE id as a URI SAN', () => {
  assert.deepEqual(validationContext(undefined)?.defaultValidationContext, {
    matchTypedSubjectAltNames: [{ sanType: 'URI', matcher: { exact: 'spiffe://cluster.local/ns/istio-system/sa/metamesh' } }],
  });
});

test('a SAN without a scheme is matched as a DNS SAN', () => {
  assert.deepEqual(validationContext({ xds: { subjectAltNames: ['metamesh.example.com', 'spiffe://td/ns/n/sa/s'] } })?.defaultValidationContext, {
    matchTypedSubjectAltNames: [
      { sanType: 'DNS', matcher: { exact: 'metamesh.example.com' } },
      { sanType: 'URI', matcher: { exact: 'spiffe://td/ns/n/sa/s' } },
    ],
  });
});

test('with DISABLE there is no TLS and so nothing to verify', () => {
  assert.equal(validationContext({ xds: { tls: 'DISABLE' } }), undefined);
});
