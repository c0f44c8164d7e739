/**
 * Real Apache Dubbo 3 Java providers for integration tests: the Maven project in
 * test/fixtures/dubbo-provider, built once with Maven from Central into a cache directory (never
 * into the repository tree), and provider JVMs started from it, each exporting demo.GreetingService
 * into a registry the test runs.
 *
 * Cache (`${XDG_CACHE_HOME:-~/.cache}/metamesh-test`): `m2/` is Maven's local repository, and
 * `dubbo-provider-<dubbo version>-<hash of the pom and sources>/` holds a finished build (`target/`
 * plus a `BUILT` marker), so a second run does not build again and a changed source builds anew.
 *
 * JVMs run with the flags of registry-facts N.3/N.4: a small serial-GC heap and C1 only (1.5 to 3 s
 * to ready on two cores), `dubbo.network.interface.ignored=.*` so Dubbo registers 127.0.0.1 (it
 * refuses 127.* as a bind or register host otherwise), the NetUtils warnings that setting causes
 * silenced, and a temporary user.home (Dubbo's and the Nacos client's caches and logs go there).
 *
 * A missing `mvn` or `java` fails the test with what to install; it never skips.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './zookeeper.js';

export const FIXTURE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/dubbo-provider');

/** The Dubbo version the fixture's pom builds against (its `dubbo.version` property). */
export const DUBBO_VERSION = /<dubbo\.version>([^<]+)<\/dubbo\.version>/.exec(readFileSync(path.join(FIXTURE_DIR, 'pom.xml'), 'utf8'))![1]!;

/** JVM flags of every provider (registry-facts N.3, N.4). */
export const PROVIDER_JVM_FLAGS: readonly string[] = [
  '-Xmx96m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Xss512k',
  '-XX:-UsePerfData',
  '-Ddubbo.network.interface.ignored=.*',
  '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
  '-Dorg.slf4j.simpleLogger.log.org.apache.dubbo.common.utils.NetUtils=error',
];

export function testCacheRoot(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'metamesh-test');
}

/** Every file of the fixture that the build reads, relative to it, sorted. */
function fixtureFiles(): string[] {
  const out: string[] = ['pom.xml'];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(FIXTURE_DIR, rel)).sort()) {
      const r = path.join(rel, name);
      if (statSync(path.join(FIXTURE_DIR, r)).isDirectory()) walk(r);
      else out.push(r);
    }
  };
  walk('src');
  return out;
}

/** A hash of the pom and the sources (names and contents), so any change builds anew. */
export function fixtureHash(): string {
  const h = createHash('sha256');
  for (const f of fixtureFiles()) h.update(`${f}\0`).update(readFileSync(path.join(FIXTURE_DIR, f))).update('\0');
  return h.digest('hex').slice(0, 16);
}

export function providerBuildDir(): string {
  return path.join(testCacheRoot(), `dubbo-provider-${DUBBO_VERSION}-${fixtureHash()}`);
}

/** The path of `cmd` on PATH, or undefined. */
function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir || '.', cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** Fails with what to install when Java 17+ is missing. */
function requireJava(): void {
  if (onPath('java') === undefined) {
    throw new Error('java is not installed: the Dubbo provider tests need a JDK 17 or newer (apt-get install -y maven, or openjdk-17-jdk-headless)');
  }
  const v = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const m = /version "(\d+)/.exec(`${v.stderr}${v.stdout}`);
  if (!m || Number(m[1]) < 17) throw new Error(`the Dubbo provider tests need Java 17 or newer; java -version says: ${`${v.stderr}`.split('\n')[0]}`);
}

export interface ProviderBuild {
  /** The build directory (its `target/` holds the classes and the runtime jars). */
  readonly dir: string;
  readonly classpath: string;
  /** How long Maven took, when this call built it; undefined when the build was cached. */
  readonly buildMs?: number;
}

const BUILT_MARKER = 'BUILT';

function finished(dir: string): ProviderBuild {
  return { dir, classpath: `${path.join(dir, 'target', 'classes')}${path.delimiter}${path.join(dir, 'target', 'lib', '*')}` };
}

let building: Promise<ProviderBuild> | undefined;

/**
 * The provider, built with `mvn -B -q package` unless a finished build for these sources is
 * cached. Maven runs in a copy of the fixture next to the cache entry, which is renamed into place
 * when the build succeeded (so a killed build never looks finished, and two builds do not clash).
 */
export function buildProvider(): Promise<ProviderBuild> {
  return (building ??= build().catch((e: unknown) => {
    building = undefined;
    throw e;
  }));
}

async function build(): Promise<ProviderBuild> {
  requireJava();
  const dir = providerBuildDir();
  if (existsSync(path.join(dir, BUILT_MARKER))) return finished(dir);
  if (onPath('mvn') === undefined) {
    throw new Error('mvn is not installed: the Dubbo provider tests build a Java provider with Maven (apt-get install -y maven openjdk-17-jdk-headless)');
  }
  if (onPath('javac') === undefined) {
    throw new Error('javac is not installed: the Dubbo provider tests compile a Java provider with a JDK 17 (apt-get install -y openjdk-17-jdk-headless)');
  }
  const root = testCacheRoot();
  mkdirSync(root, { recursive: true });
  const work = mkdtempSync(path.join(root, `dubbo-provider-build-`));
  try {
    for (const f of ['pom.xml', 'src']) cpSync(path.join(FIXTURE_DIR, f), path.join(work, f), { recursive: true });
    const started = Date.now();
    const args = ['-B', '-q', '-Dstyle.color=never', `-Dmaven.repo.local=${path.join(root, 'm2')}`, 'package'];
    const out = await run('mvn', args, work);
    if (out.code !== 0) {
      throw new Error(`mvn ${args.join(' ')} failed (exit ${out.code}) in ${work}; Maven fetches from Maven Central into ${path.join(root, 'm2')}:\n${out.output.slice(-6000)}`);
    }
    const buildMs = Date.now() - started;
    writeFileSync(path.join(work, BUILT_MARKER), `${new Date().toISOString()} ${buildMs} ms\n`);
    // Another process may have finished the same build meanwhile: then that one is used.
    if (!existsSync(path.join(dir, BUILT_MARKER))) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(work, dir);
    }
    // Builds of older sources (about 50 MB each) are of no more use.
    for (const name of readdirSync(root)) {
      const other = path.join(root, name);
      if (name.startsWith('dubbo-provider-') && !name.startsWith('dubbo-provider-build-') && other !== dir && existsSync(path.join(other, BUILT_MARKER))) rmSync(other, { recursive: true, force: true });
    }
    return { ...finished(dir), buildMs };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function run(cmd: string, args: readonly string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

export type RegisterMode = 'interface' | 'instance' | 'all';

export interface ProviderOptions {
  /** The Dubbo registry URL, e.g. `zookeeper://127.0.0.1:2181?session=4000` or `nacos://127.0.0.1:8848`. */
  readonly registry: string;
  readonly app: string;
  readonly mode: RegisterMode;
  /** `dubbo` (default) or `tri`. */
  readonly protocol?: 'dubbo' | 'tri';
  /** A free port when not given. */
  readonly port?: number;
  readonly group?: string;
  readonly version?: string;
  /** Not set (Dubbo's default, `local`) unless given. */
  readonly metadataType?: 'local' | 'remote';
}

/** How long a provider may take to print its readiness line: minutes, for a loaded machine. */
const READY_DEADLINE_MS = 120_000;
/** How long SIGTERM may take before SIGKILL. */
const STOP_DEADLINE_MS = 20_000;

const running = new Set<ChildProcess>();
// Never leave a JVM behind, whatever way the test process ends.
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export class DubboProvider {
  private out = '';
  /** Standard output alone, where the provider prints its PROVIDER_* lines. */
  private stdout = '';
  private exited: Promise<void>;
  /** The `PROVIDER_URL` lines: every URL the provider exported. */
  readonly urls: string[] = [];
  /** Milliseconds from spawn to the readiness line. */
  startMs = 0;

  private constructor(
    private readonly child: ChildProcess,
    readonly options: ProviderOptions & { readonly port: number },
    home: string,
  ) {
    const take = (b: Buffer) => {
      this.out += b.toString();
      if (this.out.length > 200_000) this.out = this.out.slice(-100_000);
    };
    child.stdout!.on('data', (b: Buffer) => {
      if (this.stdout.length < 100_000) this.stdout += b.toString();
      take(b);
    });
    child.stderr!.on('data', take);
    running.add(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        running.delete(child);
        rmSync(home, { recursive: true, force: true });
        resolve();
      }),
    );
  }

  get port(): number {
    return this.options.port;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Everything it printed so far (standard output and error together). */
  output(): string {
    return this.out;
  }

  get exitCode(): number | null {
    return this.child.exitCode;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts a provider JVM and waits for its readiness line; fails with its output otherwise. */
  static async start(build: ProviderBuild, options: ProviderOptions): Promise<DubboProvider> {
    const port = options.port ?? (await freePort());
    const home = mkdtempSync(path.join(os.tmpdir(), 'mm-dubbo-home-'));
    const settings: Record<string, string | undefined> = {
      registry: options.registry,
      port: String(port),
      app: options.app,
      mode: options.mode,
      protocol: options.protocol ?? 'dubbo',
      group: options.group,
      version: options.version,
      metadataType: options.metadataType,
    };
    const args = [
      ...PROVIDER_JVM_FLAGS,
      `-Duser.home=${home}`,
      `-Djava.io.tmpdir=${home}`,
      '-cp',
      build.classpath,
      'demo.Provider',
      ...Object.entries(settings).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`),
    ];
    const started = Date.now();
    const child = spawn('java', args, { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new DubboProvider(child, { ...options, port }, home);
    await p.ready(started);
    return p;
  }

  private ready(started: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const what = `Dubbo provider ${this.options.app} (${this.options.mode}, ${this.options.protocol ?? 'dubbo'}:${this.port})`;
      const check = () => {
        if (!/^PROVIDER_READY .*\n/m.test(this.stdout)) return;
        done();
        this.startMs = Date.now() - started;
        for (const line of this.stdout.split('\n')) if (line.startsWith('PROVIDER_URL ')) this.urls.push(line.slice('PROVIDER_URL '.length).trim());
        resolve();
      };
      const onExit = (code: number | null, signal: string | null) => {
        done();
        reject(new Error(`${what} exited before it was ready (${signal ?? `exit ${code}`}):\n${this.out.slice(-8000)}`));
      };
      const onError = (e: Error) => {
        done();
        reject(new Error(`cannot run java for ${what} (apt-get install -y maven brings a JDK): ${e.message}`));
      };
      const timer = setTimeout(() => {
        done();
        this.child.kill('SIGKILL');
        reject(new Error(`${what} printed no PROVIDER_READY within ${READY_DEADLINE_MS / 1000} s:\n${this.out.slice(-8000)}`));
      }, READY_DEADLINE_MS);
      const done = () => {
        clearTimeout(timer);
        this.child.stdout!.off('data', check);
        this.child.off('exit', onExit);
        this.child.off('error', onError);
      };
      this.child.stdout!.on('data', check);
      this.child.once('exit', onExit);
      this.child.once('error', onError);
      check();
    });
  }

  /**
   * A graceful stop: SIGTERM (Dubbo deregisters, then the provider exits with 0), SIGKILL if it is
   * still running after the deadline. Resolves with its exit code (null when it had to be killed).
   */
  async stop(): Promise<number | null> {
    if (!this.alive) {
      await this.exited;
      return this.child.exitCode;
    }
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_DEADLINE_MS);
    await this.exited;
    clearTimeout(timer);
    return this.child.exitCode;
  }

  /** A crash: SIGKILL, no deregistration (its ephemeral registrations live until its session ends). */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Starts several providers at once; if any fails, the others are killed and the first error thrown. */
export async function startProviders<const T extends readonly ProviderOptions[]>(build: ProviderBuild, list: T): Promise<{ -readonly [K in keyof T]: DubboProvider }> {
  // Ports are chosen first, so that two providers starting at once cannot pick the same one.
  const ports: number[] = [];
  for (const o of list) {
    let p = o.port ?? (await freePort());
    while (ports.includes(p)) p = await freePort();
    ports.push(p);
  }
  const results = await Promise.allSettled(list.map((o, i) => DubboProvider.start(build, { ...o, port: ports[i]! })));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.kill() : undefined)));
    throw failed.reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<DubboProvider>).value) as { -readonly [K in keyof T]: DubboProvider };
}
