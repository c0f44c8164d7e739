/**
 * A service whose MetaProtocol port follows a native-protocol port (`tcp-dubbo`, `tcp-thrift`, …):
 * metamesh looks at each port on its own, so the MetaProtocol port gets its EnvoyFilters and route
 * table and the native port gets nothing (Aeraki ran only the first port's generator).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { codesOf, DUBBO_HOST as HOST, generate } from '../support/generate.js';

for (const native of ['tcp-dubbo', 'tcp-thrift', 'tcp-redis']) {
  it(`a MetaProtocol port after a ${native} port gets its outbound and inbound EnvoyFilters and route table; the ${native} port gets none`, () => {
    const out = generate(`
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: demoservice, namespace: meta-dubbo}
spec:
  hosts: [${HOST}]
  addresses: [240.240.0.1]
  ports:
  - {number: 20880, name: ${native}, protocol: TCP}
  - {number: 20881, name: tcp-metaprotocol-dubbo, protocol: TCP}
  resolution: STATIC
  workloadSelector: {labels: {app: dubbo-sample-provider}}
`);
    assert.deepEqual(codesOf(out), []);
    const sidecar = out.envoyFilters.filter((ef) => ef.metadata.labels?.['metamesh.io/role'] !== 'xds-cluster');
    assert.deepEqual(sidecar.map((ef) => ef.metadata.name).sort(), [`metamesh-inbound-${HOST}-20881`, `metamesh-outbound-${HOST}-20881`]);
    assert.deepEqual(out.routes.map((r) => r.name), [`${HOST}_20881`]);
  });
}
