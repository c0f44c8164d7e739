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
 * - Every receiver registered when a change happens gets exactly one call for it, in registration
 *   order; notifications of successive changes reach each receiver in the order of the changes.
 * - A receiver removed before its chunk is skipped. A receiver added after the change does not get
 *   it (a new stream reads the cache's current content on its first request anyway).
 * - Notifications only name what to look at: state machines read the current content from the
 *   cache when they respond, so a late notification never sends an old version.
 */
import type { CacheListener, ResourceCache } from './cache.js';

export const DEFAULT_FANOUT_CHUNK = 500;

interface Job {
  readonly receivers: CacheListener[];
  readonly changed: ReadonlySet<string>;
  readonly removed: ReadonlySet<string>;
  next: number;
}

export class FanOut {
  private readonly receivers = new Set<CacheListener>();
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

  /** Changes whose delivery has not finished yet. */
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
    this.jobs.push({ receivers: [...this.receivers], changed, removed, next: 0 });
    // The first chunk goes out at once; the rest after yielding.
    if (this.jobs.length === 1) this.run();
  }

  private run(): void {
    this.scheduled = false;
    let budget = this.chunk;
    while (budget > 0 && this.jobs.length > 0) {
      const job = this.jobs[0]!;
      while (budget > 0 && job.next < job.receivers.length) {
        const r = job.receivers[job.next++]!;
        if (this.receivers.has(r)) r(job.changed, job.removed);
        budget--;
      }
      if (job.next >= job.receivers.length) this.jobs.shift();
    }
    if (this.jobs.length > 0 && !this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.run());
    }
  }
}
