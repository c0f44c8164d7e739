/**
 * Who the HTTP server answers (src/runtime/http-policy.ts), as tables: the Host check against DNS
 * rebinding, and the bearer token of the debug endpoints, which are disabled on a non-loopback
 * address without one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerMatches, debugAccess, hostAllowed, hostOf, isLoopback, refusal, type AccessContext } from '../../src/runtime/http-policy.js';

test('loopback addresses are 127.0.0.0/8 and ::1 (also IPv4-mapped); wildcards and other addresses are not', () => {
  for (const a of ['127.0.0.1', '127.0.0.2', '127.255.255.254', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
  for (const a of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'localhost', '::ffff:10.0.0.1', '']) assert.equal(isLoopback(a), false, a);
});

test('the debug endpoints: open on loopback without a token, token-guarded with one anywhere, disabled elsewhere without one', () => {
  assert.equal(debugAccess('127.0.0.1', false), 'open');
  assert.equal(debugAccess('::1', false), 'open');
  assert.equal(debugAccess('127.0.0.1', true), 'token');
  assert.equal(debugAccess('0.0.0.0', true), 'token');
  assert.equal(debugAccess('0.0.0.0', false), 'disabled');
  assert.equal(debugAccess('::', false), 'disabled');
  assert.equal(debugAccess('10.1.2.3', false), 'disabled');
});

test('the host part of a Host header, without port, lower-cased; malformed headers give undefined', () => {
  assert.equal(hostOf('LocalHost:8080'), 'localhost');
  assert.equal(hostOf('[::1]:8080'), '::1');
  assert.equal(hostOf('metamesh.istio-system.svc.'), 'metamesh.istio-system.svc');
  assert.equal(hostOf('10.0.0.1'), '10.0.0.1');
  for (const bad of ['', 'a b', 'a:b:c', '[::1', 'host:99999999', 'a[b:80', 'évil.example']) assert.equal(hostOf(bad), undefined, bad);
});

const names = new Set(['metamesh.istio-system.svc']);
const hostCases: Array<[string, string | undefined, string, boolean]> = [
  ['localhost on a loopback address', 'localhost:8080', '127.0.0.1', true],
  ['the bound loopback address', '127.0.0.1:8080', '127.0.0.1', true],
  ['[::1] on ::1', '[::1]:8080', '::1', true],
  ['another loopback address than the bound one', '127.0.0.2:8080', '127.0.0.1', false],
  ['a rebinding name on loopback', 'evil.example:8080', '127.0.0.1', false],
  ['a configured name', 'Metamesh.istio-system.svc:8080', '10.0.0.5', true],
  ['the bound address', '10.0.0.5:8080', '10.0.0.5', true],
  ['another address than the bound one', '10.0.0.6:8080', '10.0.0.5', false],
  ['localhost on a specific non-loopback address', 'localhost', '10.0.0.5', false],
  ['any IP address on a wildcard', '10.9.9.9:8080', '0.0.0.0', true],
  ['localhost on a wildcard', 'localhost:8080', '::', true],
  ['an unconfigured name on a wildcard', 'evil.example', '0.0.0.0', false],
  ['no Host header', undefined, '127.0.0.1', false],
  ['a malformed Host header', 'a b', '127.0.0.1', false],
];
for (const [name, header, bound, want] of hostCases) {
  test(`Host check: ${name} is ${want ? 'accepted' : 'refused'}`, () => {
    assert.equal(hostAllowed(header, bound, names), want);
  });
}

test('a bearer token matches only exactly, scheme case-insensitive', () => {
  assert.equal(bearerMatches('Bearer s3cret', 's3cret'), true);
  assert.equal(bearerMatches('bearer s3cret', 's3cret'), true);
  assert.equal(bearerMatches('Bearer s3cret2', 's3cret'), false);
  assert.equal(bearerMatches('Bearer s3cre', 's3cret'), false);
  assert.equal(bearerMatches('Basic s3cret', 's3cret'), false);
  assert.equal(bearerMatches('s3cret', 's3cret'), false);
  assert.equal(bearerMatches('Bearer ', 's3cret'), false);
  assert.equal(bearerMatches(undefined, 's3cret'), false);
});

test('refusal: the Host check covers every endpoint, the token and the disabled state only the debug ones', () => {
  const loopbackWithToken: AccessContext = { boundAddress: '127.0.0.1', hostNames: new Set(), token: 't0ken' };
  const network: AccessContext = { boundAddress: '0.0.0.0', hostNames: new Set(), token: undefined };
  const ok = { host: 'localhost:1', authorization: undefined };
  assert.equal(refusal(ok, false, loopbackWithToken), undefined);
  assert.equal(refusal({ ...ok, host: 'evil.example' }, false, loopbackWithToken)?.status, 421);
  assert.equal(refusal({ ...ok, host: undefined }, false, loopbackWithToken)?.status, 400);
  const unauthorized = refusal(ok, true, loopbackWithToken);
  assert.equal(unauthorized?.status, 401);
  assert.equal(unauthorized?.headers?.['www-authenticate'], 'Bearer realm="metamesh"');
  assert.equal(refusal({ ...ok, authorization: 'Bearer t0ken' }, true, loopbackWithToken), undefined);
  // Off loopback without a token: health answers, debug is refused with the way to enable it.
  assert.equal(refusal({ ...ok, host: '10.0.0.1:8080' }, false, network), undefined);
  const disabled = refusal({ ...ok, host: '10.0.0.1:8080' }, true, network);
  assert.equal(disabled?.status, 403);
  assert.match(disabled!.text, /--http-token-file/);
});
