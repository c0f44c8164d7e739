/** Where the CLI writes: stdout for results, stderr for everything else. Injected by tests. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /**
   * Ends the process. Only the real process's Io has it (tests run commands in-process without
   * it): `serve` uses it once its bounded shutdown is over, so that a connection nobody can close
   * gracefully does not keep the process alive.
   */
  exit?: (code: number) => void;
}

export const processIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  exit: (code) => process.exit(code),
};
