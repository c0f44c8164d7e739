/**
 * A small checker for deploy/Containerfile and .dockerignore, since no base image can be pulled
 * here to build it: the rules the image must keep, as findings with a stable code. Pure: text in,
 * findings out.
 *
 * Parsing covers what a Containerfile of this kind uses: comments, parser directives, `\` line
 * continuations, global ARGs with defaults substituted into FROM (`${NAME}` / `$NAME`), stages
 * named with AS, exec (JSON) and shell forms.
 */

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly index: number;
  readonly name: string | undefined;
  /** The base after ARG substitution: an image reference, or the name of an earlier stage. */
  readonly from: string;
  readonly line: number;
  readonly instructions: readonly Instruction[];
}

export interface Finding {
  readonly code: string;
  readonly line: number;
  readonly message: string;
}

export function parseContainerfile(text: string): { globalArgs: Map<string, string>; stages: Stage[] } {
  const logical: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      if (/^\s*#/.test(next)) continue; // comments inside a continued instruction are dropped
      line = line.slice(0, -1) + ' ' + next.trim();
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(line);
    if (m) logical.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start + 1 });
  }
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  let current: { index: number; name: string | undefined; from: string; line: number; instructions: Instruction[] } | undefined;
  for (const ins of logical) {
    if (ins.keyword === 'FROM') {
      const [image = '', as, name] = substitute(ins.args, globalArgs).split(/\s+/).filter((w) => !w.startsWith('--'));
      current = { index: stages.length, name: as?.toUpperCase() === 'AS' ? name : undefined, from: image, line: ins.line, instructions: [] };
      stages.push(current);
    } else if (!current) {
      if (ins.keyword === 'ARG') {
        const [k, v = ''] = ins.args.split('=', 2) as [string, string?];
        globalArgs.set(k.trim(), v.trim());
      }
    } else {
      current.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

function substitute(s: string, args: ReadonlyMap<string, string>): string {
  return s.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => args.get((a ?? b)!) ?? whole);
}

/** `npm ci` without dev dependencies: `--omit=dev` (or npm 6's `--production`/`--only=prod`). */
const PROD_CI = /\bnpm\s+ci\b[^&;|]*(--omit[= ]dev\b|--production\b|--only[= ]prod)/;
const ANY_CI = /\bnpm\s+ci\b/;

export function lintContainerfile(text: string): Finding[] {
  const { stages } = parseContainerfile(text);
  const findings: Finding[] = [];
  const add = (code: string, line: number, message: string) => findings.push({ code, line, message });
  const last = stages.at(-1);
  if (stages.length < 2 || !last) {
    add('CF_MULTI_STAGE', stages[0]?.line ?? 1, 'build in one stage and run from another, so compilers, dev dependencies and caches stay out of the image');
    if (!last) return findings;
  }
  const names = new Set(stages.map((s) => s.name).filter((n): n is string => n !== undefined));
  const seen = new Set<string>();
  for (const s of stages) {
    // Each base once (stages commonly share one), stage references and `scratch` not at all.
    if (names.has(s.from) || /^\d+$/.test(s.from) || s.from === 'scratch' || seen.has(s.from)) continue;
    seen.add(s.from);
    if (/\$/.test(s.from)) add('CF_BASE_PINNED', s.line, `FROM ${s.from}: a variable without a default; give the ARG a pinned default`);
    else if (/@sha256:[0-9a-f]{64}$/.test(s.from)) continue;
    else {
      const tag = /:([^/:]+)$/.exec(s.from)?.[1];
      if (tag === undefined || tag === 'latest') add('CF_BASE_PINNED', s.line, `FROM ${s.from}: name an exact release (or a digest), never latest or no tag`);
      else if (!/\d+\.\d+\.\d+/.test(tag)) add('CF_BASE_PINNED', s.line, `FROM ${s.from}: tag ${tag} moves; name an exact release such as 20.20.2-bookworm-slim`);
    }
  }
  for (const s of stages) {
    for (const ins of s.instructions) {
      if (ins.keyword === 'RUN' && /\bnpm\s+(install|i)\b/.test(ins.args)) add('CF_NPM_CI', ins.line, 'npm install may change the lock file; use npm ci');
      if (ins.keyword === 'ADD' && /\bhttps?:\/\//.test(ins.args)) add('CF_NO_ADD_URL', ins.line, 'ADD of a URL fetches unverified content; download and check it in a RUN, or COPY');
      if ((ins.keyword === 'ENV' || ins.keyword === 'ARG') && /\b\w*(TOKEN|PASSWORD|SECRET)\w*\s*=/i.test(ins.args)) add('CF_NO_SECRETS', ins.line, `${ins.keyword} keeps its value in the image's history; mount secrets at run time`);
      if (ins.keyword === 'RUN' && ANY_CI.test(ins.args)) {
        const lockFirst = s.instructions.some((c) => c.line < ins.line && c.keyword === 'COPY' && /package-lock\.json/.test(c.args));
        if (!lockFirst) add('CF_LOCKFILE', ins.line, 'copy package-lock.json before npm ci, which installs exactly what it locks');
      }
    }
  }
  // The runtime stage.
  const runs = last.instructions.filter((i) => i.keyword === 'RUN');
  for (const r of runs) {
    if (ANY_CI.test(r.args) && !PROD_CI.test(r.args)) add('CF_PROD_DEPS', r.line, 'the runtime stage installs dev dependencies; use npm ci --omit=dev');
    if (/\btsc\b|npm\s+run\s+build/.test(r.args)) add('CF_MULTI_STAGE', r.line, 'the runtime stage compiles; compile in a build stage and copy dist/');
  }
  const stageByName = new Map(stages.map((s) => [s.name ?? String(s.index), s] as const));
  const modulesCopies = last.instructions.filter((i) => i.keyword === 'COPY' && /node_modules/.test(i.args));
  const prodInstallHere = runs.some((r) => PROD_CI.test(r.args));
  if (modulesCopies.length === 0 && !prodInstallHere) add('CF_PROD_DEPS', last.line, 'the runtime stage has no node_modules: copy them from a stage that ran npm ci --omit=dev, or run it here');
  for (const c of modulesCopies) {
    const from = /--from=(\S+)/.exec(c.args)?.[1];
    const source = from === undefined ? undefined : stageByName.get(from);
    const prod = source?.instructions.some((i) => i.keyword === 'RUN' && PROD_CI.test(i.args)) ?? false;
    const full = source?.instructions.some((i) => i.keyword === 'RUN' && ANY_CI.test(i.args) && !PROD_CI.test(i.args)) ?? true;
    if (!prod || full) add('CF_PROD_DEPS', c.line, `node_modules come from ${from ?? 'the build context'}, which does not hold only production dependencies (npm ci --omit=dev)`);
  }
  const users = last.instructions.filter((i) => i.keyword === 'USER');
  const user = users.at(-1);
  if (!user) add('CF_NON_ROOT', last.line, 'the runtime stage runs as root; set USER to a numeric non-root uid:gid');
  else {
    const m = /^(\d+)(?::(\d+))?$/.exec(user.args);
    if (!m) add('CF_NON_ROOT', user.line, `USER ${user.args}: use a numeric uid (and gid), so Kubernetes can verify runAsNonRoot`);
    else if (Number(m[1]) === 0 || Number(m[2] ?? 1) === 0) add('CF_NON_ROOT', user.line, `USER ${user.args}: neither the uid nor the gid may be 0`);
  }
  for (const c of last.instructions.filter((i) => i.keyword === 'COPY' && /--chown=/.test(i.args))) {
    add('CF_READ_ONLY', c.line, 'files owned by the runtime user can be rewritten by it; leave them owned by root');
  }
  for (const v of last.instructions.filter((i) => i.keyword === 'VOLUME')) {
    if (!/^\[?\s*"?\/tmp"?\s*\]?$/.test(v.args)) add('CF_READ_ONLY', v.line, `VOLUME ${v.args}: metamesh writes nothing but /tmp; a volume elsewhere suggests writes the read-only root forbids`);
  }
  const home = last.instructions.filter((i) => i.keyword === 'ENV').map((i) => /\bHOME=(\S+)/.exec(i.args)?.[1]).filter((h) => h !== undefined).at(-1);
  if (home === undefined || !(home === '/tmp' || home.startsWith('/tmp/'))) add('CF_READ_ONLY', last.line, 'set HOME under /tmp: with a read-only root file system it is the only writable place');
  const entry = last.instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1);
  if (!entry || !entry.args.startsWith('[')) add('CF_EXEC_FORM', entry?.line ?? last.line, 'ENTRYPOINT in exec form (["node", …]): in shell form a shell is PID 1 and SIGTERM never reaches metamesh, so it cannot drain');
  return findings;
}

/** Whether .dockerignore `patterns` leave `file` (a path relative to the context) out of the build context. */
export function ignored(patterns: readonly string[], file: string): boolean {
  let out = false;
  const parts = file.split('/');
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const p = (negate ? raw.slice(1) : raw).trim().replace(/^\/+/, '').replace(/\/+$/, '');
    if (p === '') continue;
    const re = globToRegExp(p);
    for (let n = 1; n <= parts.length; n++) {
      if (re.test(parts.slice(0, n).join('/'))) {
        out = !negate;
        break;
      }
    }
  }
  return out;
}

export function dockerignorePatterns(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The build-context sources of the COPY instructions (not --from), e.g. `src`, `package.json`. */
export function contextSources(text: string): string[] {
  const out: string[] = [];
  for (const s of parseContainerfile(text).stages) {
    for (const i of s.instructions) {
      if (i.keyword !== 'COPY' && i.keyword !== 'ADD') continue;
      if (/--from=/.test(i.args)) continue;
      const words = i.args.startsWith('[') ? (JSON.parse(i.args) as string[]) : i.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      out.push(...words.slice(0, -1).map((w) => w.replace(/^\.\//, '').replace(/\/$/, '')));
    }
  }
  return out;
}
