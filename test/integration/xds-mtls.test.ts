/**
 * Secure reach: sidecars and metamesh over mutual TLS on mesh identities, with real @grpc/grpc-js
 * clients on 127.0.0.1 and certificates from test CAs made with openssl (SPIFFE URI SANs, as
 * Istio's CA issues them). The client checks metamesh's SPIFFE id the way the generated
 * `metamesh-xds` cluster makes Envoy do (matchTypedSubjectAltNames, exact URI); the server
 * requires a client certificate from the mesh CA (--tls-ca) and, with --tls-client-trust-domain,
 * a SPIFFE id of that trust domain. istiod, which has no client certificate, gets MCP on a
 * listener of its own (--mcp-address).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ISTIOD_TYPE_URLS } from '../../src/mcp/types.js';
import type { DiscoveryResponseWire } from '../../src/xds/services.js';
import { connectIstiod, ISTIOD_NODE } from '../support/mcp.js';
import { TestPki, type Leaf } from '../support/pki.js';
import { client, DUBBO, examplesCopy, removeTemps, services, sotwReq, start } from '../support/xds.js';

const METAMESH_ID = 'spiffe://cluster.local/ns/istio-system/sa/metamesh';

let mesh: TestPki;
let other: TestPki;
let server: Leaf;
let impostor: Leaf;
let consumer: Leaf;
let foreign: Leaf;
let otherCaClient: Leaf;

before(() => {
  mesh = new TestPki(undefined, 'mesh-root');
  other = new TestPki(undefined, 'other-root');
  server = mesh.leaf('metamesh', { subjectAltName: `URI:${METAMESH_ID}` });
  impostor = mesh.leaf('impostor', { subjectAltName: 'URI:spiffe://cluster.local/ns/dubbo/sa/provider' });
  consumer = mesh.leaf('consumer', { usage: 'client', subjectAltName: 'URI:spiffe://cluster.local/ns/dubbo/sa/consumer' });
  foreign = mesh.leaf('foreign', { usage: 'client', subjectAltName: 'URI:spiffe://other.example/ns/dubbo/sa/consumer' });
  otherCaClient = other.leaf('stranger', { usage: 'client', subjectAltName: 'URI:spiffe://cluster.local/ns/dubbo/sa/consumer' });
});
after(() => {
  mesh.remove();
  other.remove();
  removeTemps();
});

const read = (f: string) => readFileSync(f);
// Each client gets its own connection (grpc-js would otherwise share one between equal channels).
const OWN = { 'grpc.use_local_subchannel_pool': 1 };

/** Verifies the server's certificate chain against the mesh root and its SPIFFE id, not a host name. */
function spiffeCheck(want: string) {
  return {
    checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined =>
      (cert.subjectaltname ?? '').split(', ').includes(`URI:${want}`) ? undefined : new Error(`server SPIFFE id is ${cert.subjectaltname}, not ${want}`),
  };
}

function sidecar(port: number, leaf: Leaf | undefined, ca = mesh.ca) {
  const creds = leaf ? grpc.credentials.createSsl(read(ca), read(leaf.key), read(leaf.cert), spiffeCheck(METAMESH_ID)) : grpc.credentials.createSsl(read(ca), null, null, spiffeCheck(METAMESH_ID));
  return client(services.RdsClient, port, creds, OWN);
}

/** The first response of a StreamRoutes stream, or the stream's error. */
async function firstRoutes(port: number, leaf: Leaf | undefined, ca?: string): Promise<DiscoveryResponseWire | { code?: number; details?: string }> {
  const c = sidecar(port, leaf, ca);
  try {
    const s = c.open<DiscoveryResponseWire>('StreamRoutes');
    s.send(sotwReq([DUBBO]));
    try {
      return await s.next();
    } catch (e) {
      return e as { code?: number; details?: string };
    }
  } finally {
    c.client.close();
  }
}

const tls = () => ({ cert: server.cert, key: server.key, ca: mesh.ca, clientTrustDomains: ['cluster.local'] });

describe('xDS over mutual TLS on mesh identities', () => {
  test('a sidecar with a mesh certificate of the trust domain gets its routes, having verified metamesh\'s SPIFFE id', async () => {
    const srv = await start(examplesCopy(), { tls: tls() });
    try {
      const r = await firstRoutes(srv.xdsPort, consumer);
      assert.ok('resources' in r, JSON.stringify(r));
      assert.equal(r.resources.length, 1);
    } finally {
      await srv.close();
    }
  });

  test('refused: no client certificate, a certificate of another CA (both at the handshake), another trust domain (PERMISSION_DENIED)', async () => {
    const srv = await start(examplesCopy(), { tls: tls() });
    try {
      const none = await firstRoutes(srv.xdsPort, undefined);
      assert.ok(!('resources' in none));
      assert.equal(none.code, grpc.status.UNAVAILABLE, JSON.stringify(none));
      const stranger = await firstRoutes(srv.xdsPort, otherCaClient, other.ca);
      assert.ok(!('resources' in stranger));
      assert.equal(stranger.code, grpc.status.UNAVAILABLE, JSON.stringify(stranger));
      const wrongDomain = await firstRoutes(srv.xdsPort, foreign);
      assert.ok(!('resources' in wrongDomain));
      assert.equal(wrongDomain.code, grpc.status.PERMISSION_DENIED);
      assert.equal(wrongDomain.details, "the client's SPIFFE id spiffe://other.example/ns/dubbo/sa/consumer is not in trust domain cluster.local (--tls-client-trust-domain)");
      const logged = srv.logs.lines.find((l) => l.event === 'refused' && typeof l.message === 'string' && l.message.includes('other.example'));
      assert.ok(logged, 'the refusal is logged');
      // FetchRoutes is held to the same rule.
      const c = sidecar(srv.xdsPort, foreign);
      const fetched = await new Promise<grpc.ServiceError | null>((resolve) => (c.client as unknown as { FetchRoutes: (r: object, cb: (e: grpc.ServiceError | null) => void) => void }).FetchRoutes(sotwReq([DUBBO]), resolve));
      c.client.close();
      assert.equal(fetched?.code, grpc.status.PERMISSION_DENIED);
      // The server still serves the good client afterwards.
      assert.ok('resources' in (await firstRoutes(srv.xdsPort, consumer)));
    } finally {
      await srv.close();
    }
  });

  test('without --tls-client-trust-domain any client the mesh CA signed is served', async () => {
    const srv = await start(examplesCopy(), { tls: { cert: server.cert, key: server.key, ca: mesh.ca } });
    try {
      assert.ok('resources' in (await firstRoutes(srv.xdsPort, foreign)));
    } finally {
      await srv.close();
    }
  });

  test('a sidecar refuses a server with another SPIFFE id from the same mesh CA (what matchTypedSubjectAltNames is for)', async () => {
    const srv = await start(examplesCopy(), { tls: { cert: impostor.cert, key: impostor.key, ca: mesh.ca } });
    try {
      const r = await firstRoutes(srv.xdsPort, consumer);
      assert.ok(!('resources' in r));
      assert.equal(r.code, grpc.status.UNAVAILABLE);
    } finally {
      await srv.close();
    }
  });
});

describe('MCP for istiod beside mutual TLS (--mcp-address)', () => {
  const istiodCreds = () => grpc.credentials.createSsl(read(mesh.ca), null, null, spiffeCheck(METAMESH_ID));

  test('istiod, with server TLS and no client certificate, gets every type on the MCP port; sidecars keep mutual TLS on the xDS port', async () => {
    const srv = await start(examplesCopy(), { tls: tls(), mcp: { address: '127.0.0.1:0' } });
    const istiod = connectIstiod(srv.mcpPort!, ISTIOD_TYPE_URLS, istiodCreds(), OWN);
    try {
      const responses = await istiod.receive(ISTIOD_TYPE_URLS.length);
      assert.deepEqual(responses.map((r) => r.type_url).sort(), [...ISTIOD_TYPE_URLS].sort());
      assert.ok('resources' in (await firstRoutes(srv.xdsPort, consumer)), 'sidecars still get routes');
      assert.ok(!('resources' in (await firstRoutes(srv.xdsPort, undefined))), 'and still need a certificate');
      // /debug/xds lists istiod's streams on the MCP port with the sidecars', in id order.
      const debug = (await (await fetch(`http://127.0.0.1:${srv.httpPort}/debug/xds`)).json()) as { streams: Array<{ id: number; nodeId?: string; typeUrl: string }> };
      const istiodTypes = debug.streams.filter((v) => v.nodeId === ISTIOD_NODE.id).map((v) => v.typeUrl);
      assert.equal(istiodTypes.length, ISTIOD_TYPE_URLS.length);
      const ids = debug.streams.map((v) => v.id);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    } finally {
      istiod.close();
      await srv.close();
    }
  });

  test('the MCP port serves no routes (nobody there is authenticated) and the xDS port no MCP', async () => {
    const srv = await start(examplesCopy(), { tls: tls(), mcp: { address: '127.0.0.1:0' } });
    try {
      const ads = client(services.AdsClient, srv.mcpPort!, istiodCreds(), OWN);
      const s = ads.open('StreamAggregatedResources');
      s.send(sotwReq([DUBBO]));
      const e = await s.failure();
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
      assert.match(e.details ?? '', /is not served here \(served: Istio config types \(MCP\)\)/);
      const rds = client(services.RdsClient, srv.mcpPort!, istiodCreds(), OWN).open('StreamRoutes');
      rds.send(sotwReq([DUBBO]));
      assert.equal((await rds.failure()).code, grpc.status.UNIMPLEMENTED);
      ads.client.close();

      const onXds = connectIstiod(srv.xdsPort, ISTIOD_TYPE_URLS, grpc.credentials.createSsl(read(mesh.ca), read(consumer.key), read(consumer.cert), spiffeCheck(METAMESH_ID)), OWN);
      const x = await onXds.stream.failure();
      onXds.close();
      assert.equal(x.code, grpc.status.INVALID_ARGUMENT);
    } finally {
      await srv.close();
    }
  });

  test('--mcp-plaintext: istiod connects without TLS to the MCP port', async () => {
    const srv = await start(examplesCopy(), { tls: tls(), mcp: { address: '127.0.0.1:0', plaintext: true } });
    const istiod = connectIstiod(srv.mcpPort!, ISTIOD_TYPE_URLS, undefined, OWN);
    try {
      assert.equal((await istiod.receive(ISTIOD_TYPE_URLS.length)).length, ISTIOD_TYPE_URLS.length);
    } finally {
      istiod.close();
      await srv.close();
    }
  });
});
