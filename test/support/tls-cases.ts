/**
 * An input for each MM_TLS_… code, for the code-coverage test: these codes come from effectful
 * code (the certificate watcher of `metamesh serve`), so no golden case can produce them.
 */
import type { Code } from '../../src/model/codes.js';
import type { Diagnostic } from '../../src/model/diagnostics.js';
import { inspectTls } from '../../src/xds/tls-inspect.js';
import { readTls } from '../../src/xds/tls-read.js';
import { HOUR, pkiContents } from './pki.js';

const FILES = { cert: 'server.crt', key: 'server.key', ca: 'ca.crt' };

function inspect(change: { cert?: Buffer; key?: Buffer; ca?: Buffer }, nowMs = Date.now(), warnWithinMs = 0): Diagnostic[] {
  const p = pkiContents();
  return inspectTls(FILES, { cert: p.server.cert, key: p.server.key, ca: p.ca, ...change }, nowMs, warnWithinMs).diagnostics;
}

export const TLS_EFFECT_CASES: Partial<Record<Code, () => readonly Diagnostic[]>> = {
  MM_TLS_UNREADABLE: () => {
    const r = readTls({ cert: '/no/such/server.crt', key: '/no/such/server.key' });
    return r.ok ? [] : r.diagnostics;
  },
  MM_TLS_NO_CERTIFICATE: () => inspect({ ca: Buffer.alloc(0) }),
  MM_TLS_BAD_PEM: () => inspect({ key: Buffer.from('-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n') }),
  MM_TLS_KEY_MISMATCH: () => inspect({ key: pkiContents().other.key }),
  MM_TLS_CERT_EXPIRED: () => inspect({}, Date.now() + 400 * 24 * HOUR),
  MM_TLS_CERT_NOT_YET_VALID: () => inspect({}, Date.now() - 400 * 24 * HOUR),
  MM_TLS_CERT_EXPIRING: () => inspect({}, Date.now(), 48 * HOUR),
};
