/**
 * TLS credentials (the xDS server's, the webhook's), reloaded when their files change. Effects: reads files
 * (tls-read.ts), watches their directories, runs a timer; the watching and the timer run only
 * while a gRPC server holds the credentials (from its first listener to the removal of its last).
 *
 * Contract:
 * - open() reads and checks the files (tls-inspect.ts) and throws TlsRefusedError if they cannot
 *   be served: nothing has listened yet, and a server that would fail every handshake does not start.
 * - Afterwards the files are re-read when their directory reports a change (debounced; a
 *   directory is watched rather than the file, so rename-style replacements and Kubernetes'
 *   symlink swap of a mounted Secret are seen) and every `checkIntervalMs` as a safety net.
 * - New contents that pass every check are swapped in at once: connections accepted from then on
 *   handshake with them; connections already open keep theirs, with their streams. New contents
 *   that fail a check are not used: the credentials in use stay, and the failure is reported once
 *   per distinct content (not at every periodic check).
 * - The certificate in use is re-checked against the clock at every check: its coming expiry is
 *   reported once as a warning, its expiry once as an error.
 *
 * The swap goes through grpc-js's public certificate-provider interface
 * (grpc.experimental.createCertificateProviderServerCredentials): grpc-js applies each update with
 * the secure server's setSecureContext, which only affects handshakes that have not happened yet.
 * What is handed to it has passed the checks, since a context grpc-js failed to apply would make it
 * drop every new connection.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Diagnostic } from '../model/diagnostics.js';
import { realTimers, type Timers } from '../store/directory.js';
import { inspectTls, validityDiagnostics, type CertificateSummary, type TlsContents, type TlsFiles } from './tls-inspect.js';
import { readTls } from './tls-read.js';

type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

export interface TlsOptions extends TlsFiles {
  /** Warn when the certificate in use expires within this many ms; 0 turns the warning off. */
  readonly expiryWarningMs?: number | undefined;
  /** Period of the safety-net re-read. */
  readonly checkIntervalMs?: number | undefined;
  /** Quiet time after a file event before re-reading (a rotation often writes several files). */
  readonly debounceMs?: number | undefined;
  /** Watch the files' directories (default true); the periodic check runs either way. */
  readonly watch?: boolean | undefined;
}

/** Mesh certificates live 24 h and are rotated with 12 h (Istio) or 8 h (cert-manager) left. */
const DEFAULT_EXPIRY_WARNING_MS = 6 * 3600_000;
const DEFAULT_TLS_CHECK_INTERVAL_MS = 60_000;
const DEFAULT_DEBOUNCE_MS = 200;

export type TlsEvent =
  /** Credentials taken into use: at start (`initial`) or after a change of the files. */
  | { readonly kind: 'loaded'; readonly initial: boolean; readonly certificate: CertificateSummary; readonly files: TlsFiles }
  /** Changed files that cannot be served; the credentials in use stay. */
  | { readonly kind: 'rejected'; readonly diagnostics: readonly Diagnostic[]; readonly inUse: CertificateSummary }
  /** The certificate in use expires soon (warning) or has expired (error). */
  | { readonly kind: 'validity'; readonly diagnostic: Diagnostic }
  /** A directory could not be watched; changes there are seen by the periodic check only. */
  | { readonly kind: 'watch-failed'; readonly directory: string; readonly message: string };

export interface TlsWatchDeps {
  readonly report: (event: TlsEvent) => void;
  readonly timers?: Timers | undefined;
  /** Milliseconds since the epoch. */
  readonly now?: (() => number) | undefined;
}

/** The TLS files cannot be served: the server must not start. */
export class TlsRefusedError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map((d) => `${d.object}: ${d.message} (${d.code})`).join('\n'));
    this.name = 'TlsRefusedError';
  }
}

interface Loaded {
  readonly contents: TlsContents;
  readonly certificate: CertificateSummary;
}

export class CertificateWatcher implements grpc.experimental.CertificateProvider {
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly caListeners = new Set<CaListener>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly timers: Timers;
  private readonly now: () => number;
  private interval: unknown;
  private debounce: unknown;
  /** Identifies the last rejected contents (or read failure), so that it is reported once. */
  private lastRejected: string | undefined;
  /** `code fingerprint` of each validity finding already reported for the certificate in use. */
  private readonly validityReported = new Set<string>();
  private closed = false;

  /** Reads and checks the files; throws TlsRefusedError when they cannot be served. */
  static open(options: TlsOptions, deps: TlsWatchDeps): CertificateWatcher {
    const read = readTls(options);
    if (!read.ok) throw new TlsRefusedError(read.diagnostics);
    const inspection = inspectTls(options, read.contents, (deps.now ?? Date.now)(), options.expiryWarningMs ?? DEFAULT_EXPIRY_WARNING_MS);
    const errors = inspection.diagnostics.filter((d) => d.severity === 'error');
    // No certificate always comes with an error; the second test is for the type checker.
    if (errors.length > 0 || !inspection.certificate) throw new TlsRefusedError(errors);
    return new CertificateWatcher(options, deps, { contents: read.contents, certificate: inspection.certificate });
  }

  private constructor(
    private readonly options: TlsOptions,
    private readonly deps: TlsWatchDeps,
    private current: Loaded,
  ) {
    this.timers = deps.timers ?? realTimers;
    this.now = deps.now ?? Date.now;
    deps.report({ kind: 'loaded', initial: true, certificate: current.certificate, files: this.files() });
    this.checkValidity();
  }

  /** The certificate being served to new connections. */
  get certificate(): CertificateSummary {
    return this.current.certificate;
  }

  /** The certificate and key being served, for a server that is not grpc-js's (the webhook's). */
  currentIdentity(): { readonly cert: Buffer; readonly key: Buffer } {
    return { cert: this.current.contents.cert, key: this.current.contents.key };
  }

  /** Credentials that follow this watcher: mutual TLS when a CA file is configured, unless `mutual` is false (the MCP listener). */
  credentials(mutual = this.options.ca !== undefined): grpc.ServerCredentials {
    // The first argument is the identity provider: grpc-js 1.14 names its parameters the other way
    // round in the typings but passes the first one on as the identity (certificate and key).
    return grpc.experimental.createCertificateProviderServerCredentials(this, mutual ? this : null, mutual);
  }

  /**
   * Re-reads the files now: swaps in new contents that pass the checks, reports those that do not,
   * and re-checks the validity of the certificate in use. True when new credentials were swapped in.
   */
  check(): boolean {
    if (this.closed) return false;
    this.rearmWatchers();
    const swapped = this.reload();
    this.checkValidity();
    return swapped;
  }

  close(): void {
    this.closed = true;
    this.stopWatching();
    this.identityListeners.clear();
    this.caListeners.clear();
  }

  // grpc.experimental.CertificateProvider. grpc-js registers its own watcher only after adding
  // these listeners, so the current credentials are delivered on the next tick, never synchronously.

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    this.startWatching();
    process.nextTick(() => {
      if (this.identityListeners.has(listener)) listener(identityUpdate(this.current.contents));
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
    this.maybeStopWatching();
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    this.startWatching();
    process.nextTick(() => {
      if (this.caListeners.has(listener)) listener(caUpdate(this.current.contents));
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
    this.maybeStopWatching();
  }

  private reload(): boolean {
    const read = readTls(this.options);
    if (!read.ok) {
      this.reject(`unreadable ${read.diagnostics.map((d) => d.message).join('\n')}`, read.diagnostics);
      return false;
    }
    const next = read.contents;
    const old = this.current.contents;
    if (sameContents(next, old)) {
      this.lastRejected = undefined;
      return false;
    }
    const inspection = inspectTls(this.options, next, this.now(), this.options.expiryWarningMs ?? DEFAULT_EXPIRY_WARNING_MS);
    const errors = inspection.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0 || !inspection.certificate) {
      this.reject(`contents ${digest(next)}`, errors);
      return false;
    }
    this.lastRejected = undefined;
    this.validityReported.clear();
    this.current = { contents: next, certificate: inspection.certificate };
    // Both kinds of listener are called in this one synchronous run, so no handshake can see the
    // new certificate with the old CA or the other way round.
    if (!next.cert.equals(old.cert) || !next.key.equals(old.key)) for (const l of this.identityListeners) l(identityUpdate(next));
    if (!sameBuffer(next.ca, old.ca)) for (const l of this.caListeners) l(caUpdate(next));
    this.deps.report({ kind: 'loaded', initial: false, certificate: inspection.certificate, files: this.files() });
    return true;
  }

  private reject(key: string, diagnostics: readonly Diagnostic[]): void {
    if (this.lastRejected === key) return;
    this.lastRejected = key;
    this.deps.report({ kind: 'rejected', diagnostics, inUse: this.current.certificate });
  }

  private checkValidity(): void {
    const c = this.current.certificate;
    for (const d of validityDiagnostics(this.options.cert, c, this.now(), this.options.expiryWarningMs ?? DEFAULT_EXPIRY_WARNING_MS)) {
      const key = `${d.code} ${c.fingerprint256}`;
      if (this.validityReported.has(key)) continue;
      this.validityReported.add(key);
      this.deps.report({ kind: 'validity', diagnostic: d });
    }
  }

  private startWatching(): void {
    if (this.closed || this.interval !== undefined) return;
    this.interval = this.timers.setInterval(() => this.check(), this.options.checkIntervalMs ?? DEFAULT_TLS_CHECK_INTERVAL_MS);
    this.rearmWatchers();
  }

  private maybeStopWatching(): void {
    if (this.identityListeners.size === 0 && this.caListeners.size === 0) this.stopWatching();
  }

  private stopWatching(): void {
    if (this.interval !== undefined) this.timers.clearInterval(this.interval);
    this.interval = undefined;
    if (this.debounce !== undefined) this.timers.clearTimeout(this.debounce);
    this.debounce = undefined;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /** Watches each directory not watched yet (again after its watcher failed, e.g. it was re-created). */
  private rearmWatchers(): void {
    if (this.closed || this.interval === undefined || this.options.watch === false) return;
    for (const dir of new Set(Object.values(this.files()).map((f) => path.dirname(f)))) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => this.schedule());
        w.on('error', (e) => {
          w.close();
          this.watchers.delete(dir);
          this.deps.report({ kind: 'watch-failed', directory: dir, message: e.message });
        });
        this.watchers.set(dir, w);
      } catch (e) {
        this.deps.report({ kind: 'watch-failed', directory: dir, message: (e as Error).message });
      }
    }
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.debounce !== undefined) this.timers.clearTimeout(this.debounce);
    this.debounce = this.timers.setTimeout(() => {
      this.debounce = undefined;
      this.check();
    }, this.options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
  }

  private files(): TlsFiles {
    return this.options.ca !== undefined ? { cert: this.options.cert, key: this.options.key, ca: this.options.ca } : { cert: this.options.cert, key: this.options.key };
  }
}

function identityUpdate(c: TlsContents): grpc.experimental.IdentityCertificateUpdate {
  return { certificate: c.cert, privateKey: c.key };
}

function caUpdate(c: TlsContents): grpc.experimental.CaCertificateUpdate | null {
  return c.ca ? { caCertificate: c.ca } : null;
}

function sameBuffer(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}

function sameContents(a: TlsContents, b: TlsContents): boolean {
  return a.cert.equals(b.cert) && a.key.equals(b.key) && sameBuffer(a.ca, b.ca);
}

function digest(c: TlsContents): string {
  return createHash('sha256').update(c.cert).update('\0').update(c.key).update('\0').update(c.ca ?? '').digest('hex');
}
