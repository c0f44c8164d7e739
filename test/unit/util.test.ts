import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, toProtoDuration } from '../../src/util/duration.js';
import { isValidHost, resolveHost } from '../../src/util/hosts.js';
import { allocateVips } from '../../src/serviceentry/vip.js';
import { objectName } from '../../src/envoyfilter/names.js';
import { inIpv4Block, intToIpv4, ipv4ToInt, parseIpv4Cidr } from '../../src/util/ip.js';
import { canonicalJson, sameJson } from '../../src/util/canonical.js';
import { mulberry32 } from '../support/random.js';

test('durations in Go style parse to seconds', () => {
  assert.equal(parseDuration('1s'), 1);
  assert.equal(parseDuration('500ms'), 0.5);
  assert.equal(parseDuration('1m30s'), 90);
  assert.equal(parseDuration('2h'), 7200);
  assert.equal(parseDuration('1.5s'), 1.5);
  assert.equal(parseDuration('10'), undefined);
  assert.equal(parseDuration('1 s'), undefined);
  assert.equal(parseDuration(''), undefined);
});

test('durations print in proto3 JSON form', () => {
  assert.equal(toProtoDuration(60), '60s');
  assert.equal(toProtoDuration(0.5), '0.500s');
  assert.equal(toProtoDuration(0.000001), '0.000001s');
  assert.equal(toProtoDuration(1e-9), '0.000000001s');
});

test('short host names resolve relative to the namespace; others stay as written, lowercased', () => {
  assert.equal(resolveHost('reviews', 'bookinfo', 'cluster.local'), 'reviews.bookinfo.svc.cluster.local');
  assert.equal(resolveHost('Reviews.Bookinfo', 'x', 'cluster.local'), 'reviews.bookinfo');
  assert.equal(resolveHost('a', 'ns', 'corp.example'), 'a.ns.svc.corp.example');
});

test('host validity follows DNS rules', () => {
  assert.ok(isValidHost('org.apache.dubbo.samples.basic.api.demoservice'));
  assert.ok(!isValidHost('*.example.com'));
  assert.ok(!isValidHost('10.0.0.1'));
  assert.ok(!isValidHost('a..b'));
  assert.ok(!isValidHost(`${'a'.repeat(64)}.com`));
});

test('virtual IPs are stable, unique, skip used addresses and do not depend on order', () => {
  const keys = Array.from({ length: 300 }, (_, i) => `ServiceEntry ns/svc-${i}`);
  const a = allocateVips(keys, new Set(['240.240.0.1']), '240.240.0.0/16');
  const b = allocateVips([...keys].reverse(), new Set(['240.240.0.1']), '240.240.0.0/16');
  assert.deepEqual([...a.assigned].sort(), [...b.assigned].sort());
  const ips = [...a.assigned.values()];
  assert.equal(new Set(ips).size, ips.length);
  assert.ok(!ips.includes('240.240.0.1'));
  assert.ok(ips.every((ip) => ip.startsWith('240.240.') && !ip.endsWith('.0') && !ip.endsWith('.255')));
});

test('a full address block reports the services left without an address', () => {
  const r = allocateVips(['a', 'b', 'c', 'd'], new Set(), '10.0.0.0/30'); // .0-.3: .0 skipped
  assert.equal(r.assigned.size, 3);
  assert.equal(r.exhausted.length, 1);
});

test('object names are DNS subdomains, hashed when too long', () => {
  assert.equal(objectName('metamesh-outbound', 'A.b.c', 20880), 'metamesh-outbound-a.b.c-20880');
  const long = objectName('metamesh-outbound', 'x'.repeat(300), 1);
  assert.ok(long.length <= 253);
  assert.match(long, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
  assert.notEqual(long, objectName('metamesh-outbound', 'x'.repeat(300), 2));
});

describe('IPv4 arithmetic (src/util/ip.ts)', () => {
  it('converts addresses to integers and back, refusing what Istio would not parse', () => {
    assert.equal(ipv4ToInt('240.240.0.1'), 240 * 2 ** 24 + 240 * 2 ** 16 + 1);
    assert.equal(intToIpv4(ipv4ToInt('10.1.2.3')!), '10.1.2.3');
    assert.equal(ipv4ToInt('10.01.2.3'), undefined, 'leading zeros are refused, as by Go netip');
    assert.equal(ipv4ToInt('256.1.1.1'), undefined);
    assert.equal(ipv4ToInt('fe80::1'), undefined);
  });

  it('parses IPv4 blocks and tells membership', () => {
    const block = parseIpv4Cidr('240.240.0.0/16')!;
    assert.deepEqual(block, { base: ipv4ToInt('240.240.0.0'), bits: 16, size: 65536 });
    assert.equal(inIpv4Block('240.240.255.255', block), true);
    assert.equal(inIpv4Block('240.241.0.0', block), false);
    assert.equal(inIpv4Block('not-an-ip', block), false);
    assert.equal(parseIpv4Cidr('240.240.0.0/33'), undefined);
    assert.equal(parseIpv4Cidr('fe80::/64'), undefined, 'an IPv6 block is not an IPv4 block');
    assert.equal(parseIpv4Cidr('240.240.0.0'), undefined);
  });
});

test('sameJson agrees with comparing canonical JSON, over random values and their near copies', () => {
  const rnd = mulberry32(42);
  const leaf = (): unknown => [0, -0, 1, 1.5, NaN, Infinity, null, undefined, '', 'a', '1', true, false][Math.floor(rnd() * 13)];
  const value = (depth: number): unknown => {
    const r = rnd();
    if (depth > 3 || r < 0.4) return leaf();
    if (r < 0.7) return Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (const k of ['a', 'b', 'c']) if (rnd() < 0.6) o[k] = value(depth + 1);
    return o;
  };
  /** A copy with keys reordered and, sometimes, one thing changed. */
  const variant = (v: unknown): unknown => {
    if (rnd() < 0.05) return value(3);
    if (Array.isArray(v)) return v.map(variant);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, variant(x)]));
    return v;
  };
  let equal = 0;
  for (let i = 0; i < 3000; i++) {
    const a = value(0);
    const b = rnd() < 0.5 ? variant(a) : value(0);
    const same = canonicalJson(a) === canonicalJson(b);
    if (same) equal++;
    assert.equal(sameJson(a, b), same, `${canonicalJson(a)} vs ${canonicalJson(b)}`);
  }
  assert.ok(equal > 500 && equal < 2900, `${equal} equal pairs`);
});
