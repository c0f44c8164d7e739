/** `metamesh serve`: starts the server and runs until SIGINT/SIGTERM (or `stop` aborts). Effects. */
import pino from 'pino';
import { MissingSourceError, serve } from '../runtime/serve.js';
import type { Invocation } from './args.js';
import type { Io } from './io.js';

type ServeInvocation = Extract<Invocation, { kind: 'serve' }>;

export async function serveCommand(inv: ServeInvocation, io: Io, stop: AbortSignal | undefined): Promise<number> {
  const logger = pino({ name: 'metamesh' }, pino.destination(2));
  let running;
  try {
    running = await serve({ files: inv.files, xdsAddress: inv.xdsAddress, httpAddress: inv.httpAddress, tls: inv.tls, xdsLimits: inv.xdsLimits, logger });
  } catch (e) {
    if (e instanceof MissingSourceError) {
      io.err(`metamesh serve: cannot serve ${e.message}; nothing was started.\nRun 'metamesh serve --help' for usage.\n`);
      return 2;
    }
    io.err(`metamesh serve: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  const host = (a: string) => a.slice(0, a.lastIndexOf(':'));
  const mode = inv.tls ? (inv.tls.ca ? 'mutual TLS' : 'TLS') : 'plaintext';
  io.out(`metamesh serve: xDS (gRPC, ${mode}) on ${host(inv.xdsAddress)}:${running.xdsPort}, HTTP on ${host(inv.httpAddress)}:${running.httpPort}\n`);
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      stop?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (stop?.aborted) done();
    else stop?.addEventListener('abort', done, { once: true });
  });
  io.out('metamesh serve: shutting down\n');
  await running.close();
  return 0;
}
