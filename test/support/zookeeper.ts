/**
 * A real ZooKeeper server for a test, started from the Debian `zookeeper` package on loopback with
 * a free port and a temporary data directory; plus a writer client to build node trees. A missing
 * installation fails the test with what to install (never a skip).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zookeeper from 'node-zookeeper-client';
import type { Client } from 'node-zookeeper-client';

const JAVA_DIR = '/usr/share/java';
/** The server jar and what it needs at run time (logging goes to slf4j-nop). */
const JARS = [
  'zookeeper.jar', 'zookeeper-jute.jar', 'slf4j-api.jar', 'slf4j-nop.jar', 'netty-handler.jar', 'netty-common.jar',
  'netty-buffer.jar', 'netty-transport.jar', 'netty-codec.jar', 'netty-resolver.jar', 'netty-transport-native-epoll.jar',
  'netty-transport-native-unix-common.jar', 'metrics-core.jar', 'snappy-java.jar', 'commons-io.jar', 'commons-cli.jar',
];

export interface ZkServerOptions {
  /** Extra JVM flags, e.g. `-Djute.maxbuffer=…` to let the server hold larger nodes. */
  readonly jvmFlags?: readonly string[];
  /** Use this port instead of a free one (to start a server where a client already points). */
  readonly port?: number;
}

export class ZkServer {
  private proc: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly options: ZkServerOptions,
  ) {}

  /** `127.0.0.1:<port>`, the connect string. */
  get connect(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Writes the configuration for a free port (or `options.port`) without starting the server. */
  static async create(options: ZkServerOptions = {}): Promise<ZkServer> {
    const missing = JARS.filter((j) => !existsSync(path.join(JAVA_DIR, j)));
    if (missing.length > 0) {
      throw new Error(`ZooKeeper is not installed (missing ${missing.join(', ')} in ${JAVA_DIR}): apt-get install zookeeper`);
    }
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(path.join(os.tmpdir(), 'metamesh-zk-'));
    writeFileSync(
      path.join(dir, 'zoo.cfg'),
      [
        'tickTime=500',
        `dataDir=${path.join(dir, 'data')}`,
        `clientPort=${port}`,
        'clientPortAddress=127.0.0.1',
        'minSessionTimeout=1000',
        'maxClientCnxns=0',
        'admin.enableServer=false',
        '4lw.commands.whitelist=ruok,srvr,mntr,wchc,wchs,dump',
        '',
      ].join('\n'),
    );
    return new ZkServer(port, dir, options);
  }

  /** Creates and starts a server; ready when it answers `ruok`. */
  static async start(options: ZkServerOptions = {}): Promise<ZkServer> {
    const s = await ZkServer.create(options);
    await s.start();
    return s;
  }

  async start(): Promise<void> {
    const cp = JARS.map((j) => path.join(JAVA_DIR, j)).join(':');
    const proc = spawn(
      'java',
      ['-Xmx256m', ...(this.options.jvmFlags ?? []), '-cp', cp, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', path.join(this.dir, 'zoo.cfg')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const spawnError = new Promise<never>((_, reject) => proc.once('error', (e) => reject(new Error(`cannot run java for ZooKeeper (apt-get install zookeeper): ${e.message}`))));
    this.proc = proc;
    await Promise.race([spawnError, until(async () => (await this.fourLetter('ruok').catch(() => '')) === 'imok', 20_000, () => `ZooKeeper did not start: ${stderr}`)]);
  }

  /** Kills the server (SIGKILL: no clean session close, as in a crash) and waits for the exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGCONT');
    p.kill('SIGKILL');
    await exited;
  }

  /** Stops and starts again on the same port and data: sessions within their timeout survive. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Freezes the server (SIGSTOP): clients see no answers, sessions expire past their timeout. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Sends a four-letter command (ruok, wchc, wchs, mntr…) and returns the answer. */
  fourLetter(cmd: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = net.connect(this.port, '127.0.0.1', () => s.end(cmd));
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('end', () => resolve(out));
      s.on('error', reject);
      s.setTimeout(2000, () => s.destroy(new Error(`no answer to ${cmd}`)));
    });
  }

  /** Whether the server still holds the session `id` (the `dump` four-letter word lists live sessions). */
  async hasSession(id: Buffer): Promise<boolean> {
    const hex = `0x${id.toString('hex').replace(/^0+(?=.)/, '')}`;
    return (await this.fourLetter('dump')).split(/\s+/).includes(hex);
  }

  /**
   * The number of watches the server holds, children watches included (`mntr`'s zk_watch_count;
   * `wchs` and `wchc` count only data and existence watches).
   */
  async watchCount(): Promise<number> {
    const m = /^zk_watch_count\s+(\d+)$/m.exec(await this.fourLetter('mntr'));
    if (!m) throw new Error('mntr gave no zk_watch_count');
    return Number(m[1]);
  }
}

/** A writer session: builds trees and holds ephemeral nodes until it is closed. */
export class ZkWriter {
  private constructor(readonly client: Client) {}

  /**
   * A new session, tried again with a new client when the server answers the session request as
   * expired: a loaded server can expire a new session before it finished opening it (the answer
   * then has timeout 0, and node-zookeeper-client gives up on that client for good). Gives up
   * after 30 s, cutting the client (its close() only queues a request, so a socket whose session
   * never started would keep the test file alive until the runner's timeout).
   */
  static async connect(connect: string, digest?: string): Promise<ZkWriter> {
    const deadline = Date.now() + 30_000;
    let expired = 0;
    while (Date.now() < deadline) {
      const client = zookeeper.createClient(connect, { sessionTimeout: 4000, spinDelay: 200 });
      if (digest) client.addAuthInfo('digest', Buffer.from(digest));
      const outcome = await new Promise<'connected' | 'expired' | 'timeout'>((resolve) => {
        const t = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
        client.once('connected', () => (clearTimeout(t), resolve('connected')));
        client.once('expired', () => (clearTimeout(t), resolve('expired')));
        client.connect();
      });
      if (outcome === 'connected') return new ZkWriter(client);
      client.close();
      (client as unknown as { connectionManager?: { socket?: { destroy(): void } } }).connectionManager?.socket?.destroy();
      if (outcome === 'timeout') break;
      expired++;
    }
    throw new Error(`cannot connect a writer to ZooKeeper at ${connect} within 30 s (${expired} session(s) expired while opening)`);
  }

  /** Creates `path` (and missing parents, persistent) with `data`; ephemeral if asked. */
  async create(p: string, data = '', ephemeral = false, acl?: zookeeper.ACL[]): Promise<void> {
    const parent = p.slice(0, p.lastIndexOf('/'));
    if (parent) await this.mkdirp(parent);
    await cb<string>((done) =>
      this.client.create(p, Buffer.from(data), acl ?? [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('world', 'anyone'))], ephemeral ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT, done),
    );
  }

  /**
   * Creates an EPHEMERAL_SEQUENTIAL node named `prefix` plus ZooKeeper's ten-digit sequence number
   * (`…/member_` → `…/member_0000000003`, as a ServerSet announcer does); returns its path.
   */
  async createSequential(prefix: string, data: string | Buffer): Promise<string> {
    await this.mkdirp(prefix.slice(0, prefix.lastIndexOf('/')));
    return cb<string>((done) =>
      this.client.create(prefix, Buffer.from(data), [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('world', 'anyone'))], zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, done),
    );
  }

  mkdirp(p: string): Promise<string> {
    return cb<string>((done) => this.client.mkdirp(p, done));
  }

  setData(p: string, data: string | Buffer): Promise<unknown> {
    return cb((done) => this.client.setData(p, Buffer.from(data), done));
  }

  remove(p: string): Promise<void> {
    return cb<void>((done) => this.client.remove(p, (e) => done(e, undefined)));
  }

  /** The children of `p`, sorted; none when it does not exist. */
  async children(p: string): Promise<string[]> {
    try {
      return (await cb<string[]>((done) => this.client.getChildren(p, done))).sort();
    } catch (e) {
      if (/NO_NODE/.test(String(e))) return [];
      throw e;
    }
  }

  /** The data of `p` as text; undefined when it does not exist. */
  async data(p: string): Promise<string | undefined> {
    try {
      return (await cb<Buffer | undefined>((done) => this.client.getData(p, (e, d) => done(e, d))))?.toString() ?? '';
    } catch (e) {
      if (/NO_NODE/.test(String(e))) return undefined;
      throw e;
    }
  }

  /** Creates many children of `parent` (which must exist), in transactions of `batch`. */
  async createMany(parent: string, names: readonly string[], batch = 2000): Promise<void> {
    for (let i = 0; i < names.length; i += batch) {
      const t = this.client.transaction();
      for (const n of names.slice(i, i + batch)) t.create(`${parent}/${n}`);
      await cb((done) => t.commit(done));
    }
  }

  close(): void {
    this.client.close();
  }
}

/** The ACL Dubbo 3 gives nodes when its registry has credentials: only the authenticated creator. */
export const CREATOR_ONLY = [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('auth', ''))];

function cb<T>(start: (done: (e: Error | zookeeper.Exception | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((e, v) => (e ? reject(e instanceof Error ? e : new Error(String(e))) : resolve(v))));
}

/** Polls `check` until it holds, failing with `why()` after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, why: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
