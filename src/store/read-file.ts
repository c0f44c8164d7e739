/**
 * Reading one manifest file safely: what every reader of `-f` files should call instead of
 * readFileSync. Effects: opens and reads one file. Never throws, never blocks on a FIFO, never
 * reads more than `maxFileBytes + 1` bytes.
 *
 * The lister (src/store/list.ts) already skips what is not a regular file, but the path may be
 * replaced between listing and reading, so the check is repeated on the opened descriptor: the
 * file is opened with O_NONBLOCK (opening a FIFO without a writer then returns at once instead of
 * waiting) and fstat decides before a byte is read.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { diag, type Diagnostic } from '../model/diagnostics.js';
import { tooLarge, type InputLimits } from '../input/limits.js';
import { kindOf } from './list.js';

export type FileRead =
  | { readonly ok: true; readonly text: string }
  /** `gone`: the file vanished since it was listed (a delete or a rename); no diagnostic then. */
  | { readonly ok: false; readonly gone: boolean; readonly diagnostic?: Diagnostic };

const CHUNK = 64 * 1024;

export function readManifestFile(file: string, limits: Pick<InputLimits, 'maxFileBytes'>): FileRead {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, gone: true };
    return { ok: false, gone: false, diagnostic: diag('MM_INPUT_UNREADABLE', file, `${file} cannot be read: ${(e as Error).message}`) };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      return { ok: false, gone: false, diagnostic: diag('MM_INPUT_NOT_REGULAR', file, `${file} is ${kindOf(st)}, not a regular file; it was skipped. Remove it or give a regular file.`) };
    }
    if (st.size > limits.maxFileBytes) return { ok: false, gone: false, diagnostic: tooLarge(file, limits, st.size) };
    // The size may change while reading (a writer appending): the cap holds whatever fstat said.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, limits.maxFileBytes + 1 - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > limits.maxFileBytes) return { ok: false, gone: false, diagnostic: tooLarge(file, limits) };
    }
    return { ok: true, text: Buffer.concat(chunks, total).toString('utf8') };
  } catch (e) {
    return { ok: false, gone: false, diagnostic: diag('MM_INPUT_UNREADABLE', file, `${file} cannot be read: ${(e as Error).message}`) };
  } finally {
    closeSync(fd);
  }
}
