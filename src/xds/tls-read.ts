/**
 * Reading the xDS server's TLS files, all three together. Effects: stat and read. A file that is
 * not a regular file (a FIFO would block the read for good) or is too big to be a certificate is
 * reported without being opened.
 */
import { readFileSync, statSync } from 'node:fs';
import { diag, type Diagnostic } from '../model/diagnostics.js';
import type { TlsContents, TlsFiles } from './tls-inspect.js';

/** Certificate files are a few KiB; a bigger file is a wrong path, not a certificate. */
const MAX_FILE_BYTES = 1024 * 1024;

/** The three files' contents, or a diagnostic per file that cannot be read. */
export function readTls(files: TlsFiles): { ok: true; contents: TlsContents } | { ok: false; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const read = (file: string): Buffer | undefined => {
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a regular file');
      if (st.size > MAX_FILE_BYTES) throw new Error(`${st.size} bytes, more than a certificate file holds (at most ${MAX_FILE_BYTES})`);
      return readFileSync(file);
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      diagnostics.push(diag('MM_TLS_UNREADABLE', file, `${file} cannot be read: ${reason}.`));
      return undefined;
    }
  };
  const cert = read(files.cert);
  const key = read(files.key);
  const ca = files.ca !== undefined ? read(files.ca) : undefined;
  if (!cert || !key || diagnostics.length > 0) return { ok: false, diagnostics };
  return { ok: true, contents: ca ? { cert, key, ca } : { cert, key } };
}
