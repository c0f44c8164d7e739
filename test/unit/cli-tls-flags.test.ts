/** `serve --tls-expiry-warning` (a duration, passed on in milliseconds) and `--tls-client-trust-domain`. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from '../../src/cli/args.js';

const TLS = ['serve', '-f', 'x', '--tls-cert', 'c.pem', '--tls-key', 'k.pem'];

test('--tls-expiry-warning 1h30m reaches serve as 5,400,000 ms; without it, undefined (the default applies)', () => {
  const inv = parseArgs([...TLS, '--tls-expiry-warning', '1h30m']);
  assert.ok(inv.kind === 'serve');
  assert.deepEqual(inv.tls, { cert: 'c.pem', key: 'k.pem', ca: undefined, expiryWarningMs: 5_400_000, clientTrustDomains: [] });
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

test('--tls-client-trust-domain is repeatable, needs --tls-ca, and must be a trust domain', () => {
  const inv = parseArgs([...TLS, '--tls-ca', 'ca.pem', '--tls-client-trust-domain', 'west.local', '--tls-client-trust-domain', 'cluster.local', '--tls-client-trust-domain', 'west.local']);
  assert.ok(inv.kind === 'serve');
  assert.deepEqual(inv.tls?.clientTrustDomains, ['cluster.local', 'west.local']);
  const reason = (...argv: string[]) => {
    const r = parseArgs(argv);
    assert.ok(r.kind === 'usage', JSON.stringify(r));
    return r.reason;
  };
  assert.equal(reason(...TLS, '--tls-client-trust-domain', 'cluster.local'), '--tls-client-trust-domain needs --tls-ca: without client certificates there is no client identity to check');
  assert.equal(reason(...TLS, '--tls-ca', 'ca.pem', '--tls-client-trust-domain', 'spiffe://cluster.local'), '--tls-client-trust-domain must be a trust domain such as cluster.local, not "spiffe://cluster.local"');
});
