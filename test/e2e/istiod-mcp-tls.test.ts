/**
 * istiod reaching `metamesh serve --mcp` over TLS, with metamesh reading its configuration from
 * files (support/mesh-fixture.ts's MESH_FILES; istiod reads the same objects from the API server
 * through k8s://, listed second). What docs/operations.md says about
 * `configSources[].tlsSettings`, checked against a real istiod:
 *  - mode SIMPLE with the CA of metamesh's certificate: istiod verifies it and gets everything;
 *  - a CA that did not sign it: istiod does not start;
 *  - any other mode (ISTIO_MUTUAL here) is plaintext: such an istiod works only against a
 *    plaintext metamesh, and cannot talk to a TLS one;
 *  - beside mutual TLS for the sidecars (--tls-ca), MCP on its own port (--mcp-address) with server
 *    TLS serves istiod; the xDS port, which requires a client certificate, locks istiod out.
 * Certificates are made at test time (support/pki.ts). Every wait is a deadline on a condition.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestPki, type Leaf } from '../support/pki.js';
import { removeTemps, tempDir } from '../support/xds.js';
import { checkAllProxies, MESH_FILES, OPTIONS, startMeshCluster } from './support/mesh-fixture.js';
import { createIstiod, startIstiod } from './support/istiod.js';
import { freePorts, type KubeCluster } from './support/kube.js';
import { startMetamesh, type MetameshProcess } from './support/metamesh.js';

let cluster: KubeCluster;
let pki: TestPki;
let other: TestPki;
let tlsMetamesh: MetameshProcess;
let leaf: Leaf;
const FILES = [...MESH_FILES.flatMap((f) => ['-f', f]), '-f', OPTIONS];

before(async () => {
  cluster = await startMeshCluster();
  pki = new TestPki();
  other = new TestPki();
  // SANs DNS:localhost and IP:127.0.0.1.
  leaf = pki.leaf('metamesh');
  tlsMetamesh = await startMetamesh(['--mcp', '--tls-cert', leaf.cert, '--tls-key', leaf.key, ...FILES], path.join(tempDir('metamesh-e2e-tls-'), 'metamesh.log'));
});

after(async () => {
  await tlsMetamesh?.kill();
  await cluster?.stop();
  pki?.remove();
  other?.remove();
  removeTemps();
});

test('tlsSettings mode SIMPLE with the CA of metamesh\'s certificate: istiod verifies it and applies everything', async () => {
  const istiod = await startIstiod({
    kubeconfig: cluster.kubeconfig,
    configSources: [{ address: `xds://${tlsMetamesh.xdsAddress}`, tlsSettings: { mode: 'SIMPLE', caCertificates: readFileSync(pki.ca, 'utf8') } }, { address: 'k8s://' }],
  });
  try {
    await checkAllProxies(istiod);
  } finally {
    await istiod.stop();
  }
});

test('mode SIMPLE with a CA that did not sign metamesh\'s certificate: istiod does not start', async () => {
  const istiod = await createIstiod({
    kubeconfig: cluster.kubeconfig,
    configSources: [{ address: `xds://${tlsMetamesh.xdsAddress}`, tlsSettings: { mode: 'SIMPLE', caCertificates: readFileSync(other.ca, 'utf8') } }, { address: 'k8s://' }],
  });
  try {
    await assert.rejects(istiod.start(), /exited|not within/);
    assert.match(istiod.logText(), /certificate|x509|authentication handshake failed/);
  } finally {
    await istiod.stop();
  }
});

test('mode ISTIO_MUTUAL is plaintext: it cannot reach a TLS metamesh, and gets everything from a plaintext one', async () => {
  const toTls = await createIstiod({
    kubeconfig: cluster.kubeconfig,
    configSources: [{ address: `xds://${tlsMetamesh.xdsAddress}`, tlsSettings: { mode: 'ISTIO_MUTUAL' } }, { address: 'k8s://' }],
  });
  try {
    await assert.rejects(toTls.start(), /exited|not within/);
  } finally {
    await toTls.stop();
  }

  const plain = await startMetamesh(['--mcp', ...FILES], path.join(tempDir('metamesh-e2e-plain-'), 'metamesh.log'));
  try {
    const istiod = await startIstiod({
      kubeconfig: cluster.kubeconfig,
      configSources: [{ address: `xds://${plain.xdsAddress}`, tlsSettings: { mode: 'ISTIO_MUTUAL' } }, { address: 'k8s://' }],
    });
    try {
      await checkAllProxies(istiod);
    } finally {
      await istiod.stop();
    }
  } finally {
    await plain.kill();
  }
});

test('MCP on its own port beside mutual TLS (--mcp-address): istiod gets everything there, and is locked out of the xDS port', async () => {
  const [mcpPort] = await freePorts(1);
  const mcpAddress = `127.0.0.1:${mcpPort}`;
  const m = await startMetamesh(['--mcp', '--mcp-address', mcpAddress, '--tls-cert', leaf.cert, '--tls-key', leaf.key, '--tls-ca', pki.ca, ...FILES], path.join(tempDir('metamesh-e2e-mtls-'), 'metamesh.log'));
  const simple = { mode: 'SIMPLE', caCertificates: readFileSync(pki.ca, 'utf8') };
  try {
    const istiod = await startIstiod({ kubeconfig: cluster.kubeconfig, configSources: [{ address: `xds://${mcpAddress}`, tlsSettings: simple }, { address: 'k8s://' }] });
    try {
      await checkAllProxies(istiod);
    } finally {
      await istiod.stop();
    }
    const locked = await createIstiod({ kubeconfig: cluster.kubeconfig, configSources: [{ address: `xds://${m.xdsAddress}`, tlsSettings: simple }, { address: 'k8s://' }] });
    try {
      await assert.rejects(locked.start(), /exited|not within/);
    } finally {
      await locked.stop();
    }
  } finally {
    await m.kill();
  }
});
