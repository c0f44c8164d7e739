/**
 * A real Nacos server for integration tests: rnacos 0.8.8 (crates.io, "Nacos server re-implemented
 * in Rust"), which serves the Nacos v1 HTTP Open API and the v2 gRPC protocol. No Nacos server is
 * published on Maven Central, so rnacos is the Nacos server a test machine can build. It runs on
 * loopback, on free ports (HTTP P, gRPC P+1000, console P+2000: rnacos derives them that way), in
 * an empty temporary directory (it reads a `.env` from its working directory).
 *
 * A missing binary fails the test with the command that builds it; it never skips.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const RNACOS_VERSION = '0.8.8';

/** How many times a start whose config store is dead (see launch) is replaced before giving up. */
const MAX_STARTS = 12;

export function rnacosRoot(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'metamesh-test', `rnacos-${RNACOS_VERSION}`);
}

/** The binary, or an Error naming how to build it. */
export function rnacosBinary(): string {
  const bin = path.join(rnacosRoot(), 'bin', 'rnacos');
  if (!existsSync(bin)) {
    throw new Error(`rnacos ${RNACOS_VERSION} (the Nacos server the tests run) is not built at ${bin}. Build it with: cargo install --locked rnacos@${RNACOS_VERSION} --root ${rnacosRoot()} (or run .ci/run)`);
  }
  return bin;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port P with P, P+1000 and P+2000 free on loopback. */
async function freePortTriple(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = 20000 + Math.floor(Math.random() * 20000);
    if ((await portFree(p)) && (await portFree(p + 1000)) && (await portFree(p + 2000))) return p;
  }
  throw new Error('no free port triple (P, P+1000, P+2000) found on 127.0.0.1');
}

async function waitFor(what: string, deadlineMs: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** A Dubbo provider registration as Dubbo writes it (its metadata verbatim or adapted). */
export interface Registration {
  readonly serviceName: string;
  readonly ip: string;
  readonly port: number;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly namespace?: string;
  readonly group?: string;
  readonly weight?: number;
  readonly healthy?: boolean;
  readonly enabled?: boolean;
  /** Ephemeral instances need heartbeats (none are sent here: the server marks them unhealthy). */
  readonly ephemeral?: boolean;
}

export class Rnacos {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  /** Starts a server and waits until it serves, config store included (see launch). */
  static async start(): Promise<Rnacos> {
    const bin = rnacosBinary();
    const server = new Rnacos(await freePortTriple(), mkdtempSync(path.join(os.tmpdir(), 'mm-rnacos-')));
    await server.launch(bin, true);
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Starts the process and waits until it serves: HTTP and gRPC answer and its config store takes
   * a write. rnacos 0.8.8 has a start-up race: on about one start in three here (more under
   * load), its raft apply thread panics (`raftapply.rs:421`, an unwrap on a manager not yet
   * injected) before the HTTP port opens; naming still works, but no config write is ever applied again, though each answers
   * `true` (under load, four such starts in a row were seen). Such a start is detected by a probe
   * write and replaced, up to MAX_STARTS times.
   */
  private async launch(bin: string, fresh: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.spawnOnce(bin);
      if (await this.configStoreWorks()) return;
      const output = this.output;
      await this.stop();
      // A first start begins again from nothing; a restart keeps the data it is meant to keep.
      if (fresh) rmSync(path.join(this.dir, 'data'), { recursive: true, force: true });
      if (attempt === MAX_STARTS) throw new Error(`rnacos never applied a config write in ${attempt} starts; its output: ${output}`);
    }
  }

  private async spawnOnce(bin: string): Promise<void> {
    this.output = '';
    const child = spawn(bin, [], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        RNACOS_SDK_HOST: '127.0.0.1',
        RNACOS_CONSOLE_HOST: '127.0.0.1',
        RNACOS_HTTP_PORT: String(this.port),
        RNACOS_GRPC_PORT: String(this.port + 1000),
        RNACOS_HTTP_CONSOLE_PORT: String(this.port + 2000),
        RNACOS_DATA_DIR: path.join(this.dir, 'data'),
        RNACOS_RAFT_NODE_ADDR: `127.0.0.1:${this.port + 1000}`,
        // An ephemeral v1 instance without heartbeats turns unhealthy 4 s after its last one (1 s +
        // rnacos's 3 s margin) and is never removed during a test; persistent instances are not
        // probed (rnacos would TCP-probe them every 60 s and the test addresses listen nowhere).
        RNACOS_NAMING_HEALTH_TIMEOUT_SECOND: '1',
        RNACOS_NAMING_INSTANCE_TIMEOUT_SECOND: '3600',
        RNACOS_NAMING_PERPETUAL_INSTANCE_PROBE_INTERVAL_SECOND: '0',
        RUST_LOG: 'warn',
      },
    });
    this.child = child;
    child.stdout!.on('data', (b: Buffer) => (this.output = (this.output + b.toString()).slice(-4000)));
    child.stderr!.on('data', (b: Buffer) => (this.output = (this.output + b.toString()).slice(-4000)));
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitFor(`rnacos on 127.0.0.1:${this.port}`, 30000, async () => {
      if (exited) throw new Error(`rnacos exited at start-up: ${this.output}`);
      const ok = await fetch(`${this.url}/nacos/v1/ns/service/list?pageNo=1&pageSize=1`).then((r) => r.ok, () => false);
      return ok && (await tcpOpen(this.port + 1000));
    });
  }

  /** Writes a probe config and reads it back; false when the write is never applied. */
  private async configStoreWorks(): Promise<boolean> {
    const q = new URLSearchParams({ dataId: 'metamesh-harness-probe', group: 'metamesh-harness' });
    await this.call('POST', '/v1/cs/configs', { ...Object.fromEntries(q), content: 'ok' });
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      const got = await fetch(`${this.url}/nacos/v1/cs/configs?${q.toString()}`).then((r) => (r.ok ? r.text() : ''), () => '');
      if (got === 'ok') return true;
      if (this.output.includes('panicked')) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  /** Kills the server (SIGKILL: a crash, not a goodbye) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts it again on the same ports and data directory. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch(rnacosBinary(), false);
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async call(method: string, p: string, query: Record<string, string>): Promise<string> {
    const res = await fetch(`${this.url}/nacos${p}?${new URLSearchParams(query).toString()}`, { method });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p} answered HTTP ${res.status}: ${text}`);
    return text;
  }

  private static instanceQuery(r: Registration): Record<string, string> {
    return {
      serviceName: r.serviceName,
      groupName: r.group ?? 'DEFAULT_GROUP',
      namespaceId: r.namespace ?? 'public',
      ip: r.ip,
      port: String(r.port),
      // Persistent by default: a v1 registration without heartbeats would otherwise turn unhealthy.
      ephemeral: String(r.ephemeral ?? false),
      weight: String(r.weight ?? 1),
      healthy: String(r.healthy ?? true),
      enabled: String(r.enabled ?? true),
      metadata: JSON.stringify(r.metadata ?? {}),
    };
  }

  /** Registers (or re-registers, changing it) an instance through the v1 Open API. */
  async register(r: Registration): Promise<void> {
    await this.call('POST', '/v1/ns/instance', Rnacos.instanceQuery(r));
  }

  /** Updates an instance in place (health, enabled, weight, metadata). */
  async update(r: Registration): Promise<void> {
    await this.call('PUT', '/v1/ns/instance', Rnacos.instanceQuery(r));
  }

  async deregister(r: Registration): Promise<void> {
    const q = Rnacos.instanceQuery(r);
    await this.call('DELETE', '/v1/ns/instance', { serviceName: q.serviceName!, groupName: q.groupName!, namespaceId: q.namespaceId!, ip: q.ip!, port: q.port!, ephemeral: q.ephemeral! });
  }

  /** Publishes a config (a Dubbo mapping: dataId = interface, group `mapping`, content `app1,app2`). */
  async publishConfig(dataId: string, group: string, content: string, namespace = 'public'): Promise<void> {
    const tenant = namespace === 'public' ? '' : namespace;
    // rnacos answers `true` before it applies a write (through its raft log): write until it reads back.
    await waitFor(`config ${dataId}/${group} readable`, 15_000, async () => {
      await this.call('POST', '/v1/cs/configs', { dataId, group, content, tenant });
      for (let i = 0; i < 10; i++) {
        const got = await fetch(`${this.url}/nacos/v1/cs/configs?${new URLSearchParams({ dataId, group, tenant }).toString()}`).then((r) => (r.ok ? r.text() : ''));
        if (got === content) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    });
  }

  /** The raw instance list, as the watcher reads it. */
  async instances(serviceName: string, group = 'DEFAULT_GROUP', namespace = 'public'): Promise<unknown> {
    return JSON.parse(await this.call('GET', '/v1/ns/instance/list', { serviceName: `${group}@@${serviceName}`, namespaceId: namespace, healthyOnly: 'false' }));
  }
}

/** The interface-level metadata a Dubbo 3.3.6 provider (app prov-all) wrote for demo.GreetingService:1.0.0:g1. */
export function dubboInterfaceMetadata(application: string, protocol = 'dubbo'): Record<string, string> {
  return {
    timestamp: '1795974913788', release: '3.3.6', revision: '1.0.0', category: 'providers', protocol, dubbo: '2.0.2',
    interface: 'demo.GreetingService', side: 'provider', 'service-name-mapping': 'true', version: '1.0.0', application,
    generic: 'false', 'prefer.serialization': 'hessian2,fastjson2', path: 'demo.GreetingService', deprecated: 'false',
    methods: 'greet', dynamic: 'true', group: 'g1',
  };
}

/** The application-level instance metadata the same provider wrote for its service `prov-all`. */
export function dubboApplicationMetadata(port: number): Record<string, string> {
  return {
    'dubbo.metadata-service.url-params': `{"prefer.serialization":"hessian2,fastjson2","version":"1.0.0","dubbo":"2.0.2","release":"3.3.6","side":"provider","port":"${port}","protocol":"dubbo"}`,
    'dubbo.endpoints': `[{"port":${port},"protocol":"dubbo"}]`,
    'dubbo.metadata.revision': '4205fa65ccf4a58e7992bc05e34ba438',
    'dubbo.metadata.storage-type': 'local',
    'meta-v': '1.0.0',
    timestamp: '1795974900215',
  };
}
