/**
 * Certificates made at test time with the `openssl` command (none are committed): one CA, and
 * leaf certificates it signs with a chosen validity window. Synchronous, so that the code-coverage
 * effect cases can use it too. Serials count up from 01 in the order the leaves are made.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Leaf {
  readonly cert: string;
  readonly key: string;
  /** As node:crypto's X509Certificate.serialNumber prints it (`01`, `02`, …). */
  readonly serial: string;
}

export interface LeafOptions {
  /** Default: an hour ago. */
  readonly notBefore?: Date;
  /** Default: a day from now. */
  readonly notAfter?: Date;
  /** Default: server (SANs localhost and 127.0.0.1). */
  readonly usage?: 'server' | 'client';
  /** The subjectAltName extension instead of the usage's, e.g. `URI:spiffe://td/ns/x/sa/y`. */
  readonly subjectAltName?: string;
}

export const HOUR = 3600_000;

const EXTENSIONS = {
  server: 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  client: 'subjectAltName=URI:spiffe://cluster.local/ns/dubbo/sa/consumer\nextendedKeyUsage=clientAuth\n',
};

const CA_CONFIG = `[ca]
default_ca = metamesh_test
[metamesh_test]
database = db/index.txt
new_certs_dir = db
serial = db/serial
default_md = sha256
policy = any_cn
unique_subject = no
[any_cn]
commonName = supplied
`;

export class TestPki {
  readonly dir: string;
  /** The CA certificate (PEM). */
  readonly ca: string;
  private readonly caKey: string;

  constructor(dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-pki-')), caName = 'metamesh-test-ca') {
    this.dir = dir;
    mkdirSync(this.path('db'), { recursive: true });
    writeFileSync(this.path('db/index.txt'), '');
    writeFileSync(this.path('db/serial'), '01\n');
    writeFileSync(this.path('ca.cnf'), CA_CONFIG);
    this.ca = this.path('ca.crt');
    this.caKey = this.path('ca.key');
    this.openssl('req', '-x509', ...newKey(), '-keyout', this.caKey, '-out', this.ca, '-days', '2', '-subj', `/CN=${caName}`);
  }

  /** A certificate and key for CN `name`, signed by the CA. */
  leaf(name: string, options: LeafOptions = {}): Leaf {
    const now = Date.now();
    const serial = readFileSync(this.path('db/serial'), 'utf8').trim();
    const [cert, key, csr, ext] = ['crt', 'key', 'csr', 'ext'].map((x) => this.path(`${name}.${x}`)) as [string, string, string, string];
    const usage = options.usage ?? 'server';
    writeFileSync(ext, options.subjectAltName === undefined ? EXTENSIONS[usage] : `subjectAltName=${options.subjectAltName}\nextendedKeyUsage=${usage}Auth\n`);
    this.openssl('req', ...newKey(), '-keyout', key, '-out', csr, '-subj', `/CN=${name}`);
    this.openssl(
      'ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', this.ca, '-keyfile', this.caKey, '-in', csr, '-out', cert, '-extfile', ext,
      '-startdate', generalizedTime(options.notBefore ?? new Date(now - HOUR)),
      '-enddate', generalizedTime(options.notAfter ?? new Date(now + 24 * HOUR)),
    );
    return { cert, key, serial };
  }

  path(name: string): string {
    return path.join(this.dir, name);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private openssl(...args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }
}

function newKey(): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
}

/** `YYYYMMDDHHMMSSZ`, as `openssl ca -startdate/-enddate` take it. */
function generalizedTime(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}


/** The PEM contents of a small PKI, made once per process and held in memory (its files are removed). */
export interface PkiContents {
  readonly ca: Buffer;
  readonly server: { readonly cert: Buffer; readonly key: Buffer; readonly serial: string };
  readonly other: { readonly cert: Buffer; readonly key: Buffer; readonly serial: string };
}

let contents: PkiContents | undefined;

export function pkiContents(): PkiContents {
  if (contents) return contents;
  const pki = new TestPki();
  try {
    const load = (l: Leaf) => ({ cert: readFileSync(l.cert), key: readFileSync(l.key), serial: l.serial });
    contents = { ca: readFileSync(pki.ca), server: load(pki.leaf('server')), other: load(pki.leaf('other')) };
    return contents;
  } finally {
    pki.remove();
  }
}
