/**
 * The certificate watcher's log: one pino line per TlsEvent. Credentials taken into use at info
 * (with the serial and fingerprint that clients will see), changed files that are not used at error
 * (one line per finding, naming the file; the certificate that stays in use is named too), the
 * validity of the certificate in use at its diagnostic's severity, a directory that cannot be
 * watched at warn.
 */
import type { Logger } from 'pino';
import { describeCertificate } from './tls-inspect.js';
import type { TlsEvent } from './tls-watch.js';

/** `server` names whose certificate it is (xDS, webhook), in every line. */
export function logTlsEvent(log: Logger, e: TlsEvent, server = 'xDS'): void {
  switch (e.kind) {
    case 'loaded': {
      const c = e.certificate;
      const fields = { event: e.initial ? 'tls-loaded' : 'tls-reloaded', server, ...e.files, subject: c.subject, serial: c.serialNumber, fingerprint256: c.fingerprint256, notAfter: c.notAfter };
      log.info(fields, e.initial ? `${server} TLS certificate: ${describeCertificate(c)}, valid until ${c.notAfter}` : `${server} TLS files changed: new connections get ${describeCertificate(c)}, valid until ${c.notAfter}`);
      return;
    }
    case 'rejected':
      for (const d of e.diagnostics) {
        log.error({ event: 'tls-rejected', server, code: d.code, object: d.object, inUse: e.inUse.serialNumber }, `${d.message} The changed TLS files are not used; new connections still get ${describeCertificate(e.inUse)}.`);
      }
      return;
    case 'validity': {
      const d = e.diagnostic;
      const fields = { event: 'tls-validity', server, code: d.code, object: d.object };
      if (d.severity === 'error') log.error(fields, d.message);
      else log.warn(fields, d.message);
      return;
    }
    case 'watch-failed':
      log.warn({ event: 'tls-watch-failed', directory: e.directory, err: e.message }, `cannot watch ${e.directory} for certificate changes (${e.message}); they are picked up by the periodic check only`);
      return;
  }
}
