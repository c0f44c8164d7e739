/**
 * `metamesh` command line. Thin: parse arguments, read files, run the pipeline, print.
 * Exit codes: 0 no error diagnostics, 1 error diagnostics, 2 usage error.
 */
import { stringify } from 'yaml';
import { hasErrors, type Diagnostic } from '../model/diagnostics.js';
import { readResources } from '../input/read.js';
import { loadBuiltinProtocols } from '../protocol/builtin.js';
import { build } from '../pipeline/build.js';
import { parseArgs } from './args.js';
import { loadInputs } from './files.js';

const USAGE = `Usage: metamesh <command> [flags]

Commands:
  generate -f <file-or-dir> [-f …] [-o yaml|json]
      Print the EnvoyFilters, RDS routes, ServiceEntry changes and diagnostics for the given
      ServiceEntries, Services, MetaRouters, ApplicationProtocols, DestinationRules, Gateways
      and MetameshOptions.
  validate -f <file-or-dir> [-f …]
      Print only the diagnostics, for people.

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

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const args = parseArgs(argv);
  if (args.help || args.command === 'help') {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (args.command === undefined || args.errors.length > 0 || !['generate', 'validate'].includes(args.command)) {
    const why = args.errors.length > 0 ? args.errors.join('; ') : args.command ? `unknown command ${JSON.stringify(args.command)}` : 'no command given';
    io.err(`metamesh: ${why}\n\n${USAGE}\n`);
    return 2;
  }
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
