/**
 * The ZooKeeper watcher: mirrors the configured roots into a ZkTree (node path → data) and reports
 * a new snapshot, debounced, whenever it changes, with a RegistryStatus beside it. Effectful; the
 * parsers that read the tree are pure (parse*.ts).
 *
 * Contracts:
 * - Watches are one-shot: every event re-reads the node it names, which re-arms the watch.
 * - Connection loss keeps the tree (state `disconnected`, nothing removed); on reconnection the
 *   whole tree is re-read, since events may have been missed.
 * - Session expiry makes a new client and re-reads everything; until that read completes the last
 *   snapshot stays the one reported (state `expired`), so nothing known is dropped meanwhile.
 * - A snapshot is only reported once a complete read of every root succeeded; after that, each
 *   change is reported `debounceMs` after the first change of a burst.
 * - Which nodes are read and watched is policy.ts; how much is read is limits.ts. The providers'
 *   service definitions are read without watches, when definition-sync.ts says. A snapshot is a
 *   sorted copy of the tree (`onSnapshot`), or the mirror itself, for the call only (`onNodes`).
 */
import zookeeper from 'node-zookeeper-client';
import type { Client, Event } from 'node-zookeeper-client';
import { normalizeDiagnostics } from '../../model/diagnostics.js';
import type { RegistryState, RegistryStatus } from '../../model/registry.js';
import { DefinitionSync } from './definition-sync.js';
import { DEFAULT_ZK_LIMITS, type ZkLimits } from './limits.js';
import { ZkMirror } from './mirror.js';
import { REAL_TIMERS, ZkOps, type Timers } from './ops.js';
import { needsExistenceWatch, readNode, type NodeReadContext } from './node-read.js';
import { relative, rootOf } from './paths.js';
import { nextStatus } from './status.js';
import type { ZkRoot } from './policy.js';
import type { ZkWatch, ZkWatchOptions } from './watch-options.js';

export type { ZkSnapshot, ZkWatch, ZkWatchOptions } from './watch-options.js';

export function watchZooKeeper(options: ZkWatchOptions): ZkWatch {
  return new ZkWatcher(options).start();
}

class ZkWatcher implements ZkWatch {
  private readonly timers: Timers;
  private readonly limits: ZkLimits;
  private readonly mirror = new ZkMirror();
  private current: RegistryStatus;
  /** Bumped for every client; events and reads of an older client are ignored. */
  private generation = 0;
  private client: Client | undefined;
  private ops: ZkOps | undefined;
  private connected = false;
  private syncing = false;
  private syncAgain = false;
  private synced = false;
  private closed = false;
  private emitTimer: unknown;
  private retryTimer: unknown;
  private connectTimer: unknown;
  private freshTimer: unknown;
  private emittedVersion = -1;
  private readonly watchers = new Map<number, (e: Event) => void>();
  private readonly definitions: DefinitionSync;
  private readonly nodeContext: NodeReadContext;

  constructor(private readonly o: ZkWatchOptions) {
    this.timers = o.timers ?? REAL_TIMERS;
    this.limits = o.limits ?? DEFAULT_ZK_LIMITS;
    this.current = { registry: o.registry, state: 'connecting' };
    this.definitions = new DefinitionSync({
      registry: o.registry,
      roots: o.address.roots,
      mirror: this.mirror,
      limits: this.limits,
      timers: this.timers,
      now: o.now ?? Date.now,
      session: () => (this.ops && this.connected ? { ops: this.ops, gen: this.generation } : undefined),
      generation: () => this.generation,
      changed: () => this.changed(),
      settleMs: o.definitionSettleMs ?? 1000,
      settleMaxMs: o.definitionSettleMaxMs ?? 60_000,
      rescanMs: o.definitionRescanMs ?? 300_000,
    });
    this.nodeContext = {
      registry: o.registry,
      limits: this.limits,
      mirror: this.mirror,
      definitions: this.definitions,
      ops: () => this.ops!,
      generation: () => this.generation,
      watcherFor: (gen) => this.watcherFor(gen),
    };
  }

  status(): RegistryStatus {
    return this.current;
  }

  session(): { readonly id: Buffer; readonly password: Buffer } | undefined {
    if (!this.client || !this.connected) return undefined;
    return { id: this.client.getSessionId(), password: this.client.getSessionPassword() };
  }

  start(): this {
    this.o.onStatus?.(this.current);
    this.newClient();
    return this;
  }

  close(): void {
    this.closed = true;
    this.generation++;
    this.definitions.close();
    for (const t of [this.emitTimer, this.retryTimer, this.connectTimer, this.freshTimer]) if (t !== undefined) this.timers.clearTimeout(t);
    this.client?.close();
  }

  private newClient(): void {
    const gen = ++this.generation;
    this.client?.close();
    const client = zookeeper.createClient(this.o.address.connect, {
      sessionTimeout: this.o.sessionTimeoutMs ?? 30_000,
      spinDelay: 500,
      retries: 0,
    });
    if (this.o.address.digest) client.addAuthInfo('digest', Buffer.from(this.o.address.digest));
    this.client = client;
    this.connected = false;
    this.ops = new ZkOps(client, { concurrency: this.o.concurrency ?? 128, timeoutMs: this.o.readTimeoutMs ?? 10_000, timers: this.timers });
    client.on('state', (s) => {
      if (gen === this.generation) this.onState(s);
    });
    this.armConnectTimer(gen);
    this.armFreshTimer(gen);
    client.connect();
  }

  /**
   * A client that stays unconnected this long is replaced by a new one (a new session, read in
   * full like after an expiry). The client library has no deadline on the handshake of a
   * reconnection: a server that accepts the connection but does not answer (starting, overloaded)
   * would otherwise leave it waiting for good. Past the session timeout the old session is lost
   * anyway, unless the server was down all along.
   */
  private armFreshTimer(gen: number): void {
    if (this.freshTimer !== undefined) this.timers.clearTimeout(this.freshTimer);
    this.freshTimer = this.timers.setTimeout(() => {
      this.freshTimer = undefined;
      if (gen === this.generation && !this.connected && !this.closed) this.newClient();
    }, this.o.freshClientMs ?? 2 * (this.o.sessionTimeoutMs ?? 30_000));
  }

  /**
   * `failing` after connectTimeoutMs without a first connection; the client keeps trying meanwhile.
   * A connection lost later stays `disconnected` (or `expired`): that is what the outage policy needs.
   */
  private armConnectTimer(gen: number): void {
    if (this.connectTimer !== undefined) this.timers.clearTimeout(this.connectTimer);
    this.connectTimer = this.timers.setTimeout(() => {
      this.connectTimer = undefined;
      if (gen === this.generation && !this.connected && this.current.state === 'connecting') {
        this.setStatus('failing', `Cannot connect to ZooKeeper at ${this.o.address.connect}; still trying.`);
      }
    }, this.o.connectTimeoutMs ?? 10_000);
  }

  private onState(s: zookeeper.State): void {
    const S = zookeeper.State;
    if (s === S.SYNC_CONNECTED || s === S.CONNECTED_READ_ONLY) {
      this.connected = true;
      for (const t of [this.connectTimer, this.freshTimer]) if (t !== undefined) this.timers.clearTimeout(t);
      this.connectTimer = this.freshTimer = undefined;
      // Watches were re-sent by the client, but events can be missed while away: read it all again.
      void this.fullSync();
    } else if (s === S.DISCONNECTED) {
      this.connected = false;
      if (this.current.state !== 'expired') this.setStatus('disconnected', `Lost the connection to ZooKeeper at ${this.o.address.connect}; keeping what was read.`);
      this.armFreshTimer(this.generation);
    } else if (s === S.EXPIRED) {
      this.connected = false;
      this.setStatus('expired', 'The ZooKeeper session expired; reading everything again in a new session.');
      this.newClient();
    } else if (s === S.AUTH_FAILED) {
      this.connected = false;
      this.setStatus('failing', `ZooKeeper at ${this.o.address.connect} refused the credentials; fix the user and password in the registry address.`);
    }
  }

  /** Reads every root, re-arming every watch; reports the snapshot once all of it was read. */
  private async fullSync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    const gen = this.generation;
    this.syncing = true;
    try {
      await Promise.all(this.o.address.roots.map((r) => this.read(gen, r, [], true)));
      // The service definitions, which have no watches: read for every mapped interface, before reporting.
      if (gen === this.generation) await this.definitions.refreshAll();
      if (gen !== this.generation) return;
      this.synced = true;
      this.setStatus('synced', undefined, (this.o.now ?? Date.now)());
      this.emit();
    } catch (e) {
      if (gen === this.generation) this.readFailed(e);
    } finally {
      this.syncing = false;
      if (this.syncAgain && !this.closed) {
        this.syncAgain = false;
        void this.fullSync();
      }
    }
  }

  /** A read failed (timeout, connection loss): retry the whole tree while connected. */
  private readFailed(e: unknown): void {
    if (this.closed || !this.connected) return; // a reconnection reads everything again
    this.setStatus('failing', `Reading ZooKeeper at ${this.o.address.connect} failed: ${e instanceof Error ? e.message : String(e)}; retrying.`);
    if (this.retryTimer !== undefined) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      void this.fullSync();
    }, this.o.retryMs ?? 1000);
  }

  private onEvent(gen: number, event: Event): void {
    if (gen !== this.generation || this.closed) return;
    const path = event.getPath();
    const root = rootOf(this.o.address.roots, path);
    if (!root) return;
    const segments = relative(root.path, path);
    if (event.getType() === zookeeper.Event.NODE_DELETED) {
      this.mirror.drop(path);
      this.changed();
      // A node without a watched parent gets an existence watch to see it come back.
      if (!needsExistenceWatch(root, segments)) return;
    }
    this.read(gen, root, segments, false).then(
      () => this.changed(),
      (e) => {
        if (gen === this.generation) this.readFailed(e);
      },
    );
  }

  private read(gen: number, root: ZkRoot, segments: readonly string[], full: boolean): Promise<void> {
    return readNode(this.nodeContext, gen, root, segments, full);
  }

  /** One watcher function per client: the client keeps a function once per path and kind. */
  private watcherFor(gen: number): (e: Event) => void {
    let w = this.watchers.get(gen);
    if (!w) {
      this.watchers.clear();
      w = (e: Event) => this.onEvent(gen, e);
      this.watchers.set(gen, w);
    }
    return w;
  }

  /** Schedules a snapshot for a change, unless a full read is under way (it reports at its end). */
  private changed(): void {
    if (!this.synced || this.syncing || this.closed || this.emitTimer !== undefined) return;
    this.emitTimer = this.timers.setTimeout(() => {
      this.emitTimer = undefined;
      if (this.syncing) return;
      this.emit();
    }, this.o.debounceMs ?? 100);
  }

  private emit(): void {
    if (this.closed || this.mirror.version === this.emittedVersion) return;
    this.emittedVersion = this.mirror.version;
    const diagnostics = normalizeDiagnostics(this.mirror.diagnostics());
    if (this.o.onSnapshot) this.o.onSnapshot({ tree: this.mirror.tree(), diagnostics }); // a copy: only for who keeps it
    this.o.onNodes?.(this.mirror, diagnostics, this.mirror.takeChanges());
  }

  private setStatus(state: RegistryState, error?: string, lastSyncMs = this.current.lastSyncMs): void {
    const next = nextStatus(this.current, state, error, lastSyncMs);
    if (!next) return;
    this.current = next;
    this.o.onStatus?.(next);
  }
}
