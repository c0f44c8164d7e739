import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createWire, encodeRouteConfiguration } from '../../src/proto/wire.js';
import { ResourceCache } from '../../src/xds/cache.js';
import { composeCallbacks, type XdsCallbacks } from '../../src/xds/callbacks.js';
import { loggingCallbacks } from '../../src/xds/log-callbacks.js';
import { versionInfoOf } from '../../src/xds/protocol.js';
import { XdsServer } from '../../src/xds/server.js';
import type { DeltaDiscoveryResponseWire, DiscoveryResponseWire } from '../../src/xds/services.js';
import { captureLogs, client, NODE, RDS, services, until } from '../support/xds.js';

const wire = createWire();
const route = (name: string, cluster: string) => ({ name, virtualHosts: [{ name: 'dummy', domains: ['*'], routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster } }] }] });
type Recorded = { hook: keyof XdsCallbacks } & Record<string, unknown>;

/** A subscriber implementing every hook, recording each event with the hook's name. */
function recorder(): Required<XdsCallbacks> & { events: Recorded[] } {
  const events: Recorded[] = [];
  const on = (hook: keyof XdsCallbacks) => (e: object) => void events.push({ hook, ...e });
  return {
    events,
    streamOpened: on('streamOpened'),
    request: on('request'),
    responseSent: on('responseSent'),
    ack: on('ack'),
    nack: on('nack'),
    staleNonce: on('staleNonce'),
    requestRejected: on('requestRejected'),
    streamClosed: on('streamClosed'),
    fetched: on('fetched'),
    refused: on('refused'),
  };
}

/** The events of one stream, with the peer address (an ephemeral port) checked and masked. */
function ofStream(events: readonly Recorded[], stream: number): Recorded[] {
  return events
    .filter((e) => e.stream === stream)
    .map((e) => {
      if (!('peer' in e)) return e;
      assert.match(String(e.peer), /^(ipv4:)?127\.0\.0\.1:\d+$/);
      return { ...e, peer: 'PEER' };
    });
}

const servers: XdsServer[] = [];
after(async () => {
  for (const s of servers) await s.shutdown(0);
});

async function setup() {
  const cache = new ResourceCache({ encode: (j) => encodeRouteConfiguration(j, wire) });
  cache.setResources(new Map(['a', 'b'].map((n) => [n, route(n, 'c1')])));
  const first = recorder();
  const second = recorder();
  const server = new XdsServer({ cache, services, callbacks: composeCallbacks(first, second) });
  servers.push(server);
  const port = await server.listen('127.0.0.1:0');
  return { cache, server, first, second, port };
}

test('callbacks see a SotW stream as open, request, response, ack, nack, stale nonce, close, in order', async () => {
  const { cache, first, second, port } = await setup();
  const c = client(services.RdsClient, port);
  try {
    const s = c.open<DiscoveryResponseWire>('StreamRoutes');
    s.send({ node: NODE, type_url: RDS, resource_names: ['a'] });
    const r1 = await s.next();
    s.send({ type_url: RDS, resource_names: ['a'], version_info: r1.version_info, response_nonce: r1.nonce });
    await until(() => first.events.some((e) => e.hook === 'ack'), 'the ACK');
    cache.upsert('a', route('a', 'c2'));
    const r2 = await s.next();
    s.send({ type_url: RDS, resource_names: ['a'], version_info: r1.version_info, response_nonce: r2.nonce, error_detail: { code: 3, message: 'bad route' } });
    s.send({ type_url: RDS, resource_names: ['a', 'b'], version_info: r1.version_info, response_nonce: r1.nonce });
    await until(() => first.events.some((e) => e.hook === 'staleNonce'), 'the stale request');
    s.call.end();
    await until(() => first.events.some((e) => e.hook === 'streamClosed'), 'the close');

    const va1 = r1.version_info;
    const on = { stream: 1, nodeId: NODE.id };
    assert.deepEqual(ofStream(first.events, 1), [
      { hook: 'streamOpened', ...on, peer: 'PEER', service: 'rds', mode: 'sotw' },
      { hook: 'request', ...on, typeUrl: RDS, responseNonce: '', names: ['a'], unsubscribed: [] },
      { hook: 'responseSent', ...on, typeUrl: RDS, nonce: r1.nonce, version: va1, names: ['a'], removed: [] },
      { hook: 'request', ...on, typeUrl: RDS, responseNonce: r1.nonce, names: ['a'], unsubscribed: [] },
      { hook: 'ack', ...on, typeUrl: RDS, nonce: r1.nonce, version: va1, names: ['a'] },
      { hook: 'responseSent', ...on, typeUrl: RDS, nonce: r2.nonce, version: r2.version_info, names: ['a'], removed: [] },
      { hook: 'request', ...on, typeUrl: RDS, responseNonce: r2.nonce, names: ['a'], unsubscribed: [] },
      { hook: 'nack', ...on, typeUrl: RDS, nonce: r2.nonce, version: va1, rejected: ['a'], code: 3, message: 'bad route' },
      { hook: 'request', ...on, typeUrl: RDS, responseNonce: r1.nonce, names: ['a', 'b'], unsubscribed: [] },
      { hook: 'staleNonce', ...on, typeUrl: RDS, nonce: r1.nonce, latestNonce: r2.nonce },
      { hook: 'streamClosed', ...on, peer: 'PEER', reason: 'client closed the stream' },
    ]);
    // Every subscriber of the composite saw the same sequence.
    assert.deepEqual(second.events, first.events);
  } finally {
    c.client.close();
  }
});

test('callbacks see a delta stream as open, request, response, ack, removal, nack, close, in order', async () => {
  const { cache, first, port } = await setup();
  const c = client(services.RdsClient, port);
  try {
    const s = c.open<DeltaDiscoveryResponseWire>('DeltaRoutes');
    s.send({ node: NODE, type_url: RDS, resource_names_subscribe: ['a', 'b', 'x'], resource_names_unsubscribe: ['y'] });
    const r1 = await s.next();
    s.send({ type_url: RDS, response_nonce: r1.nonce });
    await until(() => first.events.some((e) => e.hook === 'ack'), 'the ACK');
    cache.remove('b');
    const r2 = await s.next();
    s.send({ type_url: RDS, response_nonce: r2.nonce, error_detail: { code: 13, message: 'cannot remove b' } });
    await until(() => first.events.some((e) => e.hook === 'nack'), 'the NACK');
    s.call.end();
    await until(() => first.events.some((e) => e.hook === 'streamClosed'), 'the close');

    const on = { stream: 1, nodeId: NODE.id };
    const none: string[] = [];
    const held = r1.resources.map((x) => [x.name, x.version] as const);
    assert.deepEqual(ofStream(first.events, 1), [
      { hook: 'streamOpened', ...on, peer: 'PEER', service: 'rds', mode: 'delta' },
      { hook: 'request', ...on, typeUrl: RDS, responseNonce: '', names: ['a', 'b', 'x'], unsubscribed: ['y'] },
      { hook: 'responseSent', ...on, typeUrl: RDS, nonce: r1.nonce, version: r1.system_version_info, names: ['a', 'b'], removed: none },
      { hook: 'request', ...on, typeUrl: RDS, responseNonce: r1.nonce, names: none, unsubscribed: none },
      { hook: 'ack', ...on, typeUrl: RDS, nonce: r1.nonce, version: r1.system_version_info, names: ['a', 'b'] },
      { hook: 'responseSent', ...on, typeUrl: RDS, nonce: r2.nonce, version: r2.system_version_info, names: none, removed: ['b'] },
      { hook: 'request', ...on, typeUrl: RDS, responseNonce: r2.nonce, names: none, unsubscribed: none },
      // The version the client still runs: both tables, since it refused to drop b.
      { hook: 'nack', ...on, typeUrl: RDS, nonce: r2.nonce, version: versionInfoOf(held), rejected: ['b'], code: 13, message: 'cannot remove b' },
      { hook: 'streamClosed', ...on, peer: 'PEER', reason: 'client closed the stream' },
    ]);
  } finally {
    c.client.close();
  }
});

test('an unserved type URL reports open, request, requestRejected, close; FetchRoutes reports fetched or a rejection without a stream', async () => {
  const { first, port } = await setup();
  const ads = client(services.AdsClient, port);
  const rds = client(services.RdsClient, port);
  const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
  type Fetch = (req: object, cb: (e: grpc.ServiceError | null) => void) => void;
  const fetch = (req: object) => new Promise<grpc.ServiceError | null>((resolve) => (rds.client as unknown as Record<string, Fetch>).FetchRoutes!.call(rds.client, req, resolve));
  try {
    const s = ads.open<DiscoveryResponseWire>('StreamAggregatedResources');
    s.send({ node: NODE, type_url: CLUSTER, resource_names: ['c'] });
    assert.equal((await s.failure()).code, grpc.status.INVALID_ARGUMENT);
    await until(() => first.events.some((e) => e.hook === 'streamClosed'), 'the close');
    const message = `type URL "${CLUSTER}" is not served here (served: ${RDS})`;
    const on = { stream: 1, nodeId: NODE.id };
    assert.deepEqual(ofStream(first.events, 1), [
      { hook: 'streamOpened', ...on, peer: 'PEER', service: 'ads', mode: 'sotw' },
      { hook: 'request', ...on, typeUrl: CLUSTER, responseNonce: '', names: ['c'], unsubscribed: [] },
      { hook: 'requestRejected', ...on, peer: 'PEER', typeUrl: CLUSTER, code: grpc.status.INVALID_ARGUMENT, message },
      { hook: 'streamClosed', ...on, peer: 'PEER', reason: `error sent: ${message}` },
    ]);

    assert.equal(await fetch({ node: NODE, type_url: RDS, resource_names: ['b', 'nope', 'a'] }), null);
    assert.equal((await fetch({ node: NODE, type_url: CLUSTER, resource_names: ['a'] }))?.code, grpc.status.INVALID_ARGUMENT);
    const unary = first.events.filter((e) => e.stream === undefined).map(({ peer, ...e }) => (assert.match(String(peer), /127\.0\.0\.1/), e));
    assert.deepEqual(unary, [
      { hook: 'fetched', nodeId: NODE.id, names: ['a', 'b'] },
      { hook: 'requestRejected', stream: undefined, nodeId: NODE.id, typeUrl: CLUSTER, code: grpc.status.INVALID_ARGUMENT, message },
    ]);
  } finally {
    ads.client.close();
    rds.client.close();
  }
});

test('composeCallbacks calls subscribers in order and leaves a hook nobody implements undefined', () => {
  const seen: string[] = [];
  const both = composeCallbacks({ ack: (e) => seen.push(`1:${e.nonce}`) }, {}, { ack: (e) => seen.push(`2:${e.nonce}`), nack: (e) => seen.push(`2n:${e.nonce}`) });
  both.ack?.({ stream: 1, nodeId: undefined, typeUrl: RDS, nonce: '7', version: 'v', names: [] });
  both.nack?.({ stream: 1, nodeId: undefined, typeUrl: RDS, nonce: '8', version: 'v', rejected: [], code: 3, message: 'm' });
  assert.deepEqual(seen, ['1:7', '2:7', '2n:8']);
  assert.equal(both.responseSent, undefined, 'no subscriber listens to responses, so none is built');
  assert.equal(both.streamOpened, undefined);
});

test('the logging subscriber writes one line per event, at its level and with its fields; requests and responses are not logged', () => {
  const { lines, logger } = captureLogs();
  const log = loggingCallbacks(logger);
  const on = { stream: 4, nodeId: 'n1' };
  log.streamOpened?.({ ...on, peer: 'ipv4:127.0.0.1:9', service: 'ads', mode: 'delta' });
  log.request?.({ ...on, typeUrl: RDS, responseNonce: '', names: ['a'], unsubscribed: [] });
  log.responseSent?.({ ...on, typeUrl: RDS, nonce: '1', version: 'v1', names: ['a'], removed: [] });
  log.ack?.({ ...on, typeUrl: RDS, nonce: '1', version: 'v1', names: ['a'] });
  log.nack?.({ ...on, typeUrl: RDS, nonce: '2', version: 'v1', rejected: ['a'], code: 3, message: 'bad' });
  log.staleNonce?.({ ...on, typeUrl: RDS, nonce: '1', latestNonce: '2' });
  log.requestRejected?.({ ...on, peer: 'p', typeUrl: 'T', code: 3, message: 'no T' });
  log.requestRejected?.({ stream: undefined, nodeId: 'n2', peer: 'p', typeUrl: 'T', code: 3, message: 'no T' });
  log.fetched?.({ nodeId: 'n2', peer: 'p', names: ['a'] });
  log.streamClosed?.({ ...on, peer: 'ipv4:127.0.0.1:9', reason: 'cancelled' });
  log.refused?.({ peer: '127.0.0.1:7', what: 'connection', message: 'too many' });
  const INFO = 30;
  const WARN = 40;
  const DEBUG = 20;
  assert.deepEqual(
    lines.map(({ time: _t, pid: _p, hostname: _h, ...l }) => l),
    [
      { level: INFO, event: 'connect', stream: 4, nodeId: 'n1', peer: 'ipv4:127.0.0.1:9', service: 'ads', mode: 'delta', msg: 'xDS stream connected' },
      { level: DEBUG, event: 'ack', stream: 4, nodeId: 'n1', nonce: '1', version: 'v1', names: ['a'], msg: 'xDS ACK' },
      { level: WARN, event: 'nack', stream: 4, nodeId: 'n1', typeUrl: RDS, resources: ['a'], nonce: '2', code: 3, message: 'bad', msg: 'xDS NACK' },
      { level: DEBUG, event: 'stale-nonce', stream: 4, nodeId: 'n1', nonce: '1', latest: '2', msg: 'stale nonce ignored' },
      { level: WARN, event: 'rejected-request', stream: 4, nodeId: 'n1', peer: 'p', message: 'no T', msg: 'xDS request rejected' },
      { level: WARN, event: 'rejected-request', rpc: 'FetchRoutes', nodeId: 'n2', message: 'no T', msg: 'xDS request rejected' },
      { level: DEBUG, event: 'fetch', nodeId: 'n2', names: ['a'], msg: 'xDS fetch' },
      { level: INFO, event: 'disconnect', stream: 4, nodeId: 'n1', peer: 'ipv4:127.0.0.1:9', reason: 'cancelled', msg: 'xDS stream disconnected' },
      { level: WARN, event: 'refused', what: 'connection', peer: '127.0.0.1:7', message: 'too many', msg: 'xDS connection refused' },
    ],
  );
});
