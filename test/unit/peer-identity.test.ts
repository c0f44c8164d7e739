/** Client identities from certificate SANs (src/xds/peer-identity.ts), as node:tls prints them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientRefusal, spiffeIds, trustDomainOf } from '../../src/xds/peer-identity.js';

test('SPIFFE ids are the spiffe:// URI SANs, in order; DNS, IP and other URIs are not ids', () => {
  assert.deepEqual(spiffeIds('DNS:localhost, URI:spiffe://cluster.local/ns/a/sa/b, IP Address:127.0.0.1, URI:https://example.com/x, URI:spiffe://td2/ns/c/sa/d'), [
    'spiffe://cluster.local/ns/a/sa/b',
    'spiffe://td2/ns/c/sa/d',
  ]);
  assert.deepEqual(spiffeIds(undefined), []);
  assert.deepEqual(spiffeIds(''), []);
  // A value holding ", " is printed JSON-quoted; it must not be split into a forged second entry.
  assert.deepEqual(spiffeIds('URI:"spiffe://evil/x, URI:spiffe://cluster.local/ns/a/sa/b"'), ['spiffe://evil/x, URI:spiffe://cluster.local/ns/a/sa/b']);
});

test('the trust domain is the authority of the id, lower-cased; an id without a path has none', () => {
  assert.equal(trustDomainOf('spiffe://Cluster.Local/ns/a/sa/b'), 'cluster.local');
  assert.equal(trustDomainOf('spiffe://cluster.local'), undefined);
  assert.equal(trustDomainOf('spiffe://cluster.local/'), undefined);
});

test('with trust domains given, only a client with an id in one of them passes; without, every client', () => {
  const id = 'URI:spiffe://cluster.local/ns/dubbo/sa/consumer';
  assert.equal(clientRefusal(id, ['cluster.local']), undefined);
  assert.equal(clientRefusal(id, ['east.local', 'cluster.local']), undefined);
  assert.equal(clientRefusal(id, []), undefined);
  assert.equal(clientRefusal(undefined, []), undefined);
  assert.equal(clientRefusal(id, ['east.local']), "the client's SPIFFE id spiffe://cluster.local/ns/dubbo/sa/consumer is not in trust domain east.local (--tls-client-trust-domain)");
  assert.match(clientRefusal('DNS:consumer.dubbo.svc', ['cluster.local'])!, /^the client certificate carries no SPIFFE id/);
  // A trust domain that only starts like the allowed one is another trust domain.
  assert.ok(clientRefusal('URI:spiffe://cluster.local.evil/ns/a/sa/b', ['cluster.local']));
});
