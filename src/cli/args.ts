/**
 * Command-line parsing on node:util.parseArgs, strict and per command: each command accepts only
 * the flags commands.ts lists for it, so `generate --tls-cert x` is a usage error that names the
 * command the flag belongs to. Pure: argv in, an Invocation out; nothing is read or printed here.
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { parseDuration } from '../util/duration.js';
import { parseRegistry, type RegistryConfig } from '../registry/config.js';
import { serviceEntryOptions } from '../registry/namespaces.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../input/limits.js';
import type { ExplainFormat, GenerateFormat, Invocation, Registries, ValidateFormat } from './invocation.js';
import { LIMIT_FLAGS, validLimit, type XdsLimits } from '../xds/limits.js';
import { catalogFlags, clientTrustDomains, kubeFlags, mcpFlags, webhookFlags, writeFlags, type FlagValues } from './serve-flags.js';

export type { KubeFlags, McpFlags, WebhookFlags } from './serve-flags.js';
import { COMMANDS, commandSpec, DEFAULT_HTTP_ADDRESS, DEFAULT_XDS_ADDRESS, type CommandSpec } from './commands.js';

export type { ExplainFormat, ExplainSource, GenerateFormat, Invocation, Registries, ServeFlags, TlsFlags, ValidateFormat } from './invocation.js';

type Values = FlagValues;

export function parseArgs(argv: readonly string[]): Invocation {
  const [first, ...rest] = argv;
  if (first === undefined) return { kind: 'usage', reason: 'no command given' };
  if (first === 'help') {
    if (rest.length === 0) return { kind: 'help' };
    const spec = commandSpec(rest[0]!);
    if (!spec || rest.length > 1) return { kind: 'usage', reason: `help takes one command name (${names()}), not ${JSON.stringify(rest.join(' '))}` };
    return { kind: 'help', command: spec.name };
  }
  const spec = commandSpec(first);
  if (spec) return parseCommand(spec, rest);
  if (!first.startsWith('-')) return { kind: 'usage', reason: `unknown command ${JSON.stringify(first)}; the commands are ${names()}` };
  return parseGlobal(argv);
}

/** `metamesh --help` / `--version`: the only flags that come without a command. */
function parseGlobal(argv: readonly string[]): Invocation {
  const bad = argv.find((a) => !['-h', '--help', '--version'].includes(a));
  if (bad !== undefined) {
    const owner = bad.startsWith('-') ? ownersOf(optionName(bad)) : [];
    const reason = bad.startsWith('-')
      ? `${bad} ${owner.length > 0 ? `is a flag of ${owner.join(', ')}: give the command first` : 'is not a flag of metamesh'}`
      : `the command must come first, before ${JSON.stringify(bad)}`;
    return { kind: 'usage', reason };
  }
  return argv.includes('--version') && !argv.some((a) => a === '-h' || a === '--help') ? { kind: 'version' } : { kind: 'help' };
}

function parseCommand(spec: CommandSpec, args: readonly string[]): Invocation {
  const usage = (reason: string): Invocation => ({ kind: 'usage', reason, command: spec.name });
  const asksHelp = args.some((a) => a === '-h' || a === '--help');
  const options = Object.fromEntries(
    Object.entries(spec.flags).map(([name, f]) => [name, { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) }]),
  );
  // A lenient pass first, only to name the first unknown flag or stray argument precisely (and the
  // command it belongs to); the strict pass below then catches everything else.
  const { tokens } = nodeParseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'option' && !Object.hasOwn(spec.flags, t.name)) {
      if (asksHelp) break;
      const owner = ownersOf(optionName(t.rawName));
      return usage(`${t.rawName} is not a flag of ${spec.name}${owner.length > 0 ? ` (it is a flag of ${owner.join(', ')})` : ''}`);
    }
    if (t.kind === 'positional' && !asksHelp && !spec.operand) return usage(`unexpected argument ${JSON.stringify(t.value)}; name input files with -f`);
  }
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = nodeParseArgs({ args: [...args], options, strict: true, allowPositionals: spec.operand !== undefined }) as { values: Values; positionals: string[] });
  } catch (e) {
    if (asksHelp) return { kind: 'help', command: spec.name };
    return usage((e as Error).message.split('\n')[0]!);
  }
  if (values.help === true) return { kind: 'help', command: spec.name };
  const files = (values.filename as string[] | undefined) ?? [];
  const registries: RegistryConfig[] = [];
  for (const r of (values.registry as string[] | undefined) ?? []) {
    const c = parseRegistry(r);
    if ('error' in c) return usage(`--registry ${c.error}`);
    registries.push(c);
  }
  const serviceEntries = serviceEntryOptions(values['registry-namespace'] as string | undefined, (values['registry-namespace-rule'] as string[] | undefined) ?? [], registries);
  if ('error' in serviceEntries) return usage(serviceEntries.error);
  const regs: Registries = { registries, serviceEntries };
  if (spec.name === 'explain') return explainInvocation(values, positionals, files, regs, usage);
  const kube = spec.name === 'serve' && (values.kubernetes === true || values.kubeconfig !== undefined);
  if (files.length === 0 && registries.length === 0 && !kube) {
    return usage(spec.name === 'serve' ? 'give at least one -f <file-or-dir>, --registry <url> or --kubernetes' : 'give at least one -f <file-or-dir> or --registry <url>');
  }
  const output = values.output as string | undefined;
  const choices = spec.flags.output?.choices;
  if (output !== undefined && choices && !choices.includes(output)) {
    return usage(`-o must be one of ${choices.join(', ')}, not ${JSON.stringify(output)}`);
  }
  switch (spec.name) {
    case 'generate':
    case 'validate': {
      const limits = inputLimits(values);
      if (typeof limits === 'string') return usage(limits);
      return spec.name === 'generate'
        ? { kind: 'generate', files, ...regs, output: (output ?? 'yaml') as GenerateFormat, limits }
        : { kind: 'validate', files, ...regs, output: (output ?? 'text') as ValidateFormat, strict: values.strict === true, limits };
    }
    case 'serve':
      return serveInvocation(values, files, regs, usage);
  }
}

function explainInvocation(values: Values, positionals: string[], files: string[], regs: Registries, usage: (reason: string) => Invocation): Invocation {
  const { registries } = regs;
  if (positionals.length !== 1) {
    return usage(positionals.length === 0 ? 'name what to explain: a host or namespace/metarouter' : `explain takes one host or namespace/metarouter, not ${positionals.length} (${positionals.map((p) => JSON.stringify(p)).join(' ')})`);
  }
  const query = positionals[0]!;
  if (query.trim() === '') return usage('the host or namespace/metarouter to explain is empty');
  const output = (values.output as ExplainFormat | undefined) ?? 'text';
  const server = values.server as string | undefined;
  const tokenFile = values['http-token-file'] as string | undefined;
  if (server === undefined) {
    if (tokenFile !== undefined) return usage('--http-token-file goes with --server');
    if (files.length === 0 && registries.length === 0) return usage('give at least one -f <file-or-dir> or --registry <url>, or --server <url> of a running metamesh serve');
    const limits = inputLimits(values);
    if (typeof limits === 'string') return usage(limits);
    return { kind: 'explain', query, output, source: 'files', files, ...regs, limits };
  }
  const offline = ['filename', 'registry', 'registry-namespace', 'registry-namespace-rule', ...Object.values(LIMIT_FLAG_NAMES)].filter((f) => values[f] !== undefined);
  if (offline.length > 0) return usage(`--server asks a running metamesh serve, which reads its own files; drop ${offline.map((f) => (f === 'filename' ? '-f' : `--${f}`)).join(', ')}`);
  if (!/^https?:\/\/[^/?#\s]+\/?$/.test(server)) return usage(`--server must be the HTTP address of metamesh serve, such as http://127.0.0.1:8080, not ${JSON.stringify(server)}`);
  return { kind: 'explain', query, output, source: 'server', server: server.replace(/\/$/, ''), httpTokenFile: tokenFile };
}

function serveInvocation(values: Values, files: string[], regs: Registries, usage: (reason: string) => Invocation): Invocation {
  const cert = values['tls-cert'] as string | undefined;
  const key = values['tls-key'] as string | undefined;
  const ca = values['tls-ca'] as string | undefined;
  if ((cert === undefined) !== (key === undefined)) return usage('--tls-cert and --tls-key go together');
  if (ca !== undefined && cert === undefined) return usage('--tls-ca needs --tls-cert and --tls-key');
  const warning = values['tls-expiry-warning'] as string | undefined;
  if (warning !== undefined && cert === undefined) return usage('--tls-expiry-warning needs --tls-cert and --tls-key');
  const warningSeconds = warning === undefined ? undefined : parseDuration(warning);
  if (warning !== undefined && warningSeconds === undefined) return usage(`--tls-expiry-warning must be a duration such as 6h, 90m or 0s, not ${JSON.stringify(warning)}`);
  const mcp = mcpFlags(values);
  if (typeof mcp === 'string') return usage(mcp);
  const webhook = webhookFlags(values);
  if (typeof webhook === 'string') return usage(webhook);
  const trustDomains = clientTrustDomains(values);
  if (typeof trustDomains === 'string') return usage(trustDomains);
  const xdsAddress = (values['xds-address'] as string | undefined) ?? DEFAULT_XDS_ADDRESS;
  const httpAddress = (values['http-address'] as string | undefined) ?? DEFAULT_HTTP_ADDRESS;
  for (const [flag, a] of [['--xds-address', xdsAddress], ['--http-address', httpAddress]] as const) {
    if (!/^(\[[^\]]*\]|[^:]*):\d+$/.test(a)) return usage(`${flag} must be host:port, not ${JSON.stringify(a)}`);
  }
  const expiryWarningMs = warningSeconds === undefined ? undefined : Math.round(warningSeconds * 1000);
  const tls = cert !== undefined && key !== undefined ? { cert, key, ca, expiryWarningMs, clientTrustDomains: trustDomains } : undefined;
  const rescan = values['rescan-interval'] as string | undefined;
  if (rescan !== undefined && !(/^\d{1,7}$/.test(rescan) && Number(rescan) <= MAX_RESCAN_SECONDS)) return usage(`--rescan-interval must be a whole number of seconds up to ${MAX_RESCAN_SECONDS}, not ${JSON.stringify(rescan)}`);
  const durations: Record<string, number | undefined> = {};
  for (const flag of ['http-idle-timeout', 'shutdown-grace']) {
    const v = values[flag] as string | undefined;
    if (v === undefined) continue;
    const seconds = parseDuration(v);
    if (seconds === undefined || seconds <= 0 || seconds > 3600) return usage(`--${flag} must be a duration from 1ms to 1h such as 5s or 500ms, not ${JSON.stringify(v)}`);
    durations[flag] = Math.max(1, Math.round(seconds * 1000));
  }
  const ready = values['ready-timeout'] as string | undefined;
  const readySeconds = ready === undefined ? undefined : parseDuration(ready);
  if (ready !== undefined && (readySeconds === undefined || readySeconds > 86_400)) return usage(`--ready-timeout must be a duration from 0s (never) to 24h such as 5m, not ${JSON.stringify(ready)}`);
  const max = values['http-max-connections'] as string | undefined;
  if (max !== undefined && !(/^\d{1,6}$/.test(max) && Number(max) >= 1)) return usage(`--http-max-connections must be a whole number from 1 to 999999, not ${JSON.stringify(max)}`);
  const limits = inputLimits(values);
  if (typeof limits === 'string') return usage(limits);
  const kubernetes = kubeFlags(values);
  if (typeof kubernetes === 'string') return usage(kubernetes);
  const writes = writeFlags(values, kubernetes !== undefined);
  if (typeof writes === 'string') return usage(writes);
  const xdsLimits: Partial<Record<keyof XdsLimits, number>> = {};
  for (const [k, flag] of Object.entries(LIMIT_FLAGS) as Array<[keyof XdsLimits, string]>) {
    const v = values[flag.slice(2)] as string | undefined;
    if (v === undefined) continue;
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!validLimit(n)) return usage(`${flag} must be a positive integer, not ${JSON.stringify(v)}`);
    xdsLimits[k] = n;
  }
  const catalog = catalogFlags(values);
  if (typeof catalog === 'string') return usage(catalog);
  return {
    kind: 'serve',
    files,
    ...regs,
    xdsAddress,
    httpAddress,
    tls,
    httpTokenFile: values['http-token-file'] as string | undefined,
    httpHostNames: (values['http-host'] as string[] | undefined) ?? [],
    httpIdleTimeoutMs: durations['http-idle-timeout'],
    httpMaxConnections: max === undefined ? undefined : Number(max),
    shutdownGraceMs: durations['shutdown-grace'],
    readyTimeoutMs: readySeconds === undefined ? undefined : Math.round(readySeconds * 1000),
    rescanIntervalMs: rescan === undefined ? undefined : Number(rescan) * 1000,
    limits,
    xdsLimits,
    catalog,
    mcp,
    webhook,
    kubernetes,
    writes,
  };
}


/** The longest period a timer takes, in whole seconds (2^31-1 ms). */
const MAX_RESCAN_SECONDS = 2147483;

const LIMIT_FLAG_NAMES: Record<keyof InputLimits, string> = {
  maxFileBytes: 'max-file-bytes',
  maxDocuments: 'max-documents',
  maxExpandedBytes: 'max-expanded-bytes',
  maxDepth: 'max-depth',
};

/** The input limits from the --max-* flags (defaults for those not given), or a usage reason. */
function inputLimits(values: Values): InputLimits | string {
  const limits: Record<string, number> = { ...DEFAULT_INPUT_LIMITS };
  for (const [key, flag] of Object.entries(LIMIT_FLAG_NAMES)) {
    const raw = values[flag] as string | undefined;
    if (raw === undefined) continue;
    if (!/^[1-9]\d{0,14}$/.test(raw)) return `--${flag} must be a positive whole number, not ${JSON.stringify(raw)}`;
    limits[key] = Number(raw);
  }
  return limits as unknown as InputLimits;
}

function names(): string {
  return COMMANDS.map((c) => c.name).join(', ');
}

/** `--tls-cert=x` → `tls-cert`, `-o` → the long name of short `o` (of any command). */
function optionName(arg: string): string {
  const bare = arg.replace(/^--?/, '').split('=')[0]!;
  if (arg.startsWith('--')) return bare;
  for (const c of COMMANDS) for (const [name, f] of Object.entries(c.flags)) if (f.short === bare) return name;
  return bare;
}

/** The commands that take flag `name`. */
function ownersOf(name: string): string[] {
  return COMMANDS.filter((c) => Object.hasOwn(c.flags, name)).map((c) => c.name);
}
