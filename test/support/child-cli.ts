/**
 * Runs `metamesh` (src/cli/main.ts under tsx) in a child process with a deadline, for inputs that
 * could hang or exhaust the process that reads them: a test of such an input fails by the deadline
 * (the child is killed) instead of hanging the test run.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ChildRun {
  /** The exit code, or null when the child was killed (by the deadline). */
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly out: string;
  readonly err: string;
}

export function runCliChild(argv: readonly string[], deadlineMs: number): ChildRun {
  return runChild(`const m = await import(${JSON.stringify(srcModule('cli/main.ts'))}); process.exitCode = await m.main(${JSON.stringify(argv)});`, deadlineMs);
}

/** The absolute path of a module under src/, for the scripts given to runChild. */
export function srcModule(rel: string): string {
  return path.join(root, 'src', rel);
}

/** Runs `script` (an ES module body; top-level await allowed) under tsx in a child process. */
export function runChild(script: string, deadlineMs: number): ChildRun {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: deadlineMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  return { code: r.status, timedOut, out: r.stdout ?? '', err: r.stderr ?? '' };
}
