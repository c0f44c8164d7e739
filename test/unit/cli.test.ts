/** `metamesh` through `main(argv, io)`: arguments, help, version and the generate document. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseArgs } from '../../src/cli/args.js';
import { main } from '../../src/cli/main.js';
import { runCli, tmpTree } from '../support/cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const examples = path.join(root, 'examples');

test('generate on the examples exits 0 and prints the five output keys', async () => {
  const r = await runCli('generate', '-f', examples);
  assert.equal(r.code, 0, r.err);
  const doc = parse(r.out) as Record<string, unknown[]>;
  assert.deepEqual(Object.keys(doc), ['serviceEntries', 'envoyFilters', 'virtualServices', 'routes', 'diagnostics']);
  assert.ok(doc.envoyFilters!.length > 0);
  assert.ok(doc.routes!.length > 0);
});

test('-o json and -o yaml print the same document', async () => {
  const y = await runCli('generate', '-f', examples);
  const j = await runCli('generate', '-o', 'json', '-f', examples);
  assert.deepEqual(JSON.parse(j.out), parse(y.out));
});

test('an invalid MetaRouter gives exit 1 and a diagnostic, not a crash', async () => {
  const dir = tmpTree({
    'bad.yaml': `apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: bad, namespace: ns}
spec:
  hosts: [a.b.svc.cluster.local]
  routes:
  - route:
    - {destination: {host: a.b.svc.cluster.local, subset: v1}, weight: 30}
    - {destination: {host: a.b.svc.cluster.local, subset: v2}, weight: 30}
`,
  });
  const r = await runCli('generate', '-o', 'json', '-f', path.join(dir, 'bad.yaml'));
  assert.equal(r.code, 1);
  const codes = (JSON.parse(r.out) as { diagnostics: { code: string }[] }).diagnostics.map((d) => d.code);
  assert.ok(codes.includes('MM_ROUTER_WEIGHTS'), codes.join());
  assert.ok(codes.includes('MM_ROUTER_NOT_APPLIED'), codes.join());
  assert.match(r.err, /does not take effect as written/);
});

test('validate prints one line per diagnostic and a summary', async () => {
  const dir = tmpTree({ 'broken.yaml': 'kind: [unclosed\n' });
  const r = await runCli('validate', '-f', path.join(dir, 'broken.yaml'));
  assert.equal(r.code, 1);
  assert.match(r.out, /^error\s+MM_INPUT_YAML_SYNTAX/m);
  assert.match(r.out, /1 file\(s\) checked: 1 error\(s\)/);
});

test('a missing file is a diagnostic with exit 1 for generate and validate', async () => {
  const r = await runCli('validate', '-f', path.join(root, 'no-such-dir'));
  assert.equal(r.code, 1);
  assert.match(r.out, /MM_INPUT_UNREADABLE .*no-such-dir does not exist/);
});

const usageCases: [string, string[], RegExp][] = [
  ['no command', [], /^metamesh: no command given$/],
  ['an unknown command', ['frobnicate', '-f', 'x'], /^metamesh: unknown command "frobnicate"/],
  ['generate without -f', ['generate'], /^metamesh generate: give at least one -f <file-or-dir> or --registry <url>$/],
  ['an -o value generate does not offer', ['generate', '-f', 'x', '-o', 'text'], /^metamesh generate: -o must be one of yaml, json, manifests, not "text"$/],
  ['an -o value validate does not offer', ['validate', '-f', 'x', '-o', 'manifests'], /^metamesh validate: -o must be one of text, json, not "manifests"$/],
  ['an unknown flag', ['generate', '--bogus', '-f', 'x'], /^metamesh generate: --bogus is not a flag of generate$/],
  ['a serve flag given to generate', ['generate', '-f', 'x', '--tls-cert', 'c.pem'], /^metamesh generate: --tls-cert is not a flag of generate \(it is a flag of serve\)$/],
  ['a validate flag given to generate', ['generate', '-f', 'x', '--strict'], /^metamesh generate: --strict is not a flag of generate \(it is a flag of validate\)$/],
  ['-o given to serve', ['serve', '-f', 'x', '-o', 'json'], /^metamesh serve: -o is not a flag of serve \(it is a flag of generate, validate, explain\)$/],
  ['a flag before the command', ['-f', 'x', 'generate'], /^metamesh: -f is a flag of generate, validate, serve, explain: give the command first$/],
  ['a flag without its value', ['validate', '-f'], /^metamesh validate: .*argument missing$/],
  ['a value given to --strict', ['validate', '-f', 'x', '--strict=yes'], /^metamesh validate: .*--strict.*$/],
  ['an extra argument', ['generate', '-f', 'x', 'y'], /^metamesh generate: unexpected argument "y"; name input files with -f$/],
  ['serve without -f', ['serve'], /^metamesh serve: give at least one -f <file-or-dir>, --registry <url> or --kubernetes$/],
  ['--mesh-config without --kubernetes', ['serve', '-f', 'x', '--mesh-config', 'istio-system/istio'], /^metamesh serve: --mesh-config needs --kubernetes or --kubeconfig$/],
  ['--kube-sync-timeout without --kubernetes', ['serve', '-f', 'x', '--kube-sync-timeout', '5s'], /^metamesh serve: --kube-sync-timeout needs --kubernetes or --kubeconfig$/],
  ['a --mesh-config that is not namespace/name', ['serve', '--kubernetes', '--mesh-config', 'istio'], /^metamesh serve: --mesh-config must be <namespace>\/<name> of a ConfigMap, or none, not "istio"$/],
  ['a --kube-sync-timeout that is not a duration', ['serve', '--kubernetes', '--kube-sync-timeout', 'soon'], /^metamesh serve: --kube-sync-timeout must be a duration up to 1h/],
  ['--kubernetes on generate', ['generate', '-f', 'x', '--kubernetes'], /^metamesh generate: --kubernetes is not a flag of generate \(it is a flag of serve\)$/],
  ['--tls-cert without --tls-key', ['serve', '-f', 'x', '--tls-cert', 'c.pem'], /^metamesh serve: --tls-cert and --tls-key go together$/],
  ['a bad --xds-address', ['serve', '-f', 'x', '--xds-address', 'localhost'], /^metamesh serve: --xds-address must be host:port, not "localhost"$/],
  ['a --rescan-interval that is not whole seconds', ['serve', '-f', 'x', '--rescan-interval', '1.5'], /^metamesh serve: --rescan-interval must be a whole number of seconds up to 2147483, not "1.5"$/],
  ['a --rescan-interval longer than a timer takes', ['serve', '-f', 'x', '--rescan-interval', '3000000'], /^metamesh serve: --rescan-interval must be a whole number of seconds up to 2147483, not "3000000"$/],
  ['a limit that is not a positive whole number', ['validate', '-f', 'x', '--max-documents', '0'], /^metamesh validate: --max-documents must be a positive whole number, not "0"$/],
  ['a --shutdown-grace that is not a duration', ['serve', '-f', 'x', '--shutdown-grace', '5'], /^metamesh serve: --shutdown-grace must be a duration from 1ms to 1h such as 5s or 500ms, not "5"$/],
  ['a --registry-removal-grace over a day', ['serve', '-f', 'x', '--registry-removal-grace', '25h'], /^metamesh serve: --registry-removal-grace must be a duration from 0s to 24h such as 30s or 5m, not "25h"$/],
  ['a zero --http-idle-timeout', ['serve', '-f', 'x', '--http-idle-timeout', '0s'], /^metamesh serve: --http-idle-timeout must be a duration from 1ms to 1h/],
  ['a --http-max-connections of 0', ['serve', '-f', 'x', '--http-max-connections', '0'], /^metamesh serve: --http-max-connections must be a whole number from 1 to 999999, not "0"$/],
  ['a --registry-removal-grace that is not a duration', ['serve', '-f', 'x', '--registry-removal-grace', '30'], /^metamesh serve: --registry-removal-grace must be a duration from 0s to 24h such as 30s or 5m, not "30"$/],
  ['a --registry-protection-hold over a day', ['serve', '-f', 'x', '--registry-protection-hold', '25h'], /^metamesh serve: --registry-protection-hold must be a duration from 0s to 24h/],
  ['a --registry-protection-threshold above 1', ['serve', '-f', 'x', '--registry-protection-threshold', '1.5'], /^metamesh serve: --registry-protection-threshold must be a fraction from 0 to 1 such as 0.5, not "1.5"$/],
  ['a --registry-protection-threshold in percent', ['serve', '-f', 'x', '--registry-protection-threshold', '50%'], /^metamesh serve: --registry-protection-threshold must be a fraction/],
  ['an outage-policy flag given to generate', ['generate', '-f', 'x', '--registry-removal-grace', '5s'], /^metamesh generate: --registry-removal-grace is not a flag of generate \(it is a flag of serve\)$/],
];

for (const [name, argv, reason] of usageCases) {
  test(`usage error, exit 2, one reason line and a --help hint: ${name}`, async () => {
    const r = await runCli(...argv);
    assert.equal(r.code, 2, r.err);
    assert.equal(r.out, '');
    const lines = r.err.split('\n');
    assert.equal(lines.length, 3, r.err); // reason, hint, and the empty string after the final newline
    assert.match(lines[0]!, reason);
    assert.match(lines[1]!, /^Run 'metamesh( [a-z]+)? --help' for usage\.$/);
    assert.equal(lines[2], '');
  });
}

test('the --help hint points to the help of the command that was used', async () => {
  assert.match((await runCli('validate', '--nope', '-f', 'x')).err, /Run 'metamesh validate --help' for usage\./);
  assert.match((await runCli('nope')).err, /Run 'metamesh --help' for usage\./);
});

test('--help lists the commands and the exit codes, and exits 0', async () => {
  for (const argv of [['--help'], ['-h'], ['help']]) {
    const r = await runCli(...argv);
    assert.equal(r.code, 0);
    assert.equal(r.err, '');
    assert.match(r.out, /^Usage: metamesh <command> \[flags\]/);
    for (const c of ['generate', 'validate', 'serve']) assert.match(r.out, new RegExp(`^  ${c} `, 'm'));
    assert.match(r.out, /Exit status: 0 = the rules take effect as written, 1 = an error or a rule that does not take\neffect, 2 = usage error/);
  }
});

test('<command> --help shows that command\'s own flags, defaults and exit codes, and no other command\'s', async () => {
  const generate = await runCli('generate', '--help');
  assert.equal(generate.code, 0);
  assert.match(generate.out, /^Usage: metamesh generate -f <file-or-dir> \[-f <file-or-dir> …\] \[--registry <url>\] \[--registry-namespace <namespace>\] \[--registry-namespace-rule <ns=field:value>\] \[-o yaml\|json\|manifests\] \[--max-file-bytes <n>\] \[--max-documents <n>\] \[--max-expanded-bytes <n>\] \[--max-depth <n>\]$/m);
  assert.match(generate.out, /^  --max-documents <n> +skip a file with more YAML documents, with MM_INPUT_TOO_MANY_DOCUMENTS \(default 10000\)$/m);
  assert.match(generate.out, /one of yaml, json, manifests \(default yaml\)/);
  assert.doesNotMatch(generate.out, /--tls-cert|--strict|--xds-address/);
  assert.match(generate.out, /^Exit status:\n  0  .*\n  1  .*\n  2  usage error.*\n  3  internal error/m);

  const validate = await runCli('validate', '-h');
  assert.match(validate.out, /^  --strict +also exit 1 on any warning$/m);
  assert.match(validate.out, /one of text, json \(default text\)/);
  assert.doesNotMatch(validate.out, /--tls-cert|json, manifests/);

  const serve = await runCli('help', 'serve');
  assert.match(serve.out, /--xds-address <host:port> .*\(default 127\.0\.0\.1:15010\)/);
  assert.match(serve.out, /--http-address <host:port> .*\(default 127\.0\.0\.1:8080\)/);
  assert.match(serve.out, /^  2  usage error, or an -f path that does not exist; nothing was started$/m);
  assert.doesNotMatch(serve.out, /--strict|-o, --output/);
});

test('--help wins over the other flags of the command, even wrong ones', async () => {
  const r = await runCli('generate', '--tls-cert', 'x', '--help');
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: metamesh generate /);
});

test('--version prints the version of package.json', async () => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const r = await runCli('--version');
  assert.equal(r.code, 0);
  assert.equal(r.out, `metamesh ${pkg.version}\n`);
});

test('serve --rescan-interval is given in seconds and reaches serve() in milliseconds; absent, the default applies', () => {
  const given = parseArgs(['serve', '-f', 'x', '--rescan-interval', '5']);
  assert.ok(given.kind === 'serve' && given.rescanIntervalMs === 5000);
  const off = parseArgs(['serve', '-f', 'x', '--rescan-interval', '0']);
  assert.ok(off.kind === 'serve' && off.rescanIntervalMs === 0);
  const absent = parseArgs(['serve', '-f', 'x']);
  assert.ok(absent.kind === 'serve' && absent.rescanIntervalMs === undefined);
});

test('an unexpected exception is one line on stderr and exit 3, never a stack trace', async () => {
  let err = '';
  const io = { out: () => { throw new TypeError('the output went away'); }, err: (s: string) => (err += s) };
  const code = await main(['validate', '-f', examples], io);
  assert.equal(code, 3);
  assert.equal(err, 'metamesh validate: internal error, please report: TypeError: the output went away\n');
});

test('serve: the HTTP and shutdown flags are parsed into milliseconds and counts; absent ones stay undefined', () => {
  const inv = parseArgs(['serve', '-f', 'x', '--http-token-file', 't', '--http-host', 'a.example', '--http-host', 'b.example', '--http-idle-timeout', '1m30s', '--http-max-connections', '64', '--shutdown-grace', '2500ms', '--registry-removal-grace', '2s']);
  assert.equal(inv.kind, 'serve');
  if (inv.kind !== 'serve') return;
  assert.deepEqual(
    { t: inv.httpTokenFile, h: inv.httpHostNames, i: inv.httpIdleTimeoutMs, m: inv.httpMaxConnections, g: inv.shutdownGraceMs, r: inv.catalog.removalGraceMs },
    { t: 't', h: ['a.example', 'b.example'], i: 90_000, m: 64, g: 2500, r: 2000 },
  );
  const bare = parseArgs(['serve', '-f', 'x']);
  assert.ok(bare.kind === 'serve' && bare.httpTokenFile === undefined && bare.shutdownGraceMs === undefined && bare.catalog.removalGraceMs === undefined && bare.httpHostNames.length === 0);
});

test('serve: the outage-policy flags are parsed into catalog options; absent ones are left to the defaults', () => {
  const inv = parseArgs(['serve', '--registry', 'zookeeper://127.0.0.1:2181', '--registry-removal-grace', '1m30s', '--registry-protection-threshold', '0.75', '--registry-protection-hold', '0s']);
  assert.ok(inv.kind === 'serve');
  if (inv.kind !== 'serve') return;
  assert.deepEqual(inv.catalog, { removalGraceMs: 90_000, protectionThreshold: 0.75, protectionHoldMs: 0 });
  const bare = parseArgs(['serve', '-f', 'x', '--registry-protection-threshold', '1']);
  assert.ok(bare.kind === 'serve');
  if (bare.kind !== 'serve') return;
  assert.deepEqual(bare.catalog, { protectionThreshold: 1 });
});

test('serve takes the input limits too, and they reach serve() (defaults for those not given)', () => {
  const inv = parseArgs(['serve', '-f', 'x', '--max-documents', '5', '--max-depth', '7']);
  assert.ok(inv.kind === 'serve');
  if (inv.kind !== 'serve') return;
  assert.equal(inv.limits.maxDocuments, 5);
  assert.equal(inv.limits.maxDepth, 7);
  assert.equal(inv.limits.maxFileBytes, 4 * 1024 * 1024);
});
