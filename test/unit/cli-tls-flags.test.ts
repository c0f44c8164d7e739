/** `serve --tls-expiry-warning`: a duration, given with the TLS files, passed on in milliseconds. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from '../../src/cli/args.js';

const TLS = ['serve', '-f', 'x', '--tls-cert', 'c.pem', '--tls-key', 'k.pem'];

test('--tls-expiry-warning 1h30m reaches serve as 5,400,000 ms; without it, undefined (the default applies)', () => {
  const inv = parseArgs([...TLS, '--tls-expiry-warning', '1h30m']);
  assert.ok(inv.kind === 'serve');
  assert.deepEqual(inv.tls, { cert: 'c.pem', key: 'k.pem', ca: undefined, expiryWarningMs: 5_400_000 });
  const plain = parseArgs(TLS);
  assert.ok(plain.kind === 'serve' && plain.tls?.expiryWarningMs === undefined);
});

test('--tls-expiry-warning 0s turns the warning off (0 ms)', () => {
  const inv = parseArgs([...TLS, '--tls-expiry-warning', '0s']);
  assert.ok(inv.kind === 'serve' && inv.tls?.expiryWarningMs === 0);
});

test('--tls-expiry-warning is a usage error without the TLS files or with something not a duration', () => {
  assert.deepEqual(parseArgs(['serve', '-f', 'x', '--tls-expiry-warning', '6h']), {
    kind: 'usage',
    reason: '--tls-expiry-warning needs --tls-cert and --tls-key',
    command: 'serve',
  });
  const bad = parseArgs([...TLS, '--tls-expiry-warning', '6']);
  assert.ok(bad.kind === 'usage');
  assert.equal(bad.reason, '--tls-expiry-warning must be a duration such as 6h, 90m or 0s, not "6"');
});
