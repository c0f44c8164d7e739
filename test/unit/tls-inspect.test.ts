/**
 * inspectTls: which TLS file contents `metamesh serve` accepts, and the finding (code, file named)
 * for each it does not. Certificates come from openssl at test time; time is passed in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspectTls, type TlsContents } from '../../src/xds/tls-inspect.js';
import { HOUR, pkiContents } from '../support/pki.js';

const FILES = { cert: '/etc/metamesh/tls.crt', key: '/etc/metamesh/tls.key', ca: '/etc/metamesh/ca.crt' };
const now = Date.now();

function contents(change: Partial<TlsContents> = {}): TlsContents {
  const p = pkiContents();
  return { cert: p.server.cert, key: p.server.key, ca: p.ca, ...change };
}

test('a certificate, its key and a CA bundle pass, and the certificate is described', () => {
  const r = inspectTls(FILES, contents(), now, 0);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.certificate?.serialNumber, pkiContents().server.serial);
  assert.equal(r.certificate?.subject, 'CN=server');
  assert.match(r.certificate!.notAfter, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('a chain (the server certificate, then an intermediate) is checked by its first certificate', () => {
  const p = pkiContents();
  const r = inspectTls(FILES, contents({ cert: Buffer.concat([p.server.cert, p.ca]) }), now, 0);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.certificate?.serialNumber, p.server.serial);
});

test('without --tls-ca no CA is looked at', () => {
  const r = inspectTls({ cert: FILES.cert, key: FILES.key }, { cert: pkiContents().server.cert, key: pkiContents().server.key }, now, 0);
  assert.deepEqual(r.diagnostics, []);
});

const REFUSED: Array<[string, Partial<TlsContents>, number, string, string, RegExp]> = [
  ['an expired certificate', {}, now + 400 * 24 * HOUR, 'MM_TLS_CERT_EXPIRED', FILES.cert, /\(CN=server, serial \w+\) expired at \d{4}-/],
  ['a certificate not valid yet', {}, now - 400 * 24 * HOUR, 'MM_TLS_CERT_NOT_YET_VALID', FILES.cert, /is not valid before \d{4}-/],
  ['the key of another certificate', { key: pkiContents().other.key }, now, 'MM_TLS_KEY_MISMATCH', FILES.key, /^\/etc\/metamesh\/tls\.key is not the private key of the certificate in \/etc\/metamesh\/tls\.crt/],
  ['an empty CA file', { ca: Buffer.alloc(0) }, now, 'MM_TLS_NO_CERTIFICATE', FILES.ca, /CA file \(--tls-ca\) \/etc\/metamesh\/ca\.crt holds no PEM certificate.*every client certificate would be refused/],
  ['a CA file holding a key, not a certificate', { ca: pkiContents().other.key }, now, 'MM_TLS_NO_CERTIFICATE', FILES.ca, /holds no PEM certificate/],
  ['a certificate file holding only a key', { cert: pkiContents().server.key }, now, 'MM_TLS_NO_CERTIFICATE', FILES.cert, /certificate file \/etc\/metamesh\/tls\.crt holds no PEM certificate/],
  ['a truncated certificate', { cert: truncated(pkiContents().server.cert) }, now, 'MM_TLS_BAD_PEM', FILES.cert, /certificate 1 of 1 in the certificate file \/etc\/metamesh\/tls\.crt does not parse/],
  ['a corrupted CA certificate', { ca: truncated(pkiContents().ca) }, now, 'MM_TLS_BAD_PEM', FILES.ca, /in the CA file \(--tls-ca\) \/etc\/metamesh\/ca\.crt does not parse/],
  ['a key file that is not a key', { key: Buffer.from('not a key\n') }, now, 'MM_TLS_BAD_PEM', FILES.key, /private key file \/etc\/metamesh\/tls\.key does not hold an unencrypted PEM private key/],
];

for (const [name, change, at, code, file, message] of REFUSED) {
  test(`${name} is refused with ${code}, naming ${file}`, () => {
    const errors = inspectTls(FILES, contents(change), at, 0).diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(errors.map((d) => [d.code, d.object]), [[code, file]]);
    assert.match(errors[0]!.message, message);
  });
}

test('a certificate expiring within the warning window passes with a warning; outside it, or with window 0, without', () => {
  const within = inspectTls(FILES, contents(), now, 48 * HOUR).diagnostics;
  assert.deepEqual(within.map((d) => [d.code, d.severity, d.object]), [['MM_TLS_CERT_EXPIRING', 'warning', FILES.cert]]);
  assert.match(within[0]!.message, /expires at \d{4}-\S+, in 2\d\.\d h; renew it/);
  assert.deepEqual(inspectTls(FILES, contents(), now, HOUR).diagnostics, []);
  assert.deepEqual(inspectTls(FILES, contents(), now + 23.5 * HOUR, 0).diagnostics, []);
});

test('several findings are reported together', () => {
  const d = inspectTls(FILES, contents({ key: pkiContents().other.key, ca: Buffer.alloc(0) }), now + 400 * 24 * HOUR, 0).diagnostics;
  assert.deepEqual(d.map((x) => x.code).sort(), ['MM_TLS_CERT_EXPIRED', 'MM_TLS_KEY_MISMATCH', 'MM_TLS_NO_CERTIFICATE']);
});

/** The PEM with its base64 body cut in half, the END line kept. */
function truncated(pem: Buffer): Buffer {
  const text = pem.toString();
  const lines = text.split('\n');
  return Buffer.from([...lines.slice(0, Math.floor(lines.length / 2)), '-----END CERTIFICATE-----', ''].join('\n'));
}
