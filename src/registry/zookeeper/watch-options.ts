/** What the ZooKeeper watcher is given and what it reports (watch.ts). */
import type { Diagnostic } from '../../model/diagnostics.js';
import type { RegistryStatus, ZkTree } from '../../model/registry.js';
import type { ZkAddress } from './address.js';
import type { ZkLimits } from './limits.js';
import type { Timers } from './ops.js';
import type { ZkNodes } from './tree.js';

export interface ZkSnapshot {
  /** Every mirrored node; nodes whose data is not read (directories, Dubbo URL nodes) map to ''. */
  readonly tree: ZkTree;
  /** Nodes left unread because of a limit, one diagnostic each. */
  readonly diagnostics: readonly Diagnostic[];
}

export interface ZkWatchOptions {
  /** The registry as configured, for statuses and diagnostics. */
  readonly registry: string;
  readonly address: ZkAddress;
  /** Requested session timeout; the server bounds it (by default 2 to 20 ticks). */
  readonly sessionTimeoutMs?: number;
  readonly debounceMs?: number;
  /** Deadline for one read (requests queued while disconnected otherwise wait forever). */
  readonly readTimeoutMs?: number;
  /** At most this many reads in flight, so a large tree does not flood the server or the heap. */
  readonly concurrency?: number;
  /** After this long without a connection, `connecting` becomes `failing` (it keeps trying). */
  readonly connectTimeoutMs?: number;
  /** A client unconnected this long is replaced by a new one (default: twice the session timeout). */
  readonly freshClientMs?: number;
  /** Delay before a failed read of the tree is tried again while connected. */
  readonly retryMs?: number;
  readonly limits?: ZkLimits;
  /**
   * The providers' service definitions are read without watches (definition-sync.ts): again this
   * long after a read that found a mapped application without one, or changed something, the
   * delay doubling up to `definitionSettleMaxMs`; and every mapped interface's every
   * `definitionRescanMs` (0: never).
   */
  readonly definitionSettleMs?: number;
  readonly definitionSettleMaxMs?: number;
  readonly definitionRescanMs?: number;
  readonly timers?: Timers;
  readonly now?: () => number;
  /** A copy of the tree, sorted by path, at each change (debounced). */
  readonly onSnapshot?: (snapshot: ZkSnapshot) => void;
  /**
   * At the same moments: the mirror itself, read-only and valid only during the call (the next change
   * alters it), with the same diagnostics and the paths whose data or children changed since the
   * previous call (undefined the first time). No copy is made: what a parser that reads it at once
   * (ZkParser) needs at 100,000 nodes. Children arrays keep their identity while unchanged.
   */
  readonly onNodes?: (nodes: ZkNodes, diagnostics: readonly Diagnostic[], changed: ReadonlySet<string> | undefined) => void;
  readonly onStatus?: (status: RegistryStatus) => void;
}

export interface ZkWatch {
  status(): RegistryStatus;
  /** The current session while connected (its id and password), for diagnostics and tests. */
  session(): { readonly id: Buffer; readonly password: Buffer } | undefined;
  close(): void;
}
