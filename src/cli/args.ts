/** Command-line parsing: small and strict (an unknown flag is a usage error, exit 2). */

export interface ParsedArgs {
  command: string | undefined;
  files: string[];
  output: 'yaml' | 'json';
  help: boolean;
  errors: string[];
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { command: undefined, files: [], output: 'yaml', help: false, errors: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (flag: string): string | undefined => {
      const eq = a.indexOf('=');
      if (eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) out.errors.push(`${flag} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') out.help = true;
    else if (a === '-f' || a === '--filename' || a.startsWith('--filename=')) {
      const v = value('-f');
      if (v !== undefined) out.files.push(v);
    } else if (a === '-o' || a === '--output' || a.startsWith('--output=')) {
      const v = value('-o');
      if (v === 'yaml' || v === 'json') out.output = v;
      else if (v !== undefined) out.errors.push(`-o must be yaml or json, not ${JSON.stringify(v)}`);
    } else if (a.startsWith('-')) out.errors.push(`unknown flag ${a}`);
    else if (out.command === undefined) out.command = a;
    else out.errors.push(`unexpected argument ${JSON.stringify(a)}`);
  }
  return out;
}
