/** Help texts, derived from the command table (commands.ts). Pure. */
import { COMMANDS, type CommandSpec, type FlagSpec } from './commands.js';

export function overviewHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: metamesh <command> [flags]',
    '',
    'metamesh brings traffic management to MetaProtocol services (Dubbo, Thrift, tRPC, bRPC) beside',
    'Istio, from Aeraki MetaRouters and ApplicationProtocols.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Flags:',
    '  -h, --help     print this help (metamesh <command> --help: the flags of that command)',
    '  --version      print the version of metamesh',
    '',
    'Exit status: 0 = the rules take effect as written, 1 = an error or a rule that does not take',
    'effect, 2 = usage error. Diagnostic codes are explained in docs/errors.md.',
    '',
  ].join('\n');
}

export function commandHelp(spec: CommandSpec): string {
  const flags = Object.entries(spec.flags).map(([name, f]) => [flagLabel(name, f), flagHelp(f)] as const);
  const width = Math.max(...flags.map(([label]) => label.length));
  return [
    `Usage: metamesh ${spec.name} ${synopsis(spec)}${spec.operand ? ` ${spec.operand}` : ''}`,
    '',
    ...wrap(spec.description, 96),
    '',
    'Flags:',
    ...flags.map(([label, help]) => `  ${label.padEnd(width)}  ${help}`),
    '',
    'Exit status:',
    ...spec.exit.map(([code, meaning]) => `  ${code}  ${meaning}`),
    '',
  ].join('\n');
}

function synopsis(spec: CommandSpec): string {
  return Object.entries(spec.flags)
    .filter(([name]) => name !== 'help')
    .map(([name, f]) => {
      const label = `${f.short ? `-${f.short}` : `--${name}`}${f.type === 'string' ? ` ${f.choices ? f.choices.join('|') : `<${f.value ?? 'value'}>`}` : ''}`;
      return name === 'filename' ? `${label} [${label} …]` : `[${label}]`;
    })
    .join(' ');
}

function flagLabel(name: string, f: FlagSpec): string {
  const value = f.type === 'string' ? ` <${f.value ?? 'value'}>` : '';
  return `${f.short ? `-${f.short}, ` : ''}--${name}${value}`;
}

function flagHelp(f: FlagSpec): string {
  if (f.choices) return `${f.help}; one of ${f.choices.join(', ')} (default ${f.choices[0]})`;
  return f.default !== undefined ? `${f.help} (default ${f.default})` : f.help;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
