/**
 * Building deploy/Containerfile with Debian's buildah where no base image can be pulled: a Node.js
 * base image is assembled FROM scratch out of this machine's own node binary, npm, a shell and the
 * shared libraries they load (plus the CA bundle Node is told to trust, when one is set), laid out
 * like the official node images (/usr/local/bin/node, /usr/local/lib/node_modules/npm), and named
 * `localhost/metamesh-node-base:<node version>`; the unchanged Containerfile is then built on it
 * with `--build-arg NODE_IMAGE=…`. RUN steps use chroot isolation (no container runtime is
 * needed), storage is a throwaway vfs directory. Effects: runs buildah, ldd and npm.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class Buildah {
  readonly dir: string;

  constructor() {
    const r = spawnSync('buildah', ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error('buildah is needed to build the container image: apt-get install buildah (Debian 12 has 1.28)');
    if (process.getuid?.() !== 0) throw new Error('building the image with buildah\'s chroot isolation needs root here (no user namespaces are set up)');
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-buildah-'));
  }

  private global(): string[] {
    return ['--root', path.join(this.dir, 'root'), '--runroot', path.join(this.dir, 'run'), '--storage-driver', 'vfs'];
  }

  /** Runs `buildah <args>`; throws with its output when it fails; returns stdout. */
  run(args: readonly string[], cwd?: string): string {
    const r = spawnSync('buildah', [...this.global(), ...args], { encoding: 'utf8', cwd, maxBuffer: 256 * 1024 * 1024 });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`buildah ${args.slice(0, 3).join(' ')} … failed (${r.status}):\n${r.stdout.slice(-4000)}${r.stderr.slice(-4000)}`);
    return r.stdout;
  }

  /** `buildah <args>` as a child process, for commands that keep running (a server). */
  spawn(args: readonly string[]): ChildProcess {
    return spawn('buildah', [...this.global(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Removes the storage (containers and images included). */
  remove(): void {
    spawnSync('buildah', [...this.global(), 'rm', '--all'], { stdio: 'ignore' });
    spawnSync('buildah', [...this.global(), 'rmi', '--all', '--force'], { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The shared libraries `binary` loads, as ldd lists them. */
function libraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...out.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!).filter((l) => !l.includes('vdso'));
}

function copyInto(rootfs: string, file: string, as = file): void {
  const target = path.join(rootfs, as);
  mkdirSync(path.dirname(target), { recursive: true });
  copyFileSync(realpathSync(file), target);
  chmodSync(target, 0o755);
}

function copyTree(from: string, to: string): void {
  execFileSync('cp', ['-a', from, to]);
}

/** Which program provides `name` on this machine (its real path). */
function which(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${name} is not installed here`);
  return realpathSync(r.stdout.trim());
}

/**
 * Assembles the base image and returns its name. It holds node, npm and npx, `sh` (for RUN in
 * shell form), `env` (npm's scripts start with #!/usr/bin/env node) and `rm`, with their libraries.
 */
export function assembleNodeBase(b: Buildah): string {
  const version = process.versions.node;
  const rootfs = path.join(b.dir, 'base-rootfs');
  for (const d of ['usr/local/bin', 'usr/local/lib/node_modules', 'tmp', 'root', 'etc']) mkdirSync(path.join(rootfs, d), { recursive: true });
  chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  const binaries: Array<[string, string]> = [
    [process.execPath, '/usr/local/bin/node'],
    [which('sh'), '/bin/sh'],
    [which('env'), '/usr/bin/env'],
    [which('rm'), '/bin/rm'],
  ];
  for (const [from, to] of binaries) {
    copyInto(rootfs, from, to);
    for (const lib of libraries(from)) if (!existsSync(path.join(rootfs, lib))) copyInto(rootfs, lib);
  }
  const npmRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  copyTree(path.join(npmRoot, 'npm'), path.join(rootfs, 'usr/local/lib/node_modules/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(rootfs, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(rootfs, 'usr/local/bin/npx'));
  writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  const env = ['PATH=/usr/local/bin:/usr/bin:/bin'];
  // A machine whose registry traffic goes through a TLS-inspecting proxy trusts its CA this way;
  // the builds inside need the same trust to reach the registry.
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  if (ca && existsSync(ca)) {
    copyInto(rootfs, ca, '/etc/ssl/certs/metamesh-build-ca.crt');
    env.push('NODE_EXTRA_CA_CERTS=/etc/ssl/certs/metamesh-build-ca.crt');
  }
  const name = `localhost/metamesh-node-base:${version}`;
  const ctr = b.run(['from', 'scratch']).trim();
  b.run(['add', ctr, rootfs, '/']);
  b.run(['config', ...env.flatMap((e) => ['--env', e]), '--cmd', 'node', ctr]);
  b.run(['commit', '--rm', ctr, name]);
  rmSync(rootfs, { recursive: true, force: true });
  return name;
}

/** Builds deploy/Containerfile from the repository root on `base`; returns the image name. */
export function buildImage(b: Buildah, repoRoot: string, base: string, tag = 'localhost/metamesh:e2e'): string {
  b.run(['bud', '--isolation', 'chroot', '--pull-never', '--build-arg', `NODE_IMAGE=${base}`, '-f', 'deploy/Containerfile', '-t', tag, '.'], repoRoot);
  return tag;
}

/** The pids of the processes below `pid` (children, grandchildren …), from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}
