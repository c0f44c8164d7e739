/**
 * Whether the contents of the xDS server's TLS files can be served, judged before they are used:
 * at start-up (any error refuses to start) and at every reload (any error keeps the certificate in
 * use). Pure: file contents and the time in, diagnostics out; nothing is read here.
 *
 * The checks are the ones a TLS handshake would otherwise fail on, one client at a time and with
 * nothing in the server's log: a certificate outside its validity window, a key that is not the
 * certificate's, a CA file with no certificate (every client certificate would be refused).
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { diag, type Diagnostic } from '../model/diagnostics.js';

/** Paths of the server certificate (chain), its private key and, for mutual TLS, the client CA. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  /** CA bundle for client certificates: when set, clients must present a certificate it signed. */
  readonly ca?: string | undefined;
}

/** The bytes of each file, read together. */
export interface TlsContents {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer | undefined;
}

/** The server certificate in use, as logs and messages name it. */
export interface CertificateSummary {
  readonly subject: string;
  readonly serialNumber: string;
  readonly fingerprint256: string;
  /** ISO 8601. */
  readonly notBefore: string;
  readonly notAfter: string;
}

export interface Inspection {
  /** The server (leaf) certificate, when it parsed. */
  readonly certificate: CertificateSummary | undefined;
  /** Errors mean the contents must not be served; a warning (expiring soon) does not. */
  readonly diagnostics: Diagnostic[];
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Checks `contents` (read from `files`) at time `nowMs`. `warnWithinMs` is the expiry warning
 * window (0: no warning).
 */
export function inspectTls(files: TlsFiles, contents: TlsContents, nowMs: number, warnWithinMs: number): Inspection {
  const diagnostics: Diagnostic[] = [];
  const chain = certificates(files.cert, contents.cert, 'certificate file', diagnostics);
  const leaf = chain?.[0];
  const key = privateKey(files.key, contents.key, diagnostics);
  if (files.ca !== undefined) certificates(files.ca, contents.ca ?? Buffer.alloc(0), 'CA file (--tls-ca)', diagnostics);
  const certificate = leaf && summarize(leaf);
  if (leaf && !certificate) diagnostics.push(diag('MM_TLS_BAD_PEM', files.cert, `the validity dates of the certificate in ${files.cert} cannot be read (${leaf.validFrom} to ${leaf.validTo}).`));
  if (leaf && certificate) {
    diagnostics.push(...validityDiagnostics(files.cert, certificate, nowMs, warnWithinMs));
    if (key && !matches(leaf, key)) {
      diagnostics.push(
        diag('MM_TLS_KEY_MISMATCH', files.key, `${files.key} is not the private key of the certificate in ${files.cert} (${describeCertificate(certificate)}); give the key the certificate was issued for.`),
      );
    }
  }
  // What node:tls itself would refuse (an unsupported key type, say) is caught here rather than by
  // the gRPC server, which would drop every new connection after a failed swap.
  if (certificate && key && !diagnostics.some((d) => d.severity === 'error')) {
    try {
      createSecureContext({ cert: contents.cert, key: contents.key, ...(contents.ca ? { ca: contents.ca } : {}) });
    } catch (e) {
      diagnostics.push(diag('MM_TLS_BAD_PEM', files.cert, `node:tls refuses ${files.cert} with ${files.key}${files.ca ? ` and ${files.ca}` : ''}: ${(e as Error).message}.`));
    }
  }
  return { certificate, diagnostics };
}

/**
 * The certificate's validity at `nowMs`: an error outside its window, a warning when it ends
 * within `warnWithinMs`, nothing otherwise. Also run on the certificate in use, as time passes.
 */
export function validityDiagnostics(file: string, c: CertificateSummary, nowMs: number, warnWithinMs: number): Diagnostic[] {
  const from = Date.parse(c.notBefore);
  const to = Date.parse(c.notAfter);
  if (nowMs < from) {
    return [diag('MM_TLS_CERT_NOT_YET_VALID', file, `the certificate in ${file} (${describeCertificate(c)}) is not valid before ${c.notBefore}; clients would refuse it. Check the clock, or issue one valid now.`)];
  }
  if (nowMs >= to) {
    return [diag('MM_TLS_CERT_EXPIRED', file, `the certificate in ${file} (${describeCertificate(c)}) expired at ${c.notAfter}; clients refuse it. Renew it.`)];
  }
  if (to - nowMs <= warnWithinMs) {
    const hours = ((to - nowMs) / 3600_000).toFixed(1);
    return [diag('MM_TLS_CERT_EXPIRING', file, `the certificate in ${file} (${describeCertificate(c)}) expires at ${c.notAfter}, in ${hours} h; renew it before then (metamesh picks up the new files without a restart).`)];
  }
  return [];
}

export function describeCertificate(c: CertificateSummary): string {
  return `${c.subject.replace(/\n/g, ', ') || 'no subject'}, serial ${c.serialNumber}`;
}

/** Every PEM certificate of a file, or undefined (with a diagnostic) when there is none or one does not parse. */
function certificates(file: string, pem: Buffer, what: string, out: Diagnostic[]): X509Certificate[] | undefined {
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    const consequence = what.startsWith('CA') ? 'every client certificate would be refused' : 'there is nothing to serve';
    out.push(diag('MM_TLS_NO_CERTIFICATE', file, `the ${what} ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----), so ${consequence}.`));
    return undefined;
  }
  const parsed: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      parsed.push(new X509Certificate(block));
    } catch (e) {
      out.push(diag('MM_TLS_BAD_PEM', file, `certificate ${i + 1} of ${blocks.length} in the ${what} ${file} does not parse (${(e as Error).message}); the file may be truncated or corrupted.`));
      return undefined;
    }
  }
  return parsed;
}

function privateKey(file: string, pem: Buffer, out: Diagnostic[]): KeyObject | undefined {
  try {
    return createPrivateKey(pem);
  } catch (e) {
    out.push(diag('MM_TLS_BAD_PEM', file, `the private key file ${file} does not hold an unencrypted PEM private key (${(e as Error).message}).`));
    return undefined;
  }
}

function matches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}

function summarize(c: X509Certificate): CertificateSummary | undefined {
  const from = Date.parse(c.validFrom);
  const to = Date.parse(c.validTo);
  if (Number.isNaN(from) || Number.isNaN(to)) return undefined;
  return {
    subject: c.subject,
    serialNumber: c.serialNumber,
    fingerprint256: c.fingerprint256,
    notBefore: isoSeconds(from),
    notAfter: isoSeconds(to),
  };
}


/** Certificates carry whole seconds: `2026-11-30T19:22:41Z`. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
