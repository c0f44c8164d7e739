/** The small shared checks behind the Istio validators: IPs, Istio's host rules, labels, exportTo. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCidr, isIpAddress } from '../../src/util/ip.js';
import { istioFqdnProblem, istioWildcardDomainProblem } from '../../src/util/hosts.js';
import { labelProblems, selectorProblems } from '../../src/validate/labels.js';
import { exportToProblems } from '../../src/validate/export-to.js';

const table = <T>(name: string, cases: [T, boolean][], check: (x: T) => boolean) => {
  for (const [x, want] of cases) test(`${name} ${JSON.stringify(x)} → ${want}`, () => assert.equal(check(x), want));
};

table('an IP address:', [
  ['10.0.0.1', true], ['255.255.255.255', true], ['0.0.0.0', true], ['256.0.0.1', false], ['010.0.0.1', false],
  ['1.2.3', false], ['1.2.3.4.5', false], ['::', true], ['::1', true], ['2001:db8::1', true], ['001:db8::', true],
  ['1:2:3:4:5:6:7:8', true], ['1:2:3:4:5:6:7:8:9', false], ['1:2:3:4:5:6:7::', true], ['1::2::3', false],
  ['::ffff:10.0.0.1', true], ['fe80::1%eth0', true], ['fe80::1%', false], ['12345::', false], ['demo.example.com', false], ['', false],
], isIpAddress);

table('a CIDR block:', [
  ['10.0.0.0/8', true], ['1.2.3.4/16', true], ['1.2.3.4/32', true], ['1.2.3.4/33', false], ['1.2.3.4/99', false],
  ['2001:db8::/64', true], ['2001:db8::/129', false], ['10.0.0.0/', false], ['10.0.0.0/08', false], ['10.0.0.0', false], ['a/8', false],
], isCidr);

table('a host Istio accepts as a wildcard domain:', [
  ['example.com', true], ['foo', true], ['*', true], ['*.example.com', true], ['*x', true], ['*-x.example.com', true],
  ['Example.COM', true], ['istio.io.', true], ['a.*.com', false], ['**.com', false], ['1.2.3.4', false], ['a..b', false],
  ['-a.com', false], ['', false], [`${'a'.repeat(64)}.com`, false], [`${'a.'.repeat(128)}com`, false],
], (h) => istioWildcardDomainProblem(h) === undefined);

table('a host Istio accepts as an FQDN:', [
  ['example.com', true], ['foo', true], ['*.example.com', false], ['*', false], ['10.0.0.1', false],
], (h) => istioFqdnProblem(h) === undefined);

table<Record<string, string>>('labels Istio accepts:', [
  [{ version: 'v1' }, true], [{ 'app.kubernetes.io/name': 'demo' }, true], [{ version: '' }, true], [{ 'a_b.c-d': 'X.y_z-1' }, true],
  [{ version: 'v 1' }, false], [{ version: '-v1' }, false], [{ '': 'v1' }, false], [{ 'a/b/c': 'v1' }, false], [{ '-bad.prefix/name': 'v' }, false],
  [{ [`${'k'.repeat(64)}`]: 'v' }, false],
], (l) => labelProblems(l).length === 0);

table<Record<string, string>>('a workload selector Istio accepts:', [
  [{ app: 'demo' }, true], [{ app: '' }, true], [{ app: '*' }, false], [{ '*': 'demo' }, false], [{ '': 'demo' }, false], [{ app: 'x'.repeat(64) }, false],
], (l) => selectorProblems(l).length === 0);

test('exportTo: "." and the own namespace are the same entry', () => {
  assert.equal(exportToProblems(['.', 'ns'], 'ns', false).length, 1);
  assert.deepEqual(exportToProblems(['.', 'other'], 'ns', false), []);
});

test('exportTo: "~" only for ServiceEntries, and alone', () => {
  assert.deepEqual(exportToProblems(['~'], 'ns', true), []);
  assert.equal(exportToProblems(['~'], 'ns', false).length, 1);
  assert.equal(exportToProblems(['~', 'a'], 'ns', true).length, 1);
});

test('exportTo: "*" alone, no duplicates, namespace names only', () => {
  assert.deepEqual(exportToProblems(['*'], 'ns', false), []);
  assert.equal(exportToProblems(['*', 'a'], 'ns', false).length, 1);
  assert.equal(exportToProblems(['a', 'a'], 'ns', false).length, 1);
  assert.equal(exportToProblems(['a_b'], 'ns', false).length, 1);
});
