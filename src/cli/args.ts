/** Command-line parsing: small and strict (an unknown flag is a usage error, exit 2). */

export interface ParsedArgs {
  command: string | undefined;
  files: string[];
  output: 'yaml' | 'json';
  help: boolean;
  errors: string[];
  /** `serve` flags. */
  xdsAddress: string | undefined;
  httpAddress: string | undefined;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  tlsCa: string | undefined;
}

const SERVE_FLAGS = {
  '--xds-address': 'xdsAddress',
  '--http-address': 'httpAddress',
  '--tls-cert': 'tlsCert',
  '--tls-key': 'tlsKey',
  '--tls-ca': 'tlsCa',
} as const;

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = {
    command: undefined,
    files: [],
    output: 'yaml',
    help: false,
    errors: [],
    xdsAddress: undefined,
    httpAddress: undefined,
    tlsCert: undefined,
    tlsKey: undefined,
    tlsCa: undefined,
  };
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
    } else if (Object.hasOwn(SERVE_FLAGS, a.split('=')[0]!)) {
      const flag = a.split('=')[0] as keyof typeof SERVE_FLAGS;
      const v = value(flag);
      if (v !== undefined) out[SERVE_FLAGS[flag]] = v;
    } else if (a.startsWith('-')) out.errors.push(`unknown flag ${a}`);
    else if (out.command === undefined) out.command = a;
    else out.errors.push(`unexpected argument ${JSON.stringify(a)}`);
  }
  return out;
}
