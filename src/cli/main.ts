/**
 * `metamesh` command line. Thin: parse arguments, read files, run the pipeline, print.
 * Exit codes: 0 no error diagnostics, 1 error diagnostics, 2 usage error.
 */
import { stringify } from 'yaml';
import { hasErrors, type Diagnostic } from '../model/diagnostics.js';
import { readResources } from '../input/read.js';
import { loadBuiltinProtocols } from '../protocol/builtin.js';
import { build } from '../pipeline/build.js';
import pino from 'pino';
import { serve } from '../runtime/serve.js';
import { parseArgs, type ParsedArgs } from './args.js';
import { loadInputs } from './files.js';

const USAGE = `Usage: metamesh <command> [flags]

Commands:
  generate -f <file-or-dir> [-f …] [-o yaml|json]
      Print the EnvoyFilters, RDS routes, ServiceEntry changes and diagnostics for the given
      ServiceEntries, Services, MetaRouters, ApplicationProtocols, DestinationRules, Gateways
      and MetameshOptions.
  validate -f <file-or-dir> [-f …]
      Print only the diagnostics, for people.
  serve [-f <dir> …] [--xds-address host:port] [--http-address host:port]
        [--tls-cert FILE --tls-key FILE [--tls-ca FILE]]
      Serve the RDS routes over xDS (RouteDiscoveryService and ADS, SotW and delta), watching
      the files for changes. Defaults: -f examples/, xDS 127.0.0.1:15010, HTTP 127.0.0.1:8080
      (/healthz, /readyz, /debug/xds, /debug/config). --tls-ca requires client certificates.
      Logs are JSON lines on stderr. SIGINT/SIGTERM stop it gracefully (exit 0).

Exit status: 0 = no errors, 1 = errors in the input, 2 = usage error.
Diagnostic codes are explained in docs/errors.md.`;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const processIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

export async function main(argv: readonly string[], io: Io = processIo, stop?: AbortSignal): Promise<number> {
  const args = parseArgs(argv);
  if (args.help || args.command === 'help') {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (args.command === undefined || args.errors.length > 0 || !['generate', 'validate', 'serve'].includes(args.command)) {
    const why = args.errors.length > 0 ? args.errors.join('; ') : args.command ? `unknown command ${JSON.stringify(args.command)}` : 'no command given';
    io.err(`metamesh: ${why}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.command === 'serve') return serveCommand(args, io, stop);
  if (args.files.length === 0) {
    io.err(`metamesh ${args.command}: give at least one -f <file-or-dir>\n`);
    return 2;
  }
  const loaded = loadInputs(args.files);
  const read = readResources(loaded.documents);
  const output = build(read.config, loadBuiltinProtocols(), [...loaded.diagnostics, ...read.diagnostics]);
  if (args.command === 'validate') {
    io.out(formatDiagnostics(output.diagnostics, loaded.files.length));
  } else {
    const doc = {
      serviceEntries: output.serviceEntries,
      envoyFilters: output.envoyFilters,
      virtualServices: output.virtualServices,
      routes: output.routes,
      diagnostics: output.diagnostics,
    };
    io.out(args.output === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false }));
    const errors = output.diagnostics.filter((d) => d.severity === 'error').length;
    if (errors > 0) io.err(`metamesh generate: ${errors} error(s) in the input; see diagnostics (codes in docs/errors.md).\n`);
  }
  return hasErrors(output.diagnostics) ? 1 : 0;
}

export function formatDiagnostics(list: readonly Diagnostic[], files: number): string {
  const lines = list.map((d) => `${d.severity.padEnd(7)} ${d.code}  ${d.object}: ${d.message}`);
  const count = (s: string) => list.filter((d) => d.severity === s).length;
  lines.push(`${files} file(s) checked: ${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} note(s).`);
  return `${lines.join('\n')}\n`;
}

export const DEFAULT_XDS_ADDRESS = '127.0.0.1:15010';
export const DEFAULT_HTTP_ADDRESS = '127.0.0.1:8080';

/** `metamesh serve`: runs until SIGINT/SIGTERM (or `stop` aborts), then shuts down gracefully. */
async function serveCommand(args: ParsedArgs, io: Io, stop: AbortSignal | undefined): Promise<number> {
  const usage = (why: string) => {
    io.err(`metamesh serve: ${why}\n`);
    return 2;
  };
  if (args.tlsCert === undefined !== (args.tlsKey === undefined)) return usage('--tls-cert and --tls-key go together');
  if (args.tlsCa !== undefined && args.tlsCert === undefined) return usage('--tls-ca needs --tls-cert and --tls-key');
  const xdsAddress = args.xdsAddress ?? DEFAULT_XDS_ADDRESS;
  const httpAddress = args.httpAddress ?? DEFAULT_HTTP_ADDRESS;
  for (const [flag, a] of [['--xds-address', xdsAddress], ['--http-address', httpAddress]] as const) {
    if (!/^(\[[^\]]*\]|[^:]*):\d+$/.test(a)) return usage(`${flag} must be host:port, not ${JSON.stringify(a)}`);
  }
  const tls = args.tlsCert !== undefined && args.tlsKey !== undefined ? { cert: args.tlsCert, key: args.tlsKey, ca: args.tlsCa } : undefined;
  const logger = pino({ name: 'metamesh' }, pino.destination(2));
  let running;
  try {
    running = await serve({ files: args.files.length > 0 ? args.files : ['examples/'], xdsAddress, httpAddress, tls, logger });
  } catch (e) {
    io.err(`metamesh serve: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  const host = (a: string) => a.slice(0, a.lastIndexOf(':'));
  const mode = tls ? (tls.ca ? 'mutual TLS' : 'TLS') : 'plaintext';
  io.out(`metamesh serve: xDS (gRPC, ${mode}) on ${host(xdsAddress)}:${running.xdsPort}, HTTP on ${host(httpAddress)}:${running.httpPort}\n`);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    stop?.addEventListener('abort', done, { once: true });
  });
  io.out('metamesh serve: shutting down\n');
  await running.close();
  return 0;
}
