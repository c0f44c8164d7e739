import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { createWire, encodeRouteConfiguration } from '../../src/proto/wire.js';
import { ROUTE_CONFIGURATION_TYPE_URL as RDS } from '../../src/route/wire.js';
import { ResourceCache } from '../../src/xds/cache.js';
import { loadXdsServices, type DiscoveryRequestWire, type DiscoveryResponseWire } from '../../src/xds/services.js';
import { StreamSession } from '../../src/xds/session.js';
import { SOTW } from '../../src/xds/stream-protocol.js';

const wire = createWire();
const decode = loadXdsServices().RdsClient.service.StreamRoutes!.responseDeserialize as (b: Buffer) => DiscoveryResponseWire;
const route = (name: string, cluster: string) => ({ name, virtualHosts: [{ name: 'dummy', domains: ['*'], routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster } }] }] });

/** A stand-in for a grpc-js server duplex call whose write() reports back-pressure on demand. */
class FakeCall extends EventEmitter {
  written: DiscoveryResponseWire[] = [];
  raw: Buffer[] = [];
  full = false;
  paused = false;
  write(msg: Buffer): boolean {
    this.raw.push(msg);
    this.written.push(decode(msg));
    return !this.full;
  }
  pause() {
    this.paused = true;
    return this;
  }
  resume() {
    this.paused = false;
    return this;
  }
  getPeer() {
    return 'ipv4:127.0.0.1:1234';
  }
  end() {}
}

const asCall = (c: FakeCall) => c as unknown as grpc.ServerDuplexStream<DiscoveryRequestWire, Buffer>;

test('back-pressure: nothing is written until drain, then only the latest version', () => {
  const cache = new ResourceCache({ encode: (j) => encodeRouteConfiguration(j, wire) });
  cache.upsert('a', route('a', 'c1'));
  const call = new FakeCall();
  new StreamSession({ id: 1, service: 'rds', protocol: SOTW, call: asCall(call), cache, callbacks: {}, onClose: () => {} });
  call.full = true;
  call.emit('data', { type_url: RDS, resource_names: ['a'], version_info: '', response_nonce: '' });
  assert.equal(call.written.length, 1);
  assert.equal(call.paused, true, 'reading stops while the transport is full');
  const first = call.written[0]!;
  call.full = false;
  call.emit('drain');
  assert.equal(call.paused, false);
  call.emit('data', { type_url: RDS, resource_names: ['a'], version_info: first.version_info, response_nonce: first.nonce });
  call.full = true;
  cache.upsert('a', route('a', 'c2'));
  assert.equal(call.written.length, 2);
  assert.equal(call.paused, true);
  const second = call.written[1]!;
  // An ACK already buffered before the pause, then two more changes while blocked.
  call.emit('data', { type_url: RDS, resource_names: ['a'], version_info: second.version_info, response_nonce: second.nonce });
  cache.upsert('a', route('a', 'c3'));
  cache.upsert('a', route('a', 'c4'));
  assert.equal(call.written.length, 2, 'blocked: changes are held');
  call.full = false;
  call.emit('drain');
  assert.equal(call.written.length, 3, 'one coalesced response after drain');
  assert.equal(call.written[2]!.resources[0]!.value.equals(Buffer.from(cache.get('a')!.bytes)), true);
  assert.equal(call.paused, false);
});

test('responses are written already encoded, around the cache bytes of each resource', () => {
  const cache = new ResourceCache({ encode: (j) => encodeRouteConfiguration(j, wire) });
  cache.upsert('a', route('a', 'c1'));
  const call = new FakeCall();
  new StreamSession({ id: 1, service: 'ads', protocol: SOTW, call: asCall(call), cache, callbacks: {}, onClose: () => {} });
  call.emit('data', { type_url: RDS, resource_names: ['a'], version_info: '', response_nonce: '' });
  assert.ok(Buffer.isBuffer(call.raw[0]), 'a Buffer, which the service definitions pass through');
  const any = call.written[0]!.resources[0]!;
  assert.equal(any.type_url, RDS);
  assert.ok(any.value.equals(Buffer.from(cache.get('a')!.bytes)));
  assert.ok(call.raw[0]!.includes(Buffer.from(cache.get('a')!.bytes)), 'the resource bytes appear verbatim');
});
