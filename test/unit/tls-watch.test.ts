/**
 * CertificateWatcher: refusal at open, reload on check (the periodic one driven by fake timers),
 * broken rotations kept out and reported once, validity of the certificate in use as time passes,
 * and the contract with grpc-js's certificate-provider interface. One test uses real file events,
 * waited for with a deadline.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import type { Timers } from '../../src/store/directory.js';
import { CertificateWatcher, TlsRefusedError, type TlsEvent, type TlsOptions } from '../../src/xds/tls-watch.js';
import { HOUR, TestPki, type Leaf } from '../support/pki.js';
import { until } from '../support/xds.js';

let pki: TestPki;
let first: Leaf;
let second: Leaf;
let expired: Leaf;

before(() => {
  pki = new TestPki();
  first = pki.leaf('first');
  second = pki.leaf('second');
  expired = pki.leaf('expired', { notBefore: new Date(Date.now() - 48 * HOUR), notAfter: new Date(Date.now() - 24 * HOUR) });
});
after(() => pki.remove());

let dirCount = 0;

/** Fresh served files holding `leaf` (and the CA), named apart from every other test's. */
function served(leaf: Leaf): TlsOptions {
  const prefix = pki.path(`served-${++dirCount}`);
  const files = { cert: `${prefix}-tls.crt`, key: `${prefix}-tls.key`, ca: `${prefix}-ca.crt` };
  install(files, leaf);
  copyFileSync(pki.ca, files.ca);
  return { ...files, watch: false, expiryWarningMs: 0 };
}

/** Replaces the served certificate and key the way rotations do: write aside, then rename over. */
function install(files: { cert: string; key: string }, leaf: { cert: string; key: string }): void {
  copyFileSync(leaf.cert, `${files.cert}.new`);
  copyFileSync(leaf.key, `${files.key}.new`);
  renameSync(`${files.cert}.new`, files.cert);
  renameSync(`${files.key}.new`, files.key);
}

class FakeTimers implements Timers {
  readonly intervals = new Map<number, () => void>();
  readonly timeouts = new Map<number, () => void>();
  private next = 1;
  setTimeout(fn: () => void): unknown {
    this.timeouts.set(this.next, fn);
    return this.next++;
  }
  clearTimeout(h: unknown): void {
    this.timeouts.delete(h as number);
  }
  setInterval(fn: () => void): unknown {
    this.intervals.set(this.next, fn);
    return this.next++;
  }
  clearInterval(h: unknown): void {
    this.intervals.delete(h as number);
  }
  tick(): void {
    for (const fn of [...this.intervals.values()]) fn();
  }
}

function open(options: TlsOptions, extra: { timers?: Timers; now?: () => number } = {}) {
  const events: TlsEvent[] = [];
  const watcher = CertificateWatcher.open(options, { report: (e) => events.push(e), timers: extra.timers ?? new FakeTimers(), now: extra.now });
  return { watcher, events };
}

/** Registers as grpc-js does and records the identity updates (certificate serials by PEM). */
function listen(watcher: CertificateWatcher) {
  const certs: Buffer[] = [];
  const listener: grpc.experimental.IdentityCertificateUpdateListener = (u) => void certs.push(u!.certificate);
  watcher.addIdentityCertificateListener(listener);
  return { certs, stop: () => watcher.removeIdentityCertificateListener(listener) };
}

const codes = (e: unknown) => (e instanceof TlsRefusedError ? e.diagnostics.map((d) => `${d.code} ${d.object}`) : []);

test('open refuses an expired certificate, a key that is not its key and a CA file without certificates, naming each file', () => {
  const files = served(expired);
  copyFileSync(first.key, files.key);
  writeFileSync(files.ca!, '');
  assert.throws(
    () => open(files),
    (e: unknown) => {
      assert.deepEqual(codes(e).sort(), [`MM_TLS_CERT_EXPIRED ${files.cert}`, `MM_TLS_KEY_MISMATCH ${files.key}`, `MM_TLS_NO_CERTIFICATE ${files.ca}`]);
      return true;
    },
  );
});

test('open refuses files that cannot be read, and never opens a FIFO or a directory', { timeout: 10_000 }, () => {
  const files = { ...served(first), key: pki.path('no-such.key') };
  assert.throws(() => open(files), (e: unknown) => codes(e).join() === `MM_TLS_UNREADABLE ${files.key}`);
  const fifo = pki.path('fifo.crt');
  execFileSync('mkfifo', [fifo]);
  assert.throws(() => open({ ...served(first), cert: fifo, ca: pki.dir }), (e: unknown) => {
    assert.deepEqual(codes(e), [`MM_TLS_UNREADABLE ${fifo}`, `MM_TLS_UNREADABLE ${pki.dir}`]);
    assert.match((e as TlsRefusedError).diagnostics[0]!.message, /not a regular file/);
    return true;
  });
});

test('open reports the certificate taken into use, and a coming expiry once', () => {
  const { watcher, events } = open({ ...served(first), expiryWarningMs: 48 * HOUR });
  assert.deepEqual(events.map((e) => e.kind), ['loaded', 'validity']);
  assert.equal(watcher.certificate.serialNumber, first.serial);
  watcher.check();
  assert.equal(events.length, 2, 'the same warning is not repeated at the next check');
  watcher.close();
});

test('a listener gets the current credentials on the next tick, never synchronously', async () => {
  const { watcher } = open(served(first));
  const { certs } = listen(watcher);
  assert.equal(certs.length, 0);
  await new Promise((r) => process.nextTick(r));
  assert.equal(certs.length, 1);
  watcher.close();
});

test('a rotation is swapped in at the next check: listeners get the new certificate, and it is reported', async () => {
  const files = served(first);
  const { watcher, events } = open(files);
  const { certs } = listen(watcher);
  await new Promise((r) => process.nextTick(r));
  install(files, second);
  assert.equal(watcher.check(), true);
  assert.equal(watcher.certificate.serialNumber, second.serial);
  assert.equal(certs.length, 2);
  assert.ok(certs[1]!.equals(readFileSync(second.cert)));
  const loaded = events.filter((e) => e.kind === 'loaded');
  assert.deepEqual(loaded.map((e) => e.kind === 'loaded' && [e.initial, e.certificate.serialNumber]), [[true, first.serial], [false, second.serial]]);
  assert.equal(watcher.check(), false, 'unchanged files are not swapped again');
  watcher.close();
});

test('a broken rotation keeps the credentials in use and is reported once, naming the file; fixing it swaps', async () => {
  const files = served(first);
  const { watcher, events } = open(files);
  const { certs } = listen(watcher);
  await new Promise((r) => process.nextTick(r));
  copyFileSync(second.cert, files.cert); // the certificate is rotated, the key not yet
  assert.equal(watcher.check(), false);
  assert.equal(watcher.check(), false);
  assert.equal(watcher.certificate.serialNumber, first.serial);
  assert.equal(certs.length, 1, 'no update reached the listener');
  const rejected = events.filter((e) => e.kind === 'rejected');
  assert.equal(rejected.length, 1, 'reported once, not at every check');
  assert.ok(rejected[0]!.kind === 'rejected');
  assert.deepEqual(rejected[0]!.diagnostics.map((d) => [d.code, d.object]), [['MM_TLS_KEY_MISMATCH', files.key]]);
  assert.equal(rejected[0]!.inUse.serialNumber, first.serial);

  const pem = readFileSync(second.cert, 'utf8');
  writeFileSync(files.cert, `${pem.slice(0, pem.length / 2)}\n-----END CERTIFICATE-----\n`); // now a truncated certificate
  assert.equal(watcher.check(), false);
  const last = events.at(-1)!;
  assert.ok(last.kind === 'rejected' && last.diagnostics[0]!.code === 'MM_TLS_BAD_PEM' && last.diagnostics[0]!.object === files.cert);

  install(files, second);
  assert.equal(watcher.check(), true);
  assert.equal(watcher.certificate.serialNumber, second.serial);
  watcher.close();
});

test('a rotation to an expired certificate is not used', () => {
  const files = served(first);
  const { watcher, events } = open(files);
  install(files, expired);
  assert.equal(watcher.check(), false);
  assert.equal(watcher.certificate.serialNumber, first.serial);
  const last = events.at(-1)!;
  assert.ok(last.kind === 'rejected' && last.diagnostics.some((d) => d.code === 'MM_TLS_CERT_EXPIRED'));
  watcher.close();
});

test('the periodic check runs while grpc-js listens, and stops when it stops listening', async () => {
  const timers = new FakeTimers();
  const files = served(first);
  const { watcher } = open(files, { timers });
  assert.equal(timers.intervals.size, 0, 'nothing runs before the server takes the credentials');
  const l = listen(watcher);
  assert.equal(timers.intervals.size, 1);
  install(files, second);
  timers.tick();
  assert.equal(watcher.certificate.serialNumber, second.serial);
  l.stop();
  assert.equal(timers.intervals.size, 0);
  watcher.close();
});

test('the certificate in use is re-checked as time passes: a warning when it nears its end, an error once it has expired, each once', () => {
  let now = Date.now();
  const { watcher, events } = open({ ...served(first), expiryWarningMs: HOUR }, { now: () => now });
  assert.deepEqual(events.map((e) => e.kind), ['loaded']);
  now += 23.5 * HOUR;
  watcher.check();
  now += 0.1 * HOUR;
  watcher.check();
  now += 2 * HOUR;
  watcher.check();
  watcher.check();
  const validity = events.flatMap((e) => (e.kind === 'validity' ? [`${e.diagnostic.severity} ${e.diagnostic.code}`] : []));
  assert.deepEqual(validity, ['warning MM_TLS_CERT_EXPIRING', 'error MM_TLS_CERT_EXPIRED']);
  watcher.close();
});

test('a file event triggers the reload without waiting for the periodic check', async () => {
  const files = served(first);
  const events: TlsEvent[] = [];
  const watcher = CertificateWatcher.open({ ...files, watch: true, debounceMs: 10, checkIntervalMs: 3600_000 }, { report: (e) => events.push(e) });
  const l = listen(watcher);
  try {
    install(files, second);
    await until(() => watcher.certificate.serialNumber === second.serial, 'the rotation to be picked up from the file event');
  } finally {
    l.stop();
    watcher.close();
  }
});
