/**
 * `metamesh validate` as a CI gate: it fails (exit 1) whenever something written does not take
 * effect, with --strict on any warning, and says which in its summary line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DUBBO_SERVICE, metaRouter, runCli, tmpTree } from '../support/cli.js';

const codesOf = (out: string): string[] => (JSON.parse(out) as { code: string }[]).map((d) => d.code);

test('a clean service and rule pass, and the summary says the rules take effect', async () => {
  const dir = tmpTree({ 'a.yaml': `${DUBBO_SERVICE}---\n${metaRouter('demo.dubbo.example', 'v2')}` });
  const r = await runCli('validate', '-f', dir);
  assert.equal(r.code, 0, r.out);
  assert.equal(r.out, '1 file(s) checked: 0 error(s), 0 warning(s), 0 note(s); the rules take effect as written.\n');
});

test('a MetaRouter host typo (MM_ROUTER_NO_SERVICE, a warning) fails validate', async () => {
  const dir = tmpTree({ 'a.yaml': `${DUBBO_SERVICE}---\n${metaRouter('demo.dubbo.exampel', 'v2')}` });
  const r = await runCli('validate', '-f', dir);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /^warning MM_ROUTER_NO_SERVICE  MetaRouter dubbo\/demo: /m);
  assert.match(r.out, /0 error\(s\), 1 warning\(s\), 0 note\(s\); 1 of them mean something you wrote does not take effect as written\.\n$/);
});

test('a destination subset no DestinationRule defines (MM_ROUTER_UNKNOWN_SUBSET) fails validate', async () => {
  const dir = tmpTree({ 'a.yaml': `${DUBBO_SERVICE}---\n${metaRouter('demo.dubbo.example', 'v3')}` });
  const r = await runCli('validate', '-o', 'json', '-f', dir);
  assert.equal(r.code, 1);
  assert.deepEqual(codesOf(r.out), ['MM_ROUTER_UNKNOWN_SUBSET']);
});

test('a MetaRouter under metaprotocol.istio.io is MM_INPUT_WRONG_GROUP, an error naming the right group', async () => {
  const dir = tmpTree({ 'a.yaml': `${DUBBO_SERVICE}---\n${metaRouter('demo.dubbo.example', 'v2', 'metaprotocol.istio.io/v1alpha1')}` });
  const r = await runCli('validate', '-o', 'json', '-f', dir);
  assert.equal(r.code, 1);
  const list = JSON.parse(r.out) as { code: string; severity: string; message: string }[];
  assert.deepEqual(list.map((d) => [d.code, d.severity]), [['MM_INPUT_WRONG_GROUP', 'error']]);
  assert.match(list[0]!.message, /MetaRouter belongs to metaprotocol\.aeraki\.io, not metaprotocol\.istio\.io/);
});

test("another API's Gateway (gateway.networking.k8s.io) stays an ignorable MM_INPUT_UNKNOWN_KIND", async () => {
  const dir = tmpTree({
    'a.yaml': `${DUBBO_SERVICE}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: dubbo}\nspec: {gatewayClassName: istio, listeners: []}\n`,
  });
  const r = await runCli('validate', '-o', 'json', '-f', dir);
  assert.deepEqual(codesOf(r.out), ['MM_INPUT_UNKNOWN_KIND']);
  assert.equal(r.code, 0);
});

test('an empty file is MM_INPUT_EMPTY and fails validate', async () => {
  const dir = tmpTree({ 'empty.yaml': '# nothing yet\n---\n' });
  const r = await runCli('validate', '-o', 'json', '-f', path.join(dir, 'empty.yaml'));
  assert.equal(r.code, 1);
  assert.deepEqual(codesOf(r.out), ['MM_INPUT_EMPTY']);
});

test('a directory with no manifests is MM_INPUT_EMPTY and fails validate', async () => {
  const dir = tmpTree({ 'README.md': 'not a manifest\n' });
  const r = await runCli('validate', '-f', dir);
  assert.equal(r.code, 1);
  assert.match(r.out, /^error   MM_INPUT_EMPTY  /m);
  assert.match(r.out, /^0 file\(s\) checked: 1 error\(s\)/m);
  const bare = mkdtempSync(path.join(tmpdir(), 'metamesh-cli-'));
  assert.deepEqual(codesOf((await runCli('validate', '-o', 'json', '-f', bare)).out), ['MM_INPUT_EMPTY']);
});

test('a warning not marked "not in effect" passes, and fails with --strict', async () => {
  const dir = tmpTree({
    'a.yaml': `${DUBBO_SERVICE}---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n`,
  });
  const plain = await runCli('validate', '-f', dir);
  assert.equal(plain.code, 0, plain.out);
  assert.match(plain.out, /1 warning\(s\), 0 note\(s\); the rules take effect as written\.\n$/);
  const strict = await runCli('validate', '--strict', '-f', dir);
  assert.equal(strict.code, 1);
  assert.match(strict.out, /the rules take effect as written, but --strict fails on warnings\.\n$/);
});

test('validate -o json prints the diagnostics array only', async () => {
  const dir = tmpTree({ 'a.yaml': `${DUBBO_SERVICE}---\n${metaRouter('demo.dubbo.exampel', 'v2')}` });
  const r = await runCli('validate', '-o', 'json', '-f', dir);
  const list = JSON.parse(r.out) as unknown[];
  assert.ok(Array.isArray(list));
  assert.deepEqual(Object.keys(list[0] as object), ['code', 'severity', 'object', 'message']);
  assert.equal(r.err, '');
});

test('generate uses the same exit rule: a rule not in effect gives exit 1 and a note on stderr', async () => {
  const dir = tmpTree({ 'a.yaml': `${DUBBO_SERVICE}---\n${metaRouter('demo.dubbo.example', 'v3')}` });
  const r = await runCli('generate', '-o', 'json', '-f', dir);
  assert.equal(r.code, 1);
  assert.ok((JSON.parse(r.out) as { routes: unknown[] }).routes.length > 0, 'the output is still printed');
  assert.match(r.err, /^metamesh generate: 1 diagnostic\(s\) \(0 error\(s\)\) mean something you wrote does not take effect as written/);
});
