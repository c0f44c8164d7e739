/**
 * `regex` attribute matches are checked with RE2's syntax, the syntax of the data plane and of the
 * CRD's validation. When re2js was adopted, every case below was also run through C++ RE2 (the
 * google-re2 Python binding) and Go's regexp with the same verdicts, except the last two refusals,
 * which are marked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { re2Problem } from '../../src/util/regex.js';
import { codesOf, DUBBO_HOST, DUBBO_SE, generate, routesOf, type Json } from '../support/generate.js';

const VALID: { name: string; pattern: string }[] = [
  { name: 'a case-insensitive flag (?i) is valid', pattern: '(?i)sayhello' },
  { name: 'a flag group (?i:…) is valid', pattern: 'say(?i:hello)' },
  { name: 'a Python-style named group (?P<name>…) is valid', pattern: '(?P<name>a)' },
  { name: 'a named group (?<name>…) is valid', pattern: '(?<name>a)' },
  { name: 'a POSIX class [[:alpha:]] is valid', pattern: '[[:alpha:]]+' },
  { name: 'a one-letter Unicode class \\pL is valid', pattern: '\\pL+' },
  { name: 'a Unicode script \\p{Greek} is valid', pattern: '\\p{Greek}' },
  { name: 'the end-of-text anchor \\z is valid', pattern: 'hello\\z' },
  { name: 'quoted text \\Q…\\E is valid', pattern: '\\Qa.b*c\\E' },
  { name: 'a repeat count of exactly 1000 is valid', pattern: 'a{1000}' },
  { name: 'an ordinary anchored alternation is valid', pattern: '^say(Hello|Hi)$' },
  { name: 'x{,3} is a literal in RE2, so it is valid', pattern: 'x{,3}' },
];

const INVALID: { name: string; pattern: string; error: RegExp }[] = [
  { name: 'a repeat count above 1000 is invalid', pattern: 'a{1001}', error: /invalid repeat count/ },
  { name: 'a repeat range ending above 1000 is invalid', pattern: 'a{2,1001}', error: /invalid repeat count/ },
  { name: 'nested repeats whose product exceeds 1000 are invalid', pattern: '(a{2}){600}', error: /invalid repeat count/ },
  { name: 'a look-ahead is invalid', pattern: 'say(?=Hello)', error: /invalid or unsupported Perl syntax/ },
  { name: 'a negative look-ahead is invalid', pattern: 'say(?!Hello)', error: /invalid or unsupported Perl syntax/ },
  { name: 'a look-behind is invalid', pattern: '(?<=say)Hello', error: /invalid named capture/ },
  { name: 'a negative look-behind is invalid', pattern: '(?<!say)Hello', error: /invalid named capture/ },
  { name: 'a numbered back-reference is invalid', pattern: '(a)\\1', error: /invalid escape sequence/ },
  { name: 'a named back-reference is invalid', pattern: '(?P<x>a)\\k<x>', error: /invalid escape sequence/ },
  { name: 'an atomic group is invalid', pattern: '(?>a)', error: /invalid or unsupported Perl syntax/ },
  { name: 'a possessive repeat is invalid', pattern: 'a++', error: /invalid nested repetition operator/ },
  { name: 'an unclosed group is invalid', pattern: 'say(', error: /missing closing \)/ },
  { name: 'a lone star is invalid (only the whole value "*" means presence)', pattern: '*', error: /missing argument to repetition operator/ },
  { name: 'the \\Z anchor is invalid', pattern: 'a\\Z', error: /invalid escape sequence/ },
  { name: 'an unknown Unicode class is invalid', pattern: '\\p{Foo}', error: /invalid character class range/ },
  { name: '\\C is refused (C++ RE2 accepts it; Go, and so the CRD, refuses it)', pattern: '\\C', error: /invalid escape sequence/ },
  { name: 'a group name used twice is refused (C++ RE2 and Go accept it)', pattern: '(?P<n>a)(?P<n>b)', error: /duplicate capture group name/ },
];

describe('RE2 syntax of regex attribute matches', () => {
  for (const c of VALID) {
    it(c.name, () => assert.equal(re2Problem(c.pattern), undefined));
  }
  for (const c of INVALID) {
    it(c.name, () => assert.match(re2Problem(c.pattern) ?? 'accepted', c.error));
  }
});

const router = (regex: string) => `
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: demoservice, namespace: meta-dubbo}
spec:
  hosts: [${DUBBO_HOST}]
  routes:
  - name: by-regex
    match:
      attributes:
        method: {regex: '${regex}'}
    route:
    - destination: {host: ${DUBBO_HOST}}
`;

describe('MetaRouters with RE2 regexes in the pipeline', () => {
  it('a MetaRouter with an RE2-only regex such as (?i)sayhello is applied, with the regex in the route', () => {
    const out = generate(DUBBO_SE, router('(?i)sayhello'));
    assert.deepEqual(codesOf(out), []);
    const match = routesOf(out, `${DUBBO_HOST}_20880`)[0]!.match as Json;
    assert.deepEqual(match.headers, [{ name: 'method', safeRegexMatch: { googleRe2: {}, regex: '(?i)sayhello' } }]);
  });

  it('a MetaRouter with a repeat count over 1000 is not applied, and the message quotes RE2', () => {
    const out = generate(DUBBO_SE, router('a{1001}'));
    assert.deepEqual(codesOf(out), ['MM_ROUTER_MATCH', 'MM_ROUTER_NOT_APPLIED']);
    const d = out.diagnostics.find((x) => x.code === 'MM_ROUTER_MATCH')!;
    assert.equal(
      d.message,
      'spec.routes[0] (by-regex).match.attributes.method.regex "a{1001}" is not valid RE2, which the data plane uses (error parsing regexp: invalid repeat count: `{1001}`).',
    );
    assert.deepEqual(routesOf(out, `${DUBBO_HOST}_20880`).map((r) => r.name), ['default']);
  });
});
