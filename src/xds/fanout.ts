/**
 * Delivers the cache's change notifications to every open stream in chunks, yielding to the
 * event loop between chunks (setImmediate), instead of to all streams in one synchronous pass.
 *
 * Why: a synchronous pass over thousands of streams writes every response before any of them
 * reaches a socket and before any ACK is read. In chunks, the first proxies receive and ACK the
 * new version while later chunks are still being written, and the server keeps answering
 * requests (new connections, health checks) during a large push.
 *
 * Contracts:
 * - Every receiver registered when a change happens is notified of it, in registration order, and
 *   notifications reach each receiver in the order of the changes.
 * - Changes that arrive while a delivery is still under way are merged into ONE queued delivery
 *   (names unioned; for a name both changed and removed, the later event wins), so however fast
 *   changes come, at most two deliveries exist. The queued one is sent to the receivers registered
 *   when it starts, which may include streams opened after the change: harmless, see below.
 * - A receiver removed before its chunk is skipped.
 * - Notifications only name what to look at: state machines read the current content from the
 *   cache when they respond, so a late, merged or extra notification never sends an old version.
 */
import { foldChange, type CacheListener, type ResourceCache } from './cache.js';

export const DEFAULT_FANOUT_CHUNK = 500;

interface Job {
  /** Set when the delivery starts. */
  receivers: CacheListener[] | undefined;
  readonly changed: Set<string>;
  readonly removed: Set<string>;
  next: number;
}

export class FanOut {
  private readonly receivers = new Set<CacheListener>();
  /** [delivery under way, queued delivery]; never more than two. */
  private readonly jobs: Job[] = [];
  private scheduled = false;
  private readonly unsubscribe: () => void;

  constructor(
    cache: ResourceCache,
    private readonly chunk = DEFAULT_FANOUT_CHUNK,
    private readonly schedule: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {
    this.unsubscribe = cache.subscribe((changed, removed) => this.onChange(changed, removed));
  }

  /** Registers a receiver (a cache listener); returns its removal function. */
  add(receiver: CacheListener): () => void {
    this.receivers.add(receiver);
    return () => this.receivers.delete(receiver);
  }

  /** Deliveries not finished yet (0, 1 or 2). */
  get backlog(): number {
    return this.jobs.length;
  }

  close(): void {
    this.unsubscribe();
    this.jobs.length = 0;
    this.receivers.clear();
  }

  private onChange(changed: ReadonlySet<string>, removed: ReadonlySet<string>): void {
    if (this.receivers.size === 0) return;
    if (this.jobs.length === 0) {
      this.jobs.push({ receivers: [...this.receivers], changed: new Set(changed), removed: new Set(removed), next: 0 });
      this.run(); // the first chunk goes out at once; the rest after yielding
      return;
    }
    let queued = this.jobs[1];
    if (!queued) {
      queued = { receivers: undefined, changed: new Set(), removed: new Set(), next: 0 };
      this.jobs.push(queued);
    }
    foldChange(queued, changed, removed);
  }

  private run(): void {
    this.scheduled = false;
    let budget = this.chunk;
    while (budget > 0 && this.jobs.length > 0) {
      const job = this.jobs[0]!;
      const receivers = (job.receivers ??= [...this.receivers]);
      while (budget > 0 && job.next < receivers.length) {
        const r = receivers[job.next++]!;
        if (this.receivers.has(r)) r(job.changed, job.removed);
        budget--;
      }
      if (job.next >= receivers.length) this.jobs.shift();
    }
    if (this.jobs.length > 0 && !this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.run());
    }
  }
}
