/**
 * `metamesh` command line. Thin: parse arguments, read files, run the pipeline, print.
 *
 * Exit codes: 0 when every rule takes effect as written; 1 when a diagnostic is an error or a
 * warning marked notInEffect in the catalogue (validate --strict: any warning); 2 for a usage
 * error (nothing was read or started); 3 for an internal error (a bug: one line, no stack trace).
 * `serve`: 0 after a graceful stop, 1 when it cannot start. `explain`: 0 when everything asked about
 * takes effect as written, 1 otherwise (cli/explain.ts).
 * stdout carries only the result (the document, the manifests, the diagnostics of `validate`);
 * everything else goes to stderr.
 */
import { stringify } from 'yaml';
import { readResources } from '../input/read.js';
import type { InputLimits } from '../input/limits.js';
import { loadBuiltinProtocols } from '../protocol/builtin.js';
import { createEngine } from '../pipeline/build.js';
import type { Engine } from '../pipeline/engine.js';
import type { PipelineOutput } from '../pipeline/types.js';
import { parseArgs, type Invocation } from './args.js';
import { commandSpec } from './commands.js';
import { manifestObjects, manifestStream, outputDocument } from '../pipeline/document.js';
import { loadInputs } from './files.js';
import { commandHelp, overviewHelp } from './help.js';
import { processIo, type Io } from './io.js';
import { serveCommand } from './serve.js';
import { explainCommand } from './explain.js';
import { formatDiagnostics, verdict } from './verdict.js';
import { packageVersion } from '../util/version.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { RegistryConfig } from '../registry/config.js';
import { DEFAULT_REGISTRY_SYNC_OPTIONS } from '../registry/sync.js';
import { readRegistriesOnce } from '../runtime/registries-once.js';
import type { ServiceEntryOptions } from '../serviceentry/generate.js';

export type { Io } from './io.js';

/**
 * Runs one command and returns its exit code. Never throws: bad input is a diagnostic, and an
 * exception can only be a bug, reported in one line with exit code 3 (a stack trace helps nobody
 * reading a CI log, and the line says what to report).
 */
export async function main(argv: readonly string[], io: Io = processIo, stop?: AbortSignal): Promise<number> {
  try {
    return await command(argv, io, stop);
  } catch (e) {
    const name = commandSpec(argv[0] ?? '') ? `metamesh ${argv[0]}` : 'metamesh';
    const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    io.err(`${name}: internal error, please report: ${what.split('\n')[0]}\n`);
    return INTERNAL_ERROR_EXIT;
  }
}

/** The exit code of an unexpected exception (a bug in metamesh, never bad input). */
export const INTERNAL_ERROR_EXIT = 3;

async function command(argv: readonly string[], io: Io, stop: AbortSignal | undefined): Promise<number> {
  const inv = parseArgs(argv);
  switch (inv.kind) {
    case 'help':
      io.out(inv.command ? commandHelp(commandSpec(inv.command)!) : overviewHelp());
      return 0;
    case 'version':
      io.out(`metamesh ${packageVersion()}\n`);
      return 0;
    case 'usage': {
      const name = inv.command ? `metamesh ${inv.command}` : 'metamesh';
      io.err(`${name}: ${inv.reason}\nRun '${name} --help' for usage.\n`);
      return 2;
    }
    case 'serve':
      return serveCommand(inv, io, stop);
    case 'generate':
      return generate(inv, io);
    case 'validate':
      return validate(inv, io);
    case 'explain':
      return explainCommand(inv, io, run);
  }
}

/** How long `generate` and `validate` wait for each registry to be read completely. */
export const REGISTRY_READ_TIMEOUT_MS = 15_000;

type Run = { readonly output: PipelineOutput; readonly engine: Engine; readonly files: number } | { readonly error: string };

async function run(inv: { files: readonly string[]; registries: readonly RegistryConfig[]; serviceEntries: ServiceEntryOptions; limits: InputLimits }): Promise<Run> {
  const loaded = loadInputs(inv.files, inv.limits);
  const read = readResources(loaded.documents);
  const registryDiagnostics: Diagnostic[] = [];
  if (inv.registries.length > 0) {
    // A registry that cannot be read fails the command: a partial catalog would print
    // ServiceEntries as if the missing services were gone.
    try {
      const r = await readRegistriesOnce(inv.registries, { ...DEFAULT_REGISTRY_SYNC_OPTIONS, serviceEntries: inv.serviceEntries }, REGISTRY_READ_TIMEOUT_MS);
      read.config.serviceEntries.push(...r.serviceEntries);
      registryDiagnostics.push(...r.diagnostics);
    } catch (e) {
      return { error: (e as Error).message };
    }
  }
  const engine = createEngine(read.config, loadBuiltinProtocols(), [...loaded.diagnostics, ...read.diagnostics, ...registryDiagnostics]);
  return { output: engine.output(), engine, files: loaded.files.length };
}

async function generate(inv: Extract<Invocation, { kind: 'generate' }>, io: Io): Promise<number> {
  const r = await run(inv);
  if ('error' in r) {
    io.err(`metamesh generate: ${r.error}\n`);
    return 1;
  }
  const { output, files } = r;
  const v = verdict(output.diagnostics);
  if (inv.output === 'manifests') {
    // stdout is exactly what kubectl should apply; the diagnostics are for the person watching.
    io.out(manifestStream(manifestObjects(output)));
    if (output.diagnostics.length > 0) io.err(formatDiagnostics(output.diagnostics, files));
    return v.exitCode;
  }
  const doc = outputDocument(output);
  io.out(inv.output === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false }));
  if (v.exitCode === 1) {
    io.err(`metamesh generate: ${v.notInEffect} diagnostic(s) (${v.errors} error(s)) mean something you wrote does not take effect as written; see diagnostics (codes in docs/errors.md).\n`);
  }
  return v.exitCode;
}

async function validate(inv: Extract<Invocation, { kind: 'validate' }>, io: Io): Promise<number> {
  const r = await run(inv);
  if ('error' in r) {
    io.err(`metamesh validate: ${r.error}\n`);
    return 1;
  }
  const { output, files } = r;
  const list = output.diagnostics;
  io.out(inv.output === 'json' ? `${JSON.stringify(list, null, 2)}\n` : formatDiagnostics(list, files, inv.strict));
  return verdict(list, inv.strict).exitCode;
}
